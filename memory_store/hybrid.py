"""Hybrid retrieval for text queries: dense (the full Generative-Agents score), lexical (BM25)
and graph lists fused by weighted reciprocal-rank fusion, with time phrases read from the query.

Lists, each cut at ``fusion_depth``:
  dense    :func:`retrieval.search_rows` under the caller's filters (plus the same search inside
           the time window the query names, when it names one);
  lexical  BM25 over the same rows (:mod:`memory_store.lexical`), time phrase removed;
  graph    for each entity or person the query names (matched against the knowledge graph's
           entity nodes and viewer logins): the memories that name the entity, and the best
           dense matches among the memories of the viewers linked to it (``mentions`` edges);
  asker    the asking viewer's own best dense matches (an unfiltered question from a viewer is
           most often about what that viewer said).
A hit's ``fusion`` is sum_l w_l * (rrf_k + 1) / (rrf_k + rank_l); hits inside the time window
come first. Every hit keeps relevance/recency/importance and adds dense/lexical/graph/fusion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from memory_store.config import MemoryConfig
from memory_store.decay import retention
from memory_store.graph import KnowledgeGraph, entity_node, viewer_node
from memory_store.lexical import LexicalIndex, entity_term, tokenize
from memory_store.retrieval import Filters, PriorCache, _cosine, _mask, search_rows
from memory_store.table import MemoryTable
from memory_store.timeparse import TimeQuery, last_stream_window, parse_time
from memory_store.vector_index import VectorIndex

_WORDS = re.compile(r"[a-z0-9][a-z0-9'_-]*")


@dataclass(slots=True)
class Fused:
    rows: np.ndarray
    score: np.ndarray  # what the list is sorted by: fusion (dense score for vector-only search)
    relevance: np.ndarray
    recency: np.ndarray
    importance: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    graph: np.ndarray
    fusion: np.ndarray
    time: TimeQuery


@dataclass(slots=True)
class HybridParts:
    """The store's pieces hybrid search reads (all guarded by the store's lock)."""

    table: MemoryTable
    index: VectorIndex
    lexical: LexicalIndex
    graph: KnowledgeGraph
    prior: PriorCache
    dense_prior: PriorCache  # the same bound under the hybrid prior weights
    cfg: MemoryConfig
    viewers_named: Callable[[str], list[str]]
    groups: dict[int, list[int]] = field(default_factory=dict)  # consolidated id -> originals


def query_names(text: str, graph: KnowledgeGraph, viewers_named: Callable[[str], list[str]],
                extra: list[str] = ()) -> tuple[list[str], list[str]]:
    """(entity names, viewer keys) the query mentions: word 1-3-grams that are entity nodes of
    the graph or logins of known viewers, plus ``extra`` entity names found by the extractor."""
    words = _WORDS.findall(text.lower())
    ents: list[str] = []
    viewers: list[str] = []
    for e in extra:
        if entity_node(e) in graph.g and e not in ents:
            ents.append(e)
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            gram = " ".join(words[i: i + n]).strip("'")
            if len(gram) < 3:
                continue
            if entity_node(gram) in graph.g and gram not in ents:
                ents.append(gram)
            if n == 1:
                for v in viewers_named(gram.removesuffix("'s")):
                    if v not in viewers:
                        viewers.append(v)
    return ents, viewers


def _linked_viewers(graph: KnowledgeGraph, name: str, top: int = 3) -> list[tuple[str, float]]:
    node = entity_node(name)
    if node not in graph.g:
        return []
    w: dict[str, float] = {}
    for u, _, kind, d in graph.g.in_edges(node, keys=True, data=True):
        if kind == "mentions" and u.startswith("viewer:"):
            w[u[len("viewer:"):]] = w.get(u[len("viewer:"):], 0.0) + float(d.get("weight", 1.0))
    best = sorted(w.items(), key=lambda kv: -kv[1])[:top]
    if not best:
        return []
    mx = best[0][1]
    return [(v, x / mx) for v, x in best]


def _window(parts: HybridParts, tq: TimeQuery, f: Filters, now: float) -> tuple[float, float] | None:
    if tq.last_stream:
        t = parts.table
        n = t.size
        m = t.alive[:n].copy()
        if f.channel is not None:
            m &= t.channel[:n] == t.channels.find(f.channel)
        return last_stream_window(t.ts[:n][m], now)
    if tq.since is None and tq.until is None:
        return None
    return (tq.since if tq.since is not None else -np.inf, tq.until if tq.until is not None else np.inf)


def hybrid_search(parts: HybridParts, qv: np.ndarray, text: str, f: Filters, k: int, now: float,
                  asker: str | None = None, entities: list[str] = ()) -> Fused:
    """The fused top ``k`` for a text query (see the module docstring)."""
    cfg, t = parts.cfg, parts.table
    depth = max(cfg.fusion_depth, k)
    tq = parse_time(text, now)
    lists: list[tuple[np.ndarray, float]] = []
    graph_w: dict[int, float] = {}
    # The dense lists rank by relevance plus the lighter hybrid prior (a copy of the config).
    dcfg = replace(cfg, w_recency=cfg.hybrid_w_recency, w_importance=cfg.hybrid_w_importance)
    dense = search_rows(t, parts.index, qv, f, depth, now, dcfg, parts.dense_prior)
    lists.append((dense.rows, cfg.w_dense))
    win = _window(parts, tq, f, now)
    if win is not None:
        since = win[0] if f.since is None else max(win[0], f.since)
        until = win[1] if f.until is None else min(win[1], f.until)
        fw = Filters(f.viewer, f.channel, f.tier, since, until)
        lists.append((search_rows(t, parts.index, qv, fw, depth, now, dcfg, parts.dense_prior).rows,
                      cfg.w_dense))
    lex_text = text.lower().replace(tq.phrase, " ") if tq.phrase else text
    allowed = None
    if f.any:
        allowed = _mask(t, f)
        if f.viewer is not None:
            vm = np.zeros(t.size, dtype=bool)
            vm[t.rows_of_viewer(f.viewer)] = True
            allowed &= vm
    lex = parts.lexical.search(tokenize(lex_text), depth, allowed, t.size)
    lists.append((lex.rows, cfg.w_lexical))
    lex_score = dict(zip(lex.rows.tolist(), lex.score.tolist()))
    ents, named = query_names(text, parts.graph, parts.viewers_named, list(entities))
    linked: dict[str, float] = {v: 1.0 for v in named}
    for e in ents[:4]:
        ent_rows = parts.lexical.search([entity_term(e)], depth, allowed, t.size).rows
        if len(ent_rows):
            lists.append((ent_rows, cfg.w_graph))
            for r in ent_rows.tolist():
                graph_w[r] = 1.0
        for v, w in _linked_viewers(parts.graph, e):
            linked[v] = max(linked.get(v, 0.0), w)
    if f.viewer is None:
        per_viewer = {v: (cfg.w_graph * w, w) for v, w in
                      sorted(linked.items(), key=lambda kv: -kv[1])[:4]}
        if asker and viewer_node(asker) in parts.graph.g:
            w0 = per_viewer.get(asker, (0.0, 0.0))
            per_viewer[asker] = (w0[0] + cfg.w_asker, w0[1])
        for v, (w_list, w_part) in per_viewer.items():
            fv = Filters(v, f.channel, f.tier, f.since, f.until)
            rows = search_rows(t, parts.index, qv, fv, depth, now, dcfg, parts.dense_prior).rows
            lists.append((rows, w_list))
            if w_part > 0:
                for r in rows.tolist():
                    graph_w[r] = max(graph_w.get(r, 0.0), w_part)
    union = np.unique(np.concatenate([r for r, _ in lists])) if lists else np.empty(0, np.int64)
    members: dict[int, list[int]] = {}  # a consolidated memory's row -> its originals' rows
    if parts.groups and len(union):
        for r, mid in zip(union.tolist(), t.mem_id[union].tolist()):
            if mid in parts.groups:
                members[r] = [t.row_of[m] for m in parts.groups[mid] if m in t.row_of]
        if members:
            union = np.unique(np.concatenate([union] + [np.asarray(v, dtype=np.int64) for v in members.values()]))
    if len(union) == 0:
        e = np.empty(0)
        return Fused(union.astype(np.int64), e, e, e, e, e, e, e, e, tq)
    pos = {r: i for i, r in enumerate(union.tolist())}
    fusion = np.zeros(len(union))
    for rows, w in lists:
        if w <= 0 or len(rows) == 0:
            continue
        idx = np.fromiter((pos[r] for r in rows.tolist()), dtype=np.int64, count=len(rows))
        fusion[idx] += w * (cfg.rrf_k + 1) / (cfg.rrf_k + np.arange(1, len(rows) + 1))
    rel = _cosine(t, union, np.asarray(qv, dtype=np.float32)).astype(np.float64)
    if members:
        # A consolidated memory lends its rank to its best-matching original and is not itself
        # a hit: search answers with what was said; the group stays visible in the inspector.
        for r, ms in members.items():
            i = pos.get(r)
            if i is None:
                continue
            if ms:
                best = max(ms, key=lambda m: rel[np.searchsorted(union, m)])
                j = int(np.searchsorted(union, best))
                fusion[j] = max(fusion[j], fusion[i])
            fusion[i] = -np.inf
    rec = retention(now - t.last_recall[union], t.stability[union], t.pinned[union])
    imp = t.importance[union].astype(np.float64)
    dscore = cfg.w_relevance * rel + cfg.w_recency * rec + cfg.w_importance * imp
    lexp = np.array([lex_score.get(r, 0.0) for r in union.tolist()])
    gp = np.array([graph_w.get(r, 0.0) for r in union.tolist()])
    inside = np.zeros(len(union), dtype=bool)
    if win is not None:
        ts = t.ts[union]
        inside = (ts >= win[0]) & (ts <= win[1])
    order = np.lexsort((-dscore, -fusion, ~inside))
    order = order[np.isfinite(fusion[order])]
    # A line repeated by many chatters ("big brain move") is one result, not ten.
    hashes = parts.lexical.texthash[t.mem_id[union[order]]]
    _, first = np.unique(hashes, return_index=True)
    order = order[np.sort(first)][:k]
    return Fused(union[order], fusion[order], rel[order], rec[order], imp[order], dscore[order],
                 lexp[order], gp[order], fusion[order], tq)
