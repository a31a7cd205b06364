"""Preparing bot text for a chat platform: normalise, run the guard, split to the length limit.

Every sending connector calls :func:`prepare_outgoing`, so the guard (the engine's toxicity
check on what the bot says) runs on exactly the text that will be posted.
"""
from __future__ import annotations

from companion.text import normalize_text

from .base import SendBlocked, SendGuard


def split_message(text: str, limit: int) -> list[str]:
    """Cut text into chunks of at most ``limit`` characters, at a space where possible."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def prepare_outgoing(text: str, *, limit: int, guard: SendGuard | None = None) -> list[str]:
    """Normalised chunks ready to post. Raises ValueError when nothing is left to send and
    :class:`SendBlocked` when ``guard`` returns a reason. The whole text is guarded, not each
    chunk, so splitting cannot hide a flagged phrase."""
    clean, _ = normalize_text(text, max_chars=max(len(text), 1))
    if not clean:
        raise ValueError("nothing to send")
    if guard is not None:
        reason = guard(clean)
        if reason:
            raise SendBlocked(reason)
    return split_message(clean, limit)
