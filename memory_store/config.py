"""Tunable settings of the memory store (every weight and threshold the issue asks to expose)."""
from __future__ import annotations

from dataclasses import dataclass

DAY = 86400.0


@dataclass(slots=True)
class MemoryConfig:
    """Settings for :class:`memory_store.MemoryStore`. Defaults are the measured/documented ones
    (see docs/BENCHMARKS.md, "Memory store")."""

    dim: int = 384

    # Short-term tier: a per-channel working buffer.
    short_term_size: int = 200  # messages kept per channel before the oldest is consolidated
    short_term_ttl_s: float = 1800.0  # unpromoted entries older than this are dropped

    # Consolidation score = importance * w_imp + tanh(access / access_scale) * w_access.
    consolidation_importance_weight: float = 0.6
    consolidation_access_weight: float = 0.4
    access_scale: float = 5.0
    # 0.18 = importance 0.3 with no recalls: a line with three content words ("tomatoes and
    # way too many courgettes") is kept; "lol gg" expires (benchmarks.long_conversation).
    promote_threshold: float = 0.18

    # Ebbinghaus decay R = exp(-t / S). S0 = base * (1 + gain * importance); S *= growth on recall.
    base_stability_s: float = DAY
    importance_stability_gain: float = 9.0
    recall_growth: float = 2.0
    prune_threshold: float = 0.01  # long-term memories with R * importance below this are pruned
    # ... but only trivial ones (importance below keep_importance, the promotion level) while the store is under
    # capacity: what a viewer said months ago must still be findable. Over capacity, the
    # lowest R * importance go first whatever their importance.
    keep_importance: float = 0.3
    long_term_capacity: int = 5_000_000

    # Retrieval score = w_rel * cosine + w_rec * R + w_imp * importance (Generative Agents).
    w_relevance: float = 1.0
    w_recency: float = 0.5
    w_importance: float = 0.5

    # Vector index: exact search below ivf_min_vectors, then IVF-SQ8 with exact re-ranking,
    # retrained when the store has grown enough for twice the lists (up to ivf_nlist).
    ivf_min_vectors: int = 10_000
    ivf_nlist: int = 1024
    ivf_nprobe: int = 32
    candidates: int = 100  # ANN candidates re-ranked with the full score (at least 10 * k)
    exact_filter_max: int = 5_000  # filters matching fewer rows than this are searched exactly
    prior_walk_max: int = 16_384  # most rows the ANN path adds for their recency/importance

    # Hybrid retrieval (text queries): weighted reciprocal-rank fusion of the dense (full score),
    # lexical (BM25) and graph (entities/people named in the query, and the asker) lists.
    # fusion = sum_l w_l * (rrf_k + 1) / (rrf_k + rank_l); chosen on the dev split of
    # ``python -m benchmarks.long_conversation --tune`` (see docs/BENCHMARKS.md).
    hybrid: bool = True
    rrf_k: float = 10.0
    w_dense: float = 1.0
    w_lexical: float = 1.0
    w_graph: float = 0.5
    w_asker: float = 1.0
    fusion_depth: int = 50  # candidates taken from each list
    # The dense list of a hybrid search ranks by relevance plus its own prior (dev chose recency
    # 0.5, one question ahead of 0.0/0.1; importance is lighter than plain search's).
    hybrid_w_recency: float = 0.5
    hybrid_w_importance: float = 0.1
    faiss_threads: int = 0  # 0 = leave FAISS's default

    # Episodes: a stream segment closes after a silence, on a topic or activity shift (once it
    # has episode_min_messages), on a mood shift, or at episode_max_s as a backstop.
    episode_gap_s: float = 300.0
    episode_max_s: float = 3600.0
    episode_min_messages: int = 30
    episode_rate_shift: float = 4.0  # recent message rate this many times above/below the segment's
    episode_mood_shift: float = 0.6
    episode_top_messages: int = 5

    # Durability.
    snapshot_every_s: float = 600.0
    snapshot_every_n: int = 100_000  # vectors added since the last index snapshot
    consolidate_every_s: float = 60.0
    lmdb_map_size: int = 1 << 36  # 64 GiB of address space; the file grows as needed
    lmdb_sync: bool = True  # fsync on commit: an acknowledged memory survives kill -9 and power loss

    # A viewer's line at this cosine (or with the same words) to one of their recent memories
    # merges into it (count, first/last seen, best wording) instead of adding a memory.
    merge_cosine: float = 0.95
    # Related memories of one viewer (cosine >= relate_cosine, relate_min..relate_max of them)
    # form one consolidated memory with an extractive summary; the originals stay, linked.
    relate_cosine: float = 0.75
    relate_min: int = 3
    relate_max: int = 8

    # Do not memorise text the analyser flagged as toxic (the profile still counts the message).
    skip_toxic: bool = True

    # A message the pipeline degraded under load is stored at once but embedded later
    # (:meth:`MemoryStore.backfill_vectors`, up to ``backfill_batch`` per calm batch): degrading
    # then sheds the encoder pass on the memory path too, not only in the analyser.
    defer_degraded_vectors: bool = True
    backfill_batch: int = 32
