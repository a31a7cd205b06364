"""What the character engine counts as spam: a viewer repeating themself, or copypasta from several
viewers. Detection itself is the shared :class:`companion.near_duplicates.NearDuplicateDetector`."""
from __future__ import annotations

from dataclasses import dataclass, field

from companion.near_duplicates import NearDuplicateDetector


@dataclass(slots=True)
class SpamVerdict:
    spam: bool
    reason: str = ""
    repeats: int = 0  # earlier near-duplicates from the same viewer in the window


@dataclass
class SpamTracker:
    """A message is spam when the same viewer sent a near-duplicate (Indel ratio >= ``similarity``)
    within ``window_s``, or when ``copypasta_count`` viewers sent near-identical text in the window.

    Short lines (under ``short_chars``: an emote, "gg", "true", "fr") are how a live chat reacts:
    the same emote from many viewers is a wave, not copypasta, and a viewer typing "LUL" again is
    not spamming. A short line is spam only from its ``short_repeats + 1``-th copy by the same
    viewer in the window, and its ``repeats`` then counts from 1, so moderation escalates from a
    delete as it does for a long line's second copy."""

    similarity: float = 0.9
    window_s: float = 60.0
    copypasta_count: int = 3
    short_chars: int = 20
    short_repeats: int = 4
    detector: NearDuplicateDetector = field(init=False)

    def __post_init__(self) -> None:
        self.detector = NearDuplicateDetector(window_s=self.window_s, similarity=self.similarity)

    def check(self, viewer: str, text: str, ts: float) -> SpamVerdict:
        """Judge one message and remember it."""
        seen = self.detector.observe(ts, viewer, text)
        short = len(text.strip()) < self.short_chars
        need = self.short_repeats if short else 1
        if seen.viewer_repeats >= need:
            return SpamVerdict(True, f"near-duplicate of {seen.viewer_repeats} earlier message(s) by the same viewer",
                               seen.viewer_repeats - need + 1)
        if not short and seen.cluster is not None and seen.cluster.viewers >= self.copypasta_count:
            return SpamVerdict(True, f"copypasta: {seen.cluster.viewers} viewers sent the same text")
        return SpamVerdict(False)
