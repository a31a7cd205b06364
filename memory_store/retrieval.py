"""Candidate selection and the Generative-Agents score: w_rel * cosine + w_rec * R + w_imp * imp.

Filters decide the path: a viewer filter (or any filter matching few rows) is searched exactly
over just those rows, which is both exact and fast; broad or no filters use the IVF index with a
row bitmap, over-fetching ``candidates`` rows by cosine and re-scoring them exactly.

Cosine candidates alone miss memories that win on recency and importance (the score's prior
half), so the ANN path also walks the rows in order of a cached upper bound of that prior
(:class:`PriorCache`, a threshold algorithm): it stops once no unseen row can beat the k-th
score, which makes the scored top k agree with exhaustive scoring.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memory_store.config import MemoryConfig
from memory_store.decay import retention
from memory_store.records import TIER_CODE
from memory_store.table import MemoryTable
from memory_store.vector_index import VectorIndex


@dataclass(slots=True)
class Filters:
    viewer: str | None = None
    channel: str | None = None
    tier: str | None = None
    since: float | None = None
    until: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.viewer, self.channel, self.tier, self.since, self.until))


@dataclass(slots=True)
class Scored:
    rows: np.ndarray
    score: np.ndarray
    relevance: np.ndarray
    recency: np.ndarray
    importance: np.ndarray
    path: str  # exact | ann


def _restrict(table: MemoryTable, rows: np.ndarray, f: Filters) -> np.ndarray:
    keep = table.alive[rows] & table.has_vec[rows]
    if f.channel is not None:
        keep &= table.channel[rows] == table.channels.find(f.channel)
    if f.tier is not None:
        keep &= table.tier[rows] == TIER_CODE[f.tier]
    if f.since is not None:
        keep &= table.ts[rows] >= f.since
    if f.until is not None:
        keep &= table.ts[rows] <= f.until
    return rows[keep]


def _mask(table: MemoryTable, f: Filters) -> np.ndarray:
    n = table.size
    m = table.alive[:n] & table.has_vec[:n]
    if f.channel is not None:
        m &= table.channel[:n] == table.channels.find(f.channel)
    if f.tier is not None:
        m &= table.tier[:n] == TIER_CODE[f.tier]
    if f.since is not None:
        m &= table.ts[:n] >= f.since
    if f.until is not None:
        m &= table.ts[:n] <= f.until
    return m


def _cosine(table: MemoryTable, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    # einsum, not BLAS: a threaded OpenBLAS matrix-vector product on busy cores costs ~10x more.
    if len(rows) > table.size // 4:
        return np.einsum("ij,j->i", table.vectors[: table.size], q)[rows]
    return np.einsum("ij,j->i", table.vectors[rows], q)


class PriorCache:
    """Rows sorted by their prior ``w_rec * R + w_imp * importance`` as of ``t0``. R only falls
    with time, so for an untouched row the cached value bounds its prior at any later ``now``;
    rows written since (new, reused, recalled) are ``touched`` and scored exactly instead."""

    def __init__(self, touched_max: int = 4096) -> None:
        self.touched_max = touched_max
        self.t0: float | None = None
        self.key: tuple = ()
        self.order = np.empty(0, dtype=np.int64)
        self.bound = np.empty(0)
        self.touched: set[int] = set()
        self._by_channel: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def touch(self, rows) -> None:
        if self.t0 is not None:
            self.touched.update(int(r) for r in rows)

    def ensure(self, table: MemoryTable, now: float, cfg: MemoryConfig) -> None:
        key = (cfg.w_recency, cfg.w_importance)
        if (self.t0 is not None and now >= self.t0 and key == self.key
                and len(self.touched) <= self.touched_max):
            return
        rows = table.searchable_rows()
        p = _prior(table, rows, now, cfg)
        o = np.argsort(-p, kind="stable")
        self.order, self.bound, self.t0, self.key = rows[o], p[o], now, key
        self.touched = set()
        self._by_channel = {}

    def for_channel(self, table: MemoryTable, code: int) -> tuple[np.ndarray, np.ndarray]:
        """(order, bound) restricted to one channel's rows, cached until the next refresh: a
        channel-filtered walk over the global order would test and drop most of what it reads."""
        hit = self._by_channel.get(code)
        if hit is None:
            keep = table.channel[self.order] == code
            hit = self._by_channel[code] = (self.order[keep], self.bound[keep])
        return hit


def _prior(table: MemoryTable, rows: np.ndarray, now: float, cfg: MemoryConfig) -> np.ndarray:
    rec = retention(now - table.last_recall[rows], table.stability[rows], table.pinned[rows])
    return cfg.w_recency * rec + cfg.w_importance * table.importance[rows].astype(np.float64)


def _walk_prior(table: MemoryTable, q: np.ndarray, rows: np.ndarray, mask: np.ndarray | None,
                k: int, now: float, cfg: MemoryConfig, prior: PriorCache,
                channel: str | None = None) -> np.ndarray:
    """Add to the ANN candidates ``rows`` every row that could still reach the top ``k``
    (``channel``: the filter names one, so only that channel's rows are walked)."""
    prior.ensure(table, now, cfg)
    n = table.size
    order, bound = prior.order, prior.bound
    if channel is not None:
        order, bound = prior.for_channel(table, table.channels.find(channel))

    def ok(r: np.ndarray) -> np.ndarray:
        r = r[r < n]
        keep = table.alive[r] & table.has_vec[r]
        if mask is not None:
            keep &= mask[r]
        return r[keep]

    pool = [rows]
    if prior.touched:
        pool.append(ok(np.fromiter(prior.touched, dtype=np.int64, count=len(prior.touched))))
    cand = np.concatenate(pool)
    if len(cand) == 0:
        return cand
    rel = _cosine(table, cand, q).astype(np.float64)
    score = cfg.w_relevance * rel + _prior(table, cand, now, cfg)
    # Rows outside the ANN list have a cosine at most the list's lowest (up to ANN error).
    rel_bound = cfg.w_relevance * float(rel[: len(rows)].min()) if len(rows) else 1.0
    # Blocks double (512 .. 8192 rows): under a filter most walked rows fail it, and a fixed small
    # block spent more on the per-block bookkeeping than on the cosines.
    pos, block, walked = 0, 512, 0
    while pos < len(order) and walked < cfg.prior_walk_max:
        kth = np.partition(score, len(score) - k)[len(score) - k] if len(score) >= k else -np.inf
        if kth >= rel_bound + bound[pos]:
            break
        step = min(block, cfg.prior_walk_max - walked)
        blk = ok(order[pos: pos + step])
        pos += step
        walked += step
        block = min(2 * block, 8192)
        if len(blk):
            s = cfg.w_relevance * _cosine(table, blk, q).astype(np.float64) + _prior(table, blk, now, cfg)
            cand = np.concatenate([cand, blk])
            score = np.concatenate([score, s])
    # Only the best few can make the top k: a row appears at most three times (ANN list, touched,
    # one block), always with the same score, so the top 4k entries hold k distinct rows. Handing
    # back every walked row made the caller gather and score tens of thousands of vectors again.
    if len(cand) > 4 * k:
        cand = cand[np.argpartition(-score, 4 * k - 1)[: 4 * k]]
    return np.unique(cand)


def search_rows(table: MemoryTable, index: VectorIndex, q: np.ndarray, f: Filters, k: int,
                now: float, cfg: MemoryConfig, prior: PriorCache | None = None) -> Scored:
    """The top ``k`` rows by full score, with every score part."""
    q = np.asarray(q, dtype=np.float32).reshape(-1)
    path = "exact"
    mask = None
    if f.viewer is not None:
        rows = _restrict(table, table.rows_of_viewer(f.viewer), f)
        if len(rows) > cfg.exact_filter_max and index.trained:
            # A very active viewer: gathering their vectors would cost more than IVF + bitmap.
            mask = np.zeros(table.size, dtype=bool)
            mask[rows] = True
            rows = index.search(q, max(cfg.candidates, 10 * k), allowed=mask)
            path = "ann"
    elif f.any:
        mask = _mask(table, f)
        n = int(mask.sum())
        if n <= cfg.exact_filter_max or not index.trained:
            rows = np.flatnonzero(mask)
        else:
            rows = index.search(q, max(cfg.candidates, 10 * k), allowed=mask)
            path = "ann"
    elif index.trained:
        rows = index.search(q, max(cfg.candidates, 10 * k))
        rows = rows[table.alive[rows] & table.has_vec[rows]]
        path = "ann"
    else:
        rows = table.searchable_rows()
    if path == "ann" and prior is not None:
        rows = _walk_prior(table, q, rows, mask, k, now, cfg, prior, f.channel if f.viewer is None else None)
    if len(rows) == 0:
        e = np.empty(0)
        return Scored(rows.astype(np.int64), e, e, e, e, path)
    rel = _cosine(table, rows, q).astype(np.float64)
    rec = retention(now - table.last_recall[rows], table.stability[rows], table.pinned[rows])
    imp = table.importance[rows].astype(np.float64)
    score = cfg.w_relevance * rel + cfg.w_recency * rec + cfg.w_importance * imp
    if len(rows) > k:
        top = np.argpartition(-score, k - 1)[:k]
    else:
        top = np.arange(len(rows))
    top = top[np.argsort(-score[top], kind="stable")]
    return Scored(rows[top], score[top], rel[top], rec[top], imp[top], path)
