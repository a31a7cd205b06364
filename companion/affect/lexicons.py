"""Lexicon sentiment components: VADER, emoji (Emoji Sentiment Ranking) and Twitch emotes.

Each scorer returns a score in -1..1 (``None`` when the message holds nothing it can score)
and the number of hits, so the ensemble can tell "neutral" from "absent".
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import emoji as emoji_pkg

from companion.affect.emote_morphology import EmoteReading

LEXICON_DIR = Path(__file__).parent / "lexicon"
ARTIFACT_LEXICON = Path(__file__).parent / "artifacts" / "emote_lexicon.json"  # built by emote_lexicon
_TOKEN = re.compile(r"\S+")


@dataclass(slots=True)
class LexiconScore:
    score: float | None
    hits: int
    arousal: float | None = None


class VaderScorer:
    """VADER compound score, with a cache since chat repeats itself."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._sia = SentimentIntensityAnalyzer()

    def __call__(self, text: str) -> LexiconScore:
        if not text.strip():
            return LexiconScore(None, 0)
        s = self._sia.polarity_scores(text[:2000])
        hits = int(s["pos"] > 0 or s["neg"] > 0)
        return LexiconScore(float(s["compound"]), hits)


class EmojiScorer:
    """Mean sentiment of the emoji in a text, from the Emoji Sentiment Ranking (Kralj Novak et al.).

    Per-emoji score = (positive - negative) / (occurrences + 3): the ranking's sentiment score,
    shrunk toward 0 for rare emoji. Emoji missing from the ranking are skipped.
    """

    def __init__(self, ranking_csv: Path | None) -> None:
        self.table: dict[str, float] = {}
        if ranking_csv is not None and ranking_csv.exists():
            with open(ranking_csv, encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    n, neg, pos = int(r["Occurrences"]), int(r["Negative"]), int(r["Positive"])
                    self.table[r["Emoji"]] = (pos - neg) / (n + 3)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.table, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> "EmojiScorer":
        s = cls(None)
        s.table = json.loads(path.read_text(encoding="utf-8"))
        return s

    def __call__(self, text: str) -> LexiconScore:
        if text.isascii():  # no emoji possible; most chat lines, and emoji_list is slow
            return LexiconScore(None, 0)
        vals = []
        for m in emoji_pkg.emoji_list(text):
            e = m["emoji"]
            v = self.table.get(e, self.table.get(e.replace("\ufe0f", "")))
            if v is not None:
                vals.append(v)
        if not vals:
            return LexiconScore(None, 0)
        return LexiconScore(sum(vals) / len(vals), len(vals))


class EmoteScorer:
    """Twitch/BTTV/FFZ/7TV emote valence: the shipped lexicon (``artifacts/emote_lexicon.json``,
    built by ``companion.affect.emote_lexicon``; the project's ``lexicon/twitch_emotes.json`` when it
    is absent) read through :class:`~companion.affect.emote_morphology.EmoteMorphology`, so channel
    emotes (``xqcL``, ``forsenE``) and family names (``monkaOMEGA``, ``OMEGAROLL``) resolve too.

    Emote names come from the IRC ``emotes`` tag spans when given (a span is an emote even when
    its name is unknown), else from whitespace tokens. A message's score is the weighted mean of
    its emotes' valences (``EmoteReading.weight``); ``hits`` counts every emote found.
    """

    def __init__(self, path: Path | None = None) -> None:
        from companion.affect.emote_morphology import EmoteMorphology

        if path is None:
            path = ARTIFACT_LEXICON if ARTIFACT_LEXICON.exists() else LEXICON_DIR / "twitch_emotes.json"
        self.path = path
        data = json.loads(path.read_text(encoding="utf-8"))
        exact: dict[str, tuple[float, float]] = {}
        folded: dict[str, tuple[float, float]] = {}
        for name, e in data["emotes"].items():
            exact[name] = (e["valence"], e["arousal"])
            if e["case_insensitive"]:
                folded[name.lower()] = (e["valence"], e["arousal"])
        self.morphology = EmoteMorphology(exact, folded, data["channel_emote_suffixes"])

    def reading(self, name: str, from_tag: bool = False) -> EmoteReading | None:
        """How one emote name reads (None: not an emote)."""
        return self.morphology.resolve(name, from_tag)

    def lookup(self, name: str, from_tag: bool = False) -> tuple[float, float] | None:
        """Valence/arousal for one emote name, or None (also None for an emote of unknown meaning)."""
        r = self.morphology.resolve(name, from_tag)
        return None if r is None or r.weight == 0 else (r.valence, r.arousal)

    def __call__(self, text: str, spans: list[tuple[int, int, str]] | None = None) -> LexiconScore:
        resolve = self.morphology.resolve
        if spans:
            # the displayed text is the emote's name; the tag's third field may be an id
            names = [text[s[0]:s[1] + 1] or (s[2] if len(s) > 2 else "") for s in spans]
            found = [resolve(n, True) for n in names]
            found += [resolve(t) for t in _TOKEN.findall(_blank_spans(text, spans))]
        else:
            found = [resolve(t) for t in _TOKEN.findall(text[:2000])]
        hits = [h for h in found if h is not None]
        if not hits:
            return LexiconScore(None, 0)
        w = sum(h.weight for h in hits)
        if w == 0:
            return LexiconScore(0.0, len(hits), 0.5)
        return LexiconScore(sum(h.valence * h.weight for h in hits) / w, len(hits),
                            sum(h.arousal * h.weight for h in hits) / w)


def _blank_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with the tag's emote spans replaced by spaces."""
    covered = set()
    for s in spans:
        covered.update(range(s[0], s[1] + 1))
    return "".join(" " if i in covered else c for i, c in enumerate(text))


def strip_emotes(text: str, scorer: EmoteScorer, spans: list[tuple[int, int, str]] | None = None) -> str:
    """Text without emotes (so VADER does not read 'Kappa', 'L' or 'xqcL' as words): the tag's
    spans, and every token the scorer reads as an emote."""
    if spans:
        text = _blank_spans(text, spans)
    resolve = scorer.morphology.resolve
    return " ".join(t for t in text.split() if resolve(t) is None)
