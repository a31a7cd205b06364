"""Bounded, least-recently-used maps and sets for state that grows with viewers.

A chat's audience is unbounded over a stream's lifetime; every per-viewer structure kept in RAM
must therefore have a cap. When one is full the entry touched longest ago goes, so the semantics
stay right for everyone seen recently: a viewer is "new" only when not seen among the last
``maxsize`` distinct viewers (a plain capped set would instead call *every* viewer new once full,
forever).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, Hashable, Iterable, Iterator, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING: Any = object()


class LruDict(OrderedDict, Generic[K, V]):
    """A dict holding at most ``maxsize`` items; reads and writes make an item the newest."""

    def __init__(self, maxsize: int, items: Iterable[tuple[K, V]] = ()) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        super().__init__()
        self.maxsize = maxsize
        self.evicted = 0
        for k, v in items:
            self[k] = v

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)
            self.evicted += 1

    def __getitem__(self, key: K) -> V:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def get(self, key: K, default: Any = None) -> Any:
        value = super().get(key, _MISSING)
        if value is _MISSING:
            return default
        self.move_to_end(key)
        return value

    def setdefault(self, key: K, default: Any = None) -> Any:
        if key in self:
            return self[key]
        self[key] = default
        return default

    def __reduce__(self):  # copy/deepcopy/pickle keep the cap
        return (self.__class__, (self.maxsize, list(OrderedDict.items(self))))


class LruSet(Generic[K]):
    """A set of at most ``maxsize`` members, the oldest-touched dropped first."""

    def __init__(self, maxsize: int, members: Iterable[K] = ()) -> None:
        self._d: LruDict[K, None] = LruDict(maxsize, ((m, None) for m in members))

    @property
    def maxsize(self) -> int:
        return self._d.maxsize

    def add(self, member: K) -> None:
        self._d[member] = None

    def touch(self, member: K) -> bool:
        """Add ``member`` (or make it newest); returns whether it was already there."""
        present = member in self._d
        self._d[member] = None
        return present

    def discard(self, member: K) -> None:
        self._d.pop(member, None)

    def __contains__(self, member: object) -> bool:
        return member in self._d

    def __len__(self) -> int:
        return len(self._d)

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)
