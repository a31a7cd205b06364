"""Related memories of one viewer become one consolidated memory.

During :meth:`MemoryStore.consolidate`, for each viewer with new memories: their long-term
message memories not yet in a group are clustered greedily by cosine (the memory with the most
neighbours at >= ``relate_cosine`` and those neighbours form a group; repeat). A group of at least
``relate_min`` memories gets a ``summary`` memory: an extractive summary (the group's most central
lines, in the order they were said, with when), the mean of their vectors, the union of their
topics and entities, ``summary_of`` listing the originals; each original keeps a ``summary_id``
link and stays searchable on its own.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from memory_store import decay
from memory_store.config import MemoryConfig
from memory_store.records import TIER_CODE, MemoryRecord
from memory_store.table import MemoryTable


@dataclass(slots=True)
class Group:
    members: list[MemoryRecord]
    vector: np.ndarray
    centrality: np.ndarray  # mean cosine of each member to the rest


def related_groups(table: MemoryTable, recs: list[MemoryRecord], cfg: MemoryConfig) -> list[Group]:
    """Greedy cosine groups among ``recs`` (one viewer's ungrouped long-term memories)."""
    rows = np.array([table.row_of[r.id] for r in recs], dtype=np.int64)
    if len(rows) < cfg.relate_min:
        return []
    v = table.vectors[rows]
    sim = v @ v.T
    np.fill_diagonal(sim, 0.0)
    free = np.ones(len(rows), dtype=bool)
    out: list[Group] = []
    while free.sum() >= cfg.relate_min:
        adj = (sim >= cfg.relate_cosine) & free[None, :] & free[:, None]
        deg = adj.sum(axis=1)
        seed = int(np.argmax(deg))
        if deg[seed] + 1 < cfg.relate_min:
            break
        idx = np.concatenate([[seed], np.flatnonzero(adj[seed])])[: cfg.relate_max]
        free[idx] = False
        sub = sim[np.ix_(idx, idx)]
        cent = sub.sum(axis=1) / max(len(idx) - 1, 1)
        mean = v[idx].mean(axis=0)
        out.append(Group([recs[i] for i in idx.tolist()], mean / max(np.linalg.norm(mean), 1e-9), cent))
    return out


def summary_record(group: Group, mem_id: int, now: float, cfg: MemoryConfig, lines: int = 3) -> MemoryRecord:
    """The consolidated memory of ``group`` (not yet stored)."""
    best = np.argsort(-group.centrality)[:lines]
    picked = sorted((group.members[i] for i in best.tolist()), key=lambda r: r.ts)
    first = group.members[0]
    span = (time.strftime("%Y-%m-%d", time.gmtime(min(r.ts for r in group.members))),
            time.strftime("%Y-%m-%d", time.gmtime(max(r.ts for r in group.members))))
    when = span[0] if span[0] == span[1] else f"{span[0]} to {span[1]}"
    text = (f"{first.user} said {len(group.members)} related things ({when}): "
            + " / ".join(r.text for r in picked))
    importance = max(r.importance for r in group.members)
    topics = list(dict.fromkeys(t for r in group.members for t in r.keywords))[:8]
    ents = list(dict.fromkeys(e for r in group.members for e in r.entities))[:8]
    return MemoryRecord(
        id=mem_id, text=text, viewer=first.viewer, user=first.user, channel=first.channel,
        platform=first.platform, ts=min(r.ts for r in group.members), tier="long_term",
        importance=round(importance, 4), stability=float(decay.initial_stability(importance, cfg)),
        last_recall=now, has_vec=True, kind="summary", keywords=topics, entities=ents,
        summary_of=[r.id for r in group.members], last_seen=max(r.ts for r in group.members),
        count=len(group.members))


def candidates(table: MemoryTable, viewer: str, limit: int = 200) -> list[int]:
    """Memory ids of ``viewer``'s newest long-term rows with vectors (grouping candidates)."""
    rows = table.rows_of_viewer(viewer)
    rows = rows[table.alive[rows] & table.has_vec[rows] & (table.tier[rows] == TIER_CODE["long_term"])]
    if len(rows) > limit:
        rows = rows[np.argpartition(-table.ts[rows], limit - 1)[:limit]]
    return table.mem_id[rows].tolist()
