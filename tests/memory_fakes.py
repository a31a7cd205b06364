"""Helpers for the memory-store tests: controlled unit vectors, events and a settable clock."""
from __future__ import annotations

import hashlib

import numpy as np

from companion.messages import ChatMessage, MessageKind
from companion.records import AnalysisRecord
from pipelines.event import Event

DIM = 384


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def unit(seed: int | str, dim: int = DIM) -> np.ndarray:
    """A deterministic random unit vector (strings are seeded through a stable hash)."""
    if isinstance(seed, str):
        seed = int(hashlib.blake2b(seed.encode(), digest_size=8).hexdigest(), 16)
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def near(v: np.ndarray, cos: float, seed: int = 0) -> np.ndarray:
    """A unit vector at cosine ``cos`` from ``v``."""
    o = np.random.default_rng(seed).standard_normal(len(v)).astype(np.float32)
    o -= o.dot(v) * v
    o /= np.linalg.norm(o)
    w = cos * v + np.sqrt(1 - cos * cos) * o
    return (w / np.linalg.norm(w)).astype(np.float32)


def event(text: str, user: str = "alice", ts: float = 1_700_000_000.0, channel: str = "chan",
          vec: np.ndarray | None = None, importance: float | None = None,
          sentiment: float | None = None, mid: str | None = None, platform: str = "twitch",
          user_id: str | None = None, kind: MessageKind = MessageKind.MESSAGE,
          reply_to_user: str | None = None, reply_to_id: str | None = None,
          toxic: bool = False) -> Event:
    msg = ChatMessage(text=text, platform=platform, channel=channel, user=user, user_id=user_id,
                      ts=ts, kind=kind, reply_to_user=reply_to_user, reply_to_id=reply_to_id)
    if mid:
        msg.id = mid
    rec = AnalysisRecord(id=msg.id, ts=ts, platform=platform, channel=channel, user=user, text=text)
    rec.memory.importance = importance
    rec.sentiment.score = sentiment
    rec.toxicity.flagged = toxic
    return Event(msg, rec, vec if vec is not None else unit(text + user))


class HashEmbed:
    """A deterministic stand-in encoder: each distinct text gets its own unit vector, and texts
    registered with ``alias`` map to a given vector (to make a query match a memory)."""

    def __init__(self) -> None:
        self.alias: dict[str, np.ndarray] = {}
        self.calls = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self.alias.get(t, unit(t)) for t in texts])
