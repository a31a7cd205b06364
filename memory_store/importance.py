"""A cheap importance estimate for messages the analyser did not score (or scored low).

The store uses max(analyser importance, this heuristic): self-disclosure ("I have a cat named
Mochi"), platform events and replies matter more than "lol gg".
"""
from __future__ import annotations

import re

from companion.messages import ChatMessage, MessageKind
from memory_store.lexical import STOPWORDS

_SELF = re.compile(r"\b(i|i'm|im|i've|ive|i'd|my|mine|me)\b", re.I)
# Statements about oneself: "I have a cat", "I'm from Lyon", "my sister ...", "I work as ...".
_DISCLOSE = re.compile(
    r"\b(?:my\s+\w+|i\s*(?:'m|am|was)\b|i\s*(?:'ve|have)?\s*(?:have|had|own|work|worked|live|lived|"
    r"play|drive|study|studying|learning|learned|been|grew|moved|was born|got|adopted|love|hate|"
    r"like|speak|use|collect|teach|build|make))", re.I)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
# Content words: not stop words or chat noise. A line with several of them says something
# ("she's a corgi mix, we named her Biscuit") even without "I"/"my", and is worth keeping.
_NOISE = frozenset("""lol lmao kekw pog pogchamp lul omegalul gg wp ez rip xd haha hahaha omg wtf
bro chat hype clip kappa monkas sadge copium pepehands catjam""".split())
_EVENT = {MessageKind.RAID: 0.85, MessageKind.SUBGIFT: 0.7, MessageKind.SUB: 0.6,
          MessageKind.RESUB: 0.6, MessageKind.BITS: 0.5, MessageKind.ANNOUNCEMENT: 0.5}


def heuristic_importance(msg: ChatMessage, sentiment: float | None = None) -> float:
    """0..1. Base 0.1; self-disclosure ("I have/I'm/my ...", 3+ words) +0.4, other first-person
    lines of 4+ words +0.25; lines with 3+ content words +0.2 (+0.1 on first-person lines);
    longer lines up to +0.15; replies/@mentions +0.1; strong sentiment +0.1; platform events
    have fixed floors."""
    if msg.kind in _EVENT:
        return max(_EVENT[msg.kind], min(1.0, 0.5 + msg.bits / 1000.0) if msg.bits else 0.0)
    words = _WORD.findall(msg.text)
    score = 0.1
    content = sum(1 for w in words if w.lower() not in STOPWORDS and w.lower() not in _NOISE)
    if len(words) >= 3 and _DISCLOSE.search(msg.text):
        score += 0.4
    elif len(words) >= 4 and _SELF.search(msg.text):
        score += 0.25 + (0.1 if content >= 3 else 0.0)
    elif content >= 3:
        score += 0.2
    score += min(len(words), 15) / 100.0
    if msg.reply_to_id or msg.mentions or "@" in msg.text:
        score += 0.1
    if sentiment is not None and abs(sentiment) >= 0.6:
        score += 0.1
    return round(min(score, 1.0), 4)
