"""RAM follows disk in :meth:`MemoryStore.remember`: what the batch changed in memory before its
LMDB transaction is put back when the transaction does not commit.

``remember`` updates profiles, the login map, the short-term buffers, the open episodes and the
id counters while it plans a batch, then commits everything in one LMDB transaction. If the commit
(or anything before it) raises, the RAM state must not run ahead of disk: the next batch would
reuse counters, profiles would count messages that were never stored. This context manager
records exactly the parts a batch can touch (its own viewers, logins and channels, not the whole
store) and puts them back unless the caller marked the batch committed. Profiles are not copied:
every profile change commits with the batch, so after a failure the batch's viewers are simply
dropped from the cache and read back from LMDB, which is what RAM-follows-disk means.
"""
from __future__ import annotations

import copy
import dataclasses
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
        self._viewers = viewers
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
        for viewer in self._viewers:
            s._profiles.pop(viewer, None)  # re-read from LMDB on next use
        _restore(s._logins, self._logins)
        _restore(s._short, self._short)
        _restore(s.episode_tracker.open, self._episodes)
        s._dirty_recall.clear()
        s._dirty_recall.update(self._dirty_recall)


def _copy(value: Any) -> Any:
    """A copy one level deep: the object and its containers (what the episode tracker mutates
    in place), not their elements (appended, never changed). Per batch this must stay cheap."""
    if value is _MISSING:
        return value
    if not dataclasses.is_dataclass(value):
        return copy.deepcopy(value)
    new = copy.copy(value)
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if isinstance(item, (list, dict, set, deque)):
            setattr(new, f.name, copy.copy(item))
    return new


def _restore(target: dict, saved: dict) -> None:
    for key, value in saved.items():
        if value is _MISSING:
            target.pop(key, None)
        else:
            target[key] = value
