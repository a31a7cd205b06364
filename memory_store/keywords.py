"""Offline topic and entity extraction for chat lines: YAKE keyphrases (statistical, no model
download) for topics; @mentions, #hashtags and capitalised names for entities."""
from __future__ import annotations

import re

import yake

# Emotes read as capitalised words; keep them out of the entity list.
_EMOTES = frozenset("""lul kekw pog pogchamp pogu kappa monkas pepehands pepelaugh omegalul
sadge copium catjam ez gg wp lol lmao rofl xd jebaited residentsleeper notlikethis biblethump
kreygasm trihard 4head feelsgoodman feelsbadman pepega widepeepohappy hypers ayaya""".split())
_STOP_ENTITY = frozenset("""i i'm im i've my me you we they he she it the a an and but so if oh
ok okay yes no yeah hey hi hello thanks thank what why how when where who this that chat""".split())
_MENTION = re.compile(r"@([A-Za-z0-9_]{2,25})")
_HASHTAG = re.compile(r"#([A-Za-z][A-Za-z0-9_]{1,30})")
_CAPWORD = re.compile(r"(?<![@#\w])([A-Z][a-z][A-Za-z'-]{1,24}(?:\s+[A-Z][a-z][A-Za-z'-]{1,24})*)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# YAKE's cost grows faster than the text (a 500-character copypasta cost ~40x a chat line); the
# topics of a long message are in its first sentences, so YAKE reads at most this much.
MAX_TOPIC_CHARS = 240
# Chat repeats itself: YAKE's phrases for recent texts are kept (bounded, oldest dropped first).
PHRASE_CACHE_SIZE = 4096


class KeywordExtractor:
    """Top keyphrases per message. Lines with fewer than ``min_words`` content words get none:
    "lol gg" has no topic."""

    def __init__(self, top: int = 3, max_ngram: int = 2, min_words: int = 3) -> None:
        self._yake = yake.KeywordExtractor(lan="en", n=max_ngram, top=top, dedupLim=0.7)
        self.min_words = min_words
        self._phrases: dict[str, list] = {}  # insertion-ordered: the first key is the oldest

    def topics(self, text: str, exclude: set[str] | None = None) -> list[str]:
        words = [w for w in _WORD.findall(text) if w.lower() not in _EMOTES]
        if len(words) < self.min_words:
            return []
        clean = _MENTION.sub(" ", text[:MAX_TOPIC_CHARS])
        pairs = self._phrases.get(clean)
        if pairs is None:
            try:
                pairs = self._yake.extract_keywords(clean)
            except (ValueError, ZeroDivisionError, IndexError):
                pairs = []
            self._phrases[clean] = pairs
            if len(self._phrases) > PHRASE_CACHE_SIZE:
                del self._phrases[next(iter(self._phrases))]
        out: list[str] = []
        for phrase, _ in pairs:
            p = phrase.lower().strip()
            toks = p.split()
            if (len(p) < 3 or any(t in _EMOTES for t in toks) or all(t in _STOP_ENTITY for t in toks)
                    or (exclude and p in exclude)):
                continue
            if p not in out:
                out.append(p)
        return out

    @staticmethod
    def mentions(text: str) -> list[str]:
        return [m.lower() for m in _MENTION.findall(text)]

    @staticmethod
    def entities(text: str) -> list[str]:
        found: list[str] = []
        for tag in _HASHTAG.findall(text):
            found.append(tag.lower())
        for m in _CAPWORD.finditer(text):
            name = m.group(1)
            first = name.split()[0].lower()
            if first in _STOP_ENTITY or first in _EMOTES:
                continue
            start = m.start()
            # The first word of a sentence is capitalised anyway; only count it when multi-word.
            at_sentence_start = start == 0 or text[:start].rstrip()[-1:] in {".", "!", "?"}
            if at_sentence_start and " " not in name:
                continue
            if name.lower() not in found:
                found.append(name.lower())
        return found
