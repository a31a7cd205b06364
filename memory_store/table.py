"""The in-RAM columnar view of every memory: vectors plus the fields that filtering and scoring
need, one row per memory, so a search scores candidates in a few vectorised numpy operations.

Rows are reused after deletion (short-term churn would otherwise grow the matrix forever); the
FAISS index is keyed by row. The table is rebuilt from LMDB on start, so it is never the source
of truth.
"""
from __future__ import annotations

import numpy as np

from memory_store.records import TIER_CODE, MemoryRecord

_COLS = {
    "mem_id": (np.int64, -1),
    "ts": (np.float64, 0.0),
    "importance": (np.float32, 0.0),
    "stability": (np.float64, 1.0),
    "last_recall": (np.float64, 0.0),
    "access": (np.int32, 0),
    "tier": (np.int8, -1),
    "viewer": (np.int32, -1),
    "channel": (np.int32, -1),
    "alive": (np.bool_, False),
    "pinned": (np.bool_, False),
    "has_vec": (np.bool_, False),
}


class Interner:
    """String <-> small int codes for the viewer and channel columns."""

    def __init__(self) -> None:
        self.code: dict[str, int] = {}
        self.names: list[str] = []

    def get(self, name: str) -> int:
        c = self.code.get(name)
        if c is None:
            c = self.code[name] = len(self.names)
            self.names.append(name)
        return c

    def find(self, name: str) -> int:
        return self.code.get(name, -1)


class MemoryTable:
    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self.size = 0  # rows ever used (high-water mark)
        self.vectors = np.zeros((capacity, dim), dtype=np.float32)
        self.cols: dict[str, np.ndarray] = {k: np.full(capacity, d, dtype=t) for k, (t, d) in _COLS.items()}
        self.row_of: dict[int, int] = {}
        self.free: list[int] = []
        self.viewers = Interner()
        self.channels = Interner()
        self.viewer_rows: dict[int, set[int]] = {}
        self._viewer_arrays: dict[int, np.ndarray] = {}  # cached sorted arrays of viewer_rows

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def count(self) -> int:
        return len(self.row_of)

    def _grow(self, need: int) -> None:
        cap = len(self.vectors)
        if need <= cap:
            return
        new = max(need, cap * 2)
        v = np.zeros((new, self.dim), dtype=np.float32)
        v[:cap] = self.vectors
        self.vectors = v
        for k, (t, d) in _COLS.items():
            c = np.full(new, d, dtype=t)
            c[:cap] = self.cols[k]
            self.cols[k] = c

    def allocate(self, n: int, prefer: list[int] | None = None) -> np.ndarray:
        """Reserve ``n`` rows: free rows first, then new ones at the end."""
        take = min(n, len(self.free))
        rows = [self.free.pop() for _ in range(take)]
        extra = n - take
        if extra:
            self._grow(self.size + extra)
            rows.extend(range(self.size, self.size + extra))
            self.size += extra
        return np.asarray(rows, dtype=np.int64)

    def claim(self, row: int) -> None:
        """Reserve a specific row (used when restoring the index snapshot's row layout)."""
        self._grow(row + 1)
        self.size = max(self.size, row + 1)

    def claim_rows(self, rows: np.ndarray) -> None:
        """Reserve specific rows at once (restoring the index snapshot's layout at start-up)."""
        if len(rows):
            self.claim(int(np.max(rows)))

    def set_rows(self, rows: np.ndarray, recs: list[MemoryRecord], vecs: np.ndarray | None) -> None:
        """Fill ``rows`` from ``recs``: one vectorised assignment per column (a million rows at
        start-up cost seconds when written one scalar at a time)."""
        c = self.cols
        rows = np.asarray(rows, dtype=np.int64)
        n = len(recs)
        viewers = np.fromiter((self.viewers.get(r.viewer) for r in recs), dtype=np.int32, count=n)
        c["mem_id"][rows] = np.fromiter((r.id for r in recs), dtype=np.int64, count=n)
        c["ts"][rows] = np.fromiter((r.ts for r in recs), dtype=np.float64, count=n)
        c["importance"][rows] = np.fromiter((r.importance for r in recs), dtype=np.float32, count=n)
        c["stability"][rows] = np.fromiter((r.stability for r in recs), dtype=np.float64, count=n)
        c["last_recall"][rows] = np.fromiter((r.last_recall for r in recs), dtype=np.float64, count=n)
        c["access"][rows] = np.fromiter((r.access for r in recs), dtype=np.int32, count=n)
        c["tier"][rows] = np.fromiter((TIER_CODE[r.tier] for r in recs), dtype=np.int8, count=n)
        c["viewer"][rows] = viewers
        c["channel"][rows] = np.fromiter((self.channels.get(r.channel) for r in recs), dtype=np.int32, count=n)
        c["alive"][rows] = True
        c["pinned"][rows] = np.fromiter((r.pinned for r in recs), dtype=np.bool_, count=n)
        c["has_vec"][rows] = np.fromiter((r.has_vec for r in recs), dtype=np.bool_, count=n)
        row_list = rows.tolist()
        self.row_of.update(zip((r.id for r in recs), row_list))
        for v, r in zip(viewers.tolist(), row_list):
            self.viewer_rows.setdefault(v, set()).add(r)
        for v in set(viewers.tolist()):
            self._viewer_arrays.pop(v, None)
        if vecs is not None:
            self.vectors[rows] = vecs

    def release(self, rows: list[int]) -> None:
        c = self.cols
        for r in rows:
            mid = int(c["mem_id"][r])
            self.row_of.pop(mid, None)
            v = int(c["viewer"][r])
            s = self.viewer_rows.get(v)
            if s is not None:
                s.discard(r)
                self._viewer_arrays.pop(v, None)
            c["alive"][r] = False
            c["has_vec"][r] = False
            c["mem_id"][r] = -1
            self.vectors[r] = 0.0
            self.free.append(r)

    def rows_of_viewer(self, viewer: str) -> np.ndarray:
        code = self.viewers.find(viewer)
        arr = self._viewer_arrays.get(code)
        if arr is None:
            s = self.viewer_rows.get(code)
            if not s:
                return np.empty(0, dtype=np.int64)
            arr = self._viewer_arrays[code] = np.sort(np.fromiter(s, dtype=np.int64, count=len(s)))
        return arr

    def searchable_rows(self) -> np.ndarray:
        n = self.size
        return np.flatnonzero(self.cols["alive"][:n] & self.cols["has_vec"][:n])
