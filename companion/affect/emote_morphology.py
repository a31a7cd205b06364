"""Emote morphology: the sentiment of an emote read from the shape of its name.

Twitch channel (subscriber) emotes are the streamer's lower-case prefix plus a capitalised code
(``forsenE``, ``moon2M``, ``xqcL``, ``woltOkay``): the code carries the meaning, the prefix only says
whose emote it is. Third-party (BTTV/FFZ/7TV) emotes come in families built on a stem (``pepe*``,
``peepo*``, ``monka*``, ``KEK*``, ``LUL*``, ``OMEGA*``, ``Feels*Man``) or a modifier (``*W``,
``*Clap``, ``*Hands``, ``*Sadge``, ``*Pls``, ``*ge``).

:class:`EmoteMorphology` is built from a lexicon of known emotes and learns from it
- a *code table*: the valence of each code seen after a stem or a channel prefix in a known emote
  (``peepoHappy`` and ``widepeepoHappy`` teach ``Happy``), overridden by the hand-set channel
  suffixes where they exist (``L`` is love on a channel emote);
- a *family prior* per stem: the mean valence of the lexicon's members of that family
  (``monka*`` is fear, so an unseen ``monkaROLL`` is read as mildly negative).
A code the table lacks is read as an English word through VADER's lexicon (``woltOkay`` ->
"okay"). Each reading has a weight: 1 for a lexicon entry, 0.8 for a code, 0.5 for a family prior
and 0 for a name that is an emote (its shape, or the IRC ``emotes`` tag, says so) but whose
meaning is unknown: it counts as an emote (so VADER does not read it as a word) without moving
the score.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Family stems: names built as stem + capitalised code. Their prior is learned from the lexicon.
STEMS = ("widepeepo", "peepo", "pepe", "pepo", "monka", "gachi", "forsen", "Pepe", "Peepo", "Pepo",
         "OMEGA", "MEGA", "KEK", "LUL", "Feels", "KKona", "Pog", "Weird", "HYPER", "Kanna", "Kermit",
         "AYAYA", "Kappa", "cat", "Cat", "dank", "nep", "sad", "Sad", "Wide", "wide")
# Suffix modifiers. ``None``: the modifier only intensifies or animates, the base carries the
# valence (KEKW, EZClap, catPls, Madge); a number: the modifier's own valence (-1..1), averaged
# with the base's (PepeHands: sad hands), or used alone when the base is unknown.
MODIFIERS: dict[str, float | None] = {
    "W": None, "Clap": None, "Pls": None, "ge": None, "Champ": None, "Man": None, "HD": None,
    "Hands": -0.7, "Sadge": -0.8, "Sad": -0.7, "Cry": -0.6, "Laugh": 0.6, "Dance": 0.6, "Happy": 0.8,
    "Love": 0.8, "Hug": 0.7, "Rage": -0.7, "Mad": -0.6,
}
# A channel emote: a 2-12 character lower-case/digit prefix, then an upper-case code.
_CHANNEL = re.compile(r"^([a-z][a-z0-9]{1,11})([A-Z][A-Za-z0-9]*)$")
_PIECES = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_EDGE_PUNCT = ".,!?:;\"'()"
W_LEXICON, W_CODE, W_FAMILY, W_UNKNOWN = 1.0, 0.8, 0.5, 0.0


@dataclass(frozen=True, slots=True)
class EmoteReading:
    """How one emote name was read: valence -1..1, arousal 0..1, the weight its valence gets in a
    message's mean, and which rule produced it."""

    valence: float
    arousal: float
    weight: float
    source: str  # lexicon | code | family | modifier | unknown


@lru_cache(maxsize=1)
def _vader_words() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return {w: max(-1.0, min(1.0, v / 4.0)) for w, v in SentimentIntensityAnalyzer().lexicon.items()}


def _stem_split(name: str) -> tuple[str, str] | None:
    """(stem, code) when ``name`` is a known family stem followed by a capitalised code."""
    for stem in sorted(STEMS, key=len, reverse=True):
        if name.startswith(stem) and len(name) > len(stem) and (name[len(stem)].isupper() or name[len(stem)].isdigit()):
            return stem, name[len(stem):]
    return None


def _squash(name: str) -> str:
    """Elongation folded to two letters (``NOOOOO`` -> ``NOO``, ``HUHHH`` -> ``HUHH``)."""
    return re.sub(r"(.)\1{2,}", r"\1\1", name)


class EmoteMorphology:
    """Resolve emote names, known or not, against a lexicon (see the module docstring)."""

    def __init__(self, exact: dict[str, tuple[float, float]], folded: dict[str, tuple[float, float]],
                 suffixes: dict[str, float]) -> None:
        self.exact, self.folded = exact, folded
        codes: dict[str, list[float]] = {}
        family: dict[str, list[float]] = {}
        for name, (v, _a) in exact.items():
            split = _stem_split(name)
            if split is None:
                m = _CHANNEL.match(name)
                split = (m.group(1), m.group(2)) if m else None
            if split is not None:
                codes.setdefault(split[1], []).append(v)
                if split[0] in STEMS:
                    family.setdefault(split[0], []).append(v)
        self.codes = {c: sum(vs) / len(vs) for c, vs in codes.items()}
        # the hand-set channel suffixes (lexicon README) say what a code means on a channel emote
        # (xqcL is love, while the lexicon's pepeL is a loss), so they take precedence
        self.codes.update(suffixes)
        self.family = {s: sum(vs) / len(vs) for s, vs in family.items() if len(vs) >= 2}
        self._cache: dict[tuple[str, bool], EmoteReading | None] = {}

    def known(self, name: str) -> tuple[float, float] | None:
        """A lexicon entry (exact spelling, or case-folded where the entry allows it)."""
        return self.exact.get(name) or self.folded.get(name.lower())

    def code(self, code: str) -> float | None:
        """The valence of a code: the code table, the code as an emote, the code as an English word,
        or its last CamelCase piece as any of those."""
        for c in (code, _squash(code)):
            if c in self.codes:
                return self.codes[c]
            hit = self.known(c)
            if hit is not None:
                return hit[0]
            if c.lower() in _vader_words():
                return _vader_words()[c.lower()]
        pieces = _PIECES.findall(code)
        if len(pieces) > 1:
            return self.code(pieces[-1])
        return None

    def resolve(self, name: str, from_tag: bool = False) -> EmoteReading | None:
        """The reading of one token (None: not an emote). ``from_tag``: the IRC ``emotes`` tag
        marks it as an emote, so an unreadable name still counts (weight 0)."""
        key = (name, from_tag)
        if key in self._cache:
            return self._cache[key]
        if len(self._cache) > 100_000:  # chat repeats itself, but names are unbounded
            self._cache.clear()
        out = self._resolve(name.strip(_EDGE_PUNCT) or name, from_tag, depth=0)
        self._cache[key] = out
        return out

    def _resolve(self, name: str, from_tag: bool, depth: int) -> EmoteReading | None:
        for n in dict.fromkeys((name, _squash(name))):
            hit = self.known(n)
            if hit is not None:
                return EmoteReading(hit[0], hit[1], W_LEXICON, "lexicon")
        if len(name) < 2 or depth > 2:
            return EmoteReading(0.0, 0.5, W_UNKNOWN, "unknown") if from_tag else None
        # base + modifier (KEKW, EZClap, PepeHands, Madge)
        for mod in sorted(MODIFIERS, key=len, reverse=True):
            base = name[:-len(mod)]
            if name.endswith(mod) and len(base) >= 2:
                b = self._resolve(base, False, depth + 1)
                mv = MODIFIERS[mod]
                if b is not None and b.weight > 0:
                    v = b.valence if mv is None else (b.valence + mv) / 2
                    return EmoteReading(v, b.arousal, min(b.weight, W_CODE), "modifier")
        # family stem + code (peepoDJ, monkaOMEGA, OMEGAROLL), then channel prefix + code (xqcL)
        split = _stem_split(name)
        chan = _CHANNEL.match(name)
        if split is None and chan:
            split = (chan.group(1), chan.group(2))
        if split is not None:
            v = self.code(split[1])
            if v is not None:
                return EmoteReading(v, 0.5, W_CODE, "code")
            if split[0] in self.family:
                return EmoteReading(self.family[split[0]], 0.5, W_FAMILY, "family")
            if chan or from_tag:
                return EmoteReading(0.0, 0.5, W_UNKNOWN, "unknown")
        for mod, mv in MODIFIERS.items():  # an unknown base with a valenced modifier (BabbleCry)
            if mv is not None and name.endswith(mod) and len(name) > len(mod) and name[-len(mod) - 1].islower():
                return EmoteReading(mv, 0.5, W_FAMILY, "modifier")
        if from_tag:
            v = self.code(name)
            return EmoteReading(v, 0.5, W_CODE, "code") if v is not None else EmoteReading(0.0, 0.5, W_UNKNOWN, "unknown")
        return None
