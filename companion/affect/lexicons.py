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

LEXICON_DIR = Path(__file__).parent / "lexicon"
_TOKEN = re.compile(r"\S+")
# A channel (subscriber) emote: lower-case/digit prefix then a capitalised suffix, e.g. xqcL, moon2LUL.
_CHANNEL_EMOTE = re.compile(r"^[a-z][a-z0-9]{2,9}([A-Z][A-Za-z0-9]*)$")


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
    """Twitch/BTTV/FFZ/7TV emote valence from the project lexicon (``lexicon/twitch_emotes.json``).

    Emote names come from the IRC ``emotes`` tag spans when given, else from whitespace tokens.
    Unknown channel emotes (``xqcL``, ``moon2LUL``) are scored from their suffix.
    """

    def __init__(self, path: Path = LEXICON_DIR / "twitch_emotes.json") -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.exact: dict[str, tuple[float, float]] = {}
        self.folded: dict[str, tuple[float, float]] = {}
        for name, e in data["emotes"].items():
            self.exact[name] = (e["valence"], e["arousal"])
            if e["case_insensitive"]:
                self.folded[name.lower()] = (e["valence"], e["arousal"])
        self.suffixes: dict[str, float] = data["channel_emote_suffixes"]

    def lookup(self, name: str, from_tag: bool = False) -> tuple[float, float] | None:
        """Valence/arousal for one emote name, or None."""
        hit = self.exact.get(name) or self.folded.get(name.lower())
        if hit is None:
            word = name.strip(".,!?")
            hit = self.exact.get(word) or self.folded.get(word.lower())
        if hit is None:
            m = _CHANNEL_EMOTE.match(name)
            suffix = m.group(1) if m else (name if from_tag else None)
            if suffix is not None:
                if suffix in self.suffixes:
                    hit = (self.suffixes[suffix], 0.5)
                else:
                    hit = self.exact.get(suffix) or self.folded.get(suffix.lower())
        return hit

    def __call__(self, text: str, spans: list[tuple[int, int, str]] | None = None) -> LexiconScore:
        if spans:
            # the displayed text is the emote's name; the tag's third field may be an id
            names = [text[s[0]:s[1] + 1] or (s[2] if len(s) > 2 else "") for s in spans]
            hits = [h for h in (self.lookup(n, from_tag=True) for n in names) if h is not None]
            covered = set()
            for s in spans:
                covered.update(range(s[0], s[1] + 1))
            rest = "".join(" " if i in covered else c for i, c in enumerate(text))
            hits += [h for h in (self.lookup(t) for t in _TOKEN.findall(rest)) if h is not None]
        else:
            hits = [h for h in (self.lookup(t) for t in _TOKEN.findall(text[:2000])) if h is not None]
        if not hits:
            return LexiconScore(None, 0)
        return LexiconScore(sum(h[0] for h in hits) / len(hits), len(hits),
                            sum(h[1] for h in hits) / len(hits))


def strip_emotes(text: str, scorer: EmoteScorer) -> str:
    """Text without lexicon emote tokens (so VADER does not read 'Kappa' or 'L' as words)."""
    return " ".join(t for t in text.split() if scorer.lookup(t) is None)
