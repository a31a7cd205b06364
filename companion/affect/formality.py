"""Formality, a transparent heuristic (no labelled formality set is available to train on).

Score in 0..1, starting at 0.5 and moved by surface cues:
+ sentence-initial capital, final punctuation, polite/formal markers ("please", "would you",
  "regards", "thank you"), longer average word length;
- all-lowercase, slang/abbreviations (lol, u, gonna, pls, ...), emotes/emoji, repeated letters or
  punctuation, ALL-CAPS shouting.
"""
from __future__ import annotations

import re

_SLANG = frozenset("lol lmao lmfao rofl u ur gonna wanna gotta pls plz thx ty idk imo tbh omg wtf bruh "
                   "ya yeah yep nah kinda sorta dunno cuz coz btw af ngl fr hbu wyd".split())
_FORMAL = re.compile(r"\b(please|would you|could you|kindly|regards|thank you|sincerely|however|"
                     r"therefore|furthermore|apologi[sz]e|appreciate)\b", re.I)
_REPEAT = re.compile(r"(.)\1{2,}|[!?]{2,}")


def formality(text: str, n_emotes: int = 0, n_emoji: int = 0) -> float:
    """Heuristic formality of ``text`` in 0..1 (see module docstring)."""
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return 0.3 if (n_emotes or n_emoji) else 0.5
    s = 0.5
    stripped = text.strip()
    if stripped[:1].isupper():
        s += 0.1
    if stripped[-1:] in ".?!" and not _REPEAT.search(stripped[-3:]):
        s += 0.1
    if _FORMAL.search(text):
        s += 0.15
    avg = sum(map(len, words)) / len(words)
    s += max(-0.1, min(0.1, (avg - 4.2) * 0.05))
    lower = [w.lower() for w in words]
    s -= min(0.3, 0.1 * sum(w in _SLANG for w in lower))
    if text == text.lower() and len(words) > 2:
        s -= 0.1
    if len(words) > 2 and text == text.upper() and any(c.isalpha() for c in text):
        s -= 0.15
    if _REPEAT.search(text):
        s -= 0.1
    s -= min(0.2, 0.07 * (n_emotes + n_emoji))
    return float(max(0.0, min(1.0, s)))
