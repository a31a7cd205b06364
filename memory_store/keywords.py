"""Offline topic and entity extraction for chat lines: YAKE keyphrases (statistical, no model
download) for topics, with game titles first and reaction words ("insane", "bro", "love") never
a topic on their own; entities come from :mod:`memory_store.entities` (gazetteer, typos, naming
cues, proper-noun shape)."""
from __future__ import annotations

import re
import threading

import yake

from companion.near_duplicates import WaveCanon
from memory_store.entities import default_extractor

# Emotes read as capitalised words; keep them out of the entity list.
_EMOTES = frozenset("""lul kekw pog pogchamp pogu kappa monkas pepehands pepelaugh omegalul
sadge copium catjam ez gg wp lol lmao rofl xd jebaited residentsleeper notlikethis biblethump
kreygasm trihard 4head feelsgoodman feelsbadman pepega widepeepohappy hypers ayaya""".split())
_STOP_ENTITY = frozenset("""i i'm im i've my me you we they he she it the a an and but so if oh
ok okay yes no yeah hey hi hello thanks thank what why how when where who this that chat""".split())
# Reactions and intensifiers: a keyphrase made only of these (and stop words) is not a topic.
_WEAK = frozenset("""insane crazy good great nice cool amazing awesome wild best bad worst love hate like
beat bro bruh dude guys literally actually really honestly totally omg wow yes yeah fun funny hard
easy lit fire based cringe sick dope rock rocks epic clean huge big little lot lots today tonight
time thing things stuff way gonna wanna think know see look watch play playing stream""".split())
_NOISE_WORDS = frozenset("omg omfg wtf lol lmao ngl tbh fr bro bruh".split())
_MENTION = re.compile(r"@([A-Za-z0-9_]{2,25})")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# YAKE's cost grows faster than the text (a 500-character copypasta cost ~40x a chat line); the
# topics of a long message are in its first sentences, so YAKE reads at most this much.
MAX_TOPIC_CHARS = 240
# Chat repeats itself: YAKE's phrases for recent texts are kept (bounded, oldest dropped first).
PHRASE_CACHE_SIZE = 4096
_entity_cache: dict[str, list] = {}  # insertion-ordered: the first key is the oldest
_entity_lock = threading.Lock()
# A copypasta wave's members differ by a few characters: all of them reuse its first text's work.
_wave = WaveCanon()


def _extract(text: str) -> list:
    """``EntityExtractor.extract`` of the first :data:`MAX_TOPIC_CHARS` characters, cached per
    text (bounded): topics and entities both read it, and the extractor's n-gram and typo lookups
    cost a copypasta dozens of times what a chat line costs. Callers only read the list."""
    key = _wave(text)[:MAX_TOPIC_CHARS]
    with _entity_lock:
        ents = _entity_cache.get(key)
    if ents is None:
        ents = default_extractor().extract(key)
        with _entity_lock:
            _entity_cache[key] = ents
            if len(_entity_cache) > PHRASE_CACHE_SIZE:
                del _entity_cache[next(iter(_entity_cache))]
    return ents


class KeywordExtractor:
    """Top keyphrases per message. Lines with fewer than ``min_words`` content words get none:
    "lol gg" has no topic."""

    def __init__(self, top: int = 3, max_ngram: int = 2, min_words: int = 3) -> None:
        # Twice the candidates: the filters below drop reaction words and title fragments.
        self._yake = yake.KeywordExtractor(lan="en", n=max_ngram, top=2 * top, dedupLim=0.7)
        self.top = top
        self.min_words = min_words
        self._phrases: dict[str, list] = {}  # insertion-ordered: the first key is the oldest

    def topics(self, text: str, exclude: set[str] | None = None) -> list[str]:
        words = [w for w in _WORD.findall(text) if w.lower() not in _EMOTES]
        if len(words) < self.min_words:
            return []
        clean = _MENTION.sub(" ", _wave(text)[:MAX_TOPIC_CHARS])
        pairs = self._phrases.get(clean)
        if pairs is None:
            try:
                pairs = self._yake.extract_keywords(clean)
            except (ValueError, ZeroDivisionError, IndexError):
                pairs = []
            self._phrases[clean] = pairs
            if len(self._phrases) > PHRASE_CACHE_SIZE:
                del self._phrases[next(iter(self._phrases))]
        ents = _extract(text)
        titles = [e.name for e in ents if e.kind == "game"]
        out: list[str] = list(titles)
        # People and pets are entities, not topics ("mochi loves" is not a subject of talk).
        names = {w for e in ents if e.kind in ("name", "pet", "proper", "person") for w in e.name.split()}
        for phrase, _ in pairs:
            toks = [t for t in phrase.lower().split() if t not in _WEAK and t not in _NOISE_WORDS]
            p = " ".join(toks)
            if not toks or any(t in names for t in toks):
                continue
            if (len(p) < 3 or any(t in _EMOTES for t in toks) or all(t in _STOP_ENTITY for t in toks)
                    or all(t in _WEAK or t in _STOP_ENTITY for t in toks)
                    or any(p in o or set(toks) & set(o.split()) for o in titles)
                    or (exclude and p in exclude)):
                continue
            # Keep the longer of two nested phrases ("horror games" over "horror").
            if any(p in o for o in out):
                continue
            out = [o for o in out if o not in p or o in titles] + [p]
        return out[: len(titles) + self.top]

    @staticmethod
    def mentions(text: str) -> list[str]:
        return [m.lower() for m in _MENTION.findall(text)]

    @staticmethod
    def entities(text: str) -> list[str]:
        """Lower-cased names of the games, people, pets, places and products in ``text``."""
        return [e.name for e in _extract(text) if e.kind != "person"]  # EntityExtractor.names
