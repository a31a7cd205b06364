"""Near-duplicate merging: a viewer saying the same thing again (the same words, or a vector at
cosine >= ``merge_cosine``) updates the memory they already have instead of adding another one.
The merged memory keeps how often it was said (``count``), when first (``ts``) and last
(``last_seen``), the platform ids of every repeat (so CLEARMSG still finds it) and the best
wording: the version with the most content words, the first one on a tie.

A repeat restarts the memory's forgetting curve (last recall = now) and counts as an access (so a
line said often is promoted), but does not multiply its stability as a search recall does: a
chatter's catchphrase said fifty times must not outrank, months later, what was said once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memory_store.lexical import LexicalIndex, tokenize
from memory_store.records import TIER_CODE, MemoryRecord
from memory_store.table import MemoryTable

_MERGEABLE = (TIER_CODE["short_term"], TIER_CODE["long_term"])


@dataclass(slots=True)
class Repeat:
    """One message that repeats an existing memory (applied after the batch's LMDB commit)."""

    mem_id: int
    text: str
    vec: np.ndarray | None
    ts: float
    msg_id: str
    keywords: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)


def duplicate_of(table: MemoryTable, lexical: LexicalIndex, viewer: str, text: str,
                 vec: np.ndarray | None, cosine: float, recent: int = 256) -> int | None:
    """The memory id of ``viewer``'s near-duplicate of ``text`` among their ``recent`` newest
    short/long-term memories, or None."""
    rows = table.rows_of_viewer(viewer)
    if len(rows) == 0:
        return None
    rows = rows[table.alive[rows] & np.isin(table.tier[rows], _MERGEABLE)]
    if len(rows) > recent:
        rows = rows[np.argpartition(-table.ts[rows], recent - 1)[:recent]]
    if len(rows) == 0:
        return None
    mids = table.mem_id[rows]
    h = lexical.text_hash(text)
    same = np.flatnonzero(lexical.texthash[mids] == h)
    if len(same):
        return int(mids[same[0]])
    if vec is None:
        return None
    withv = table.has_vec[rows]
    if not withv.any():
        return None
    r = rows[withv]
    cos = np.einsum("ij,j->i", table.vectors[r], np.asarray(vec, dtype=np.float32))
    best = int(np.argmax(cos))
    return int(table.mem_id[r[best]]) if cos[best] >= cosine else None


def _content(text: str) -> int:
    return len(tokenize(text))


def merge_record(rec: MemoryRecord, rep: Repeat) -> bool:
    """Fold ``rep`` into ``rec``; True when the wording (and so the vector) changed."""
    rec.count += 1
    rec.last_seen = max(rec.last_seen or rec.ts, rep.ts)
    if rep.msg_id and rep.msg_id != rec.msg_id and rep.msg_id not in rec.merged_msg_ids:
        rec.merged_msg_ids.append(rep.msg_id)
    rec.keywords = list(dict.fromkeys(rec.keywords + rep.keywords))
    rec.entities = list(dict.fromkeys(rec.entities + rep.entities))
    if _content(rep.text) > _content(rec.text):
        rec.text = rep.text
        return True
    return False
