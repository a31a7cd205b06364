"""Near-duplicate (spam / copypasta) detection over a sliding time window."""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_REPEAT = re.compile(r"(.)\1{2,}")


def spam_key(text: str) -> str:
    """Lower-case, strip punctuation/space, squeeze runs of 3+ repeated characters to 2."""
    return _REPEAT.sub(r"\1\1", _NON_WORD.sub("", text.lower()))


@dataclass(slots=True)
class SpamVerdict:
    spam: bool
    reason: str = ""
    repeats: int = 0  # earlier near-duplicates from the same viewer in the window


@dataclass
class SpamTracker:
    """A message is spam when the same viewer sent a near-duplicate (ratio >= ``similarity``)
    within ``window_s``, or when ``copypasta_count`` viewers sent the same text in the window."""

    similarity: float = 0.9
    window_s: float = 60.0
    copypasta_count: int = 3
    _recent: deque = field(default_factory=deque)  # (ts, viewer, key)

    def check(self, viewer: str, text: str, ts: float) -> SpamVerdict:
        """Judge one message and remember it."""
        while self._recent and ts - self._recent[0][0] > self.window_s:
            self._recent.popleft()
        key = spam_key(text)
        verdict = SpamVerdict(spam=False)
        if key:
            same_viewer = 0
            same_text_viewers = set()
            for _, who, other in self._recent:
                if other == key:
                    same_text_viewers.add(who)
                if who == viewer and (other == key or SequenceMatcher(None, key, other).ratio() >= self.similarity):
                    same_viewer += 1
            if same_viewer:
                verdict = SpamVerdict(True, f"near-duplicate of {same_viewer} earlier message(s) by the same viewer", same_viewer)
            elif len(same_text_viewers | {viewer}) >= self.copypasta_count:
                verdict = SpamVerdict(True, f"copypasta: {len(same_text_viewers) + 1} viewers sent the same text")
        self._recent.append((ts, viewer, key))
        return verdict
