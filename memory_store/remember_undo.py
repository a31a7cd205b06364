"""RAM follows disk in :meth:`MemoryStore.remember`: what the batch changed in memory before its
LMDB transaction is put back when the transaction does not commit.

``remember`` updates profiles, the login map, the short-term buffers, the open episodes and the
id counters while it plans a batch, then commits everything in one LMDB transaction. If the commit
(or anything before it) raises, the RAM state must not run ahead of disk: the next batch would
reuse counters, profiles would count messages that were never stored. This context manager takes
a copy of exactly the parts a batch can touch (the profiles and episodes of its own viewers and
channels, not the whole store) and restores them unless the caller marked the batch committed.
"""
from __future__ import annotations

import copy
from collections import deque
from typing import Any

_MISSING = object()


class RememberUndo:
    """``with store._lock, RememberUndo(store, events) as undo: ...; undo.committed = True``."""

    def __init__(self, store: Any, events: list) -> None:
        self.store = store
        self.events = events
        self.committed = False

    def __enter__(self) -> "RememberUndo":
        s = self.store
        viewers = {ev.message.viewer_key for ev in self.events}
        channels = {ev.message.channel for ev in self.events}
        logins = {(ev.message.platform, ev.message.user.lower()) for ev in self.events}
        self._next_id, self._next_episode = s._next_id, s._next_episode
        self._profiles = {v: _copy(s._profiles.get(v, _MISSING)) for v in viewers}
        self._logins = {k: s._logins.get(k, _MISSING) for k in logins}
        self._short = {c: deque(s._short[c]) if c in s._short else _MISSING for c in channels}
        opened = s.episode_tracker.open
        self._episodes = {c: _copy(opened.get(c, _MISSING)) for c in channels}
        self._dirty_recall = set(s._dirty_recall)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or self.committed:
            return
        s = self.store
        s._next_id, s._next_episode = self._next_id, self._next_episode
        _restore(s._profiles, self._profiles)
        _restore(s._logins, self._logins)
        _restore(s._short, self._short)
        _restore(s.episode_tracker.open, self._episodes)
        s._dirty_recall.clear()
        s._dirty_recall.update(self._dirty_recall)


def _copy(value: Any) -> Any:
    return value if value is _MISSING else copy.deepcopy(value)


def _restore(target: dict, saved: dict) -> None:
    for key, value in saved.items():
        if value is _MISSING:
            target.pop(key, None)
        else:
            target[key] = value
