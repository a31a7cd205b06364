"""The memory store: tiers, decay, consolidation, retrieval, profiles, the knowledge graph,
durability and forgetting behind one thread-safe object.

Write order: every change commits to LMDB first (``sync=True``: fsync on commit), then the
in-RAM table, the FAISS index and the graph follow. ``remember`` returns only after its commit,
so an acknowledged memory survives a kill -9; on start the index snapshot is loaded and replayed
from LMDB (or rebuilt when it is missing or corrupt).

Degraded events (no embedding): the store calls ``embed`` for them when it has one; without an
encoder the memory is stored in LMDB without a vector (kept in its tier, counted in the profile
and graph) and cannot be found by vector search.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

import faiss
import numpy as np

from companion.lru import LruDict
from companion.messages import MessageKind
from memory_store import decay
from memory_store.config import MemoryConfig
from memory_store.consolidation import candidates, related_groups, summary_record
from memory_store.episodes import EpisodeTracker, finish, scrub_viewer
from memory_store.facts import extract_facts, fact_text
from memory_store.graph import KnowledgeGraph
from memory_store.importance import heuristic_importance
from memory_store.hybrid import HybridParts, hybrid_search
from memory_store.keywords import KeywordExtractor
from memory_store.lexical import NO_POSTINGS, LexicalIndex
from memory_store.merge import Repeat, duplicate_of, merge_record
from memory_store.profiles import observe as observe_profile
from memory_store.record_db import RecordDB
from memory_store.record_db import id_key as _key
from memory_store.records import (TIERS, Episode, ForgetReport, MemoryHit, MemoryRecord,
                                  ViewerProfile)
from memory_store.remember_undo import RememberUndo
from memory_store.retrieval import Filters, PriorCache, search_rows
from memory_store.table import MemoryTable
from memory_store.vector_index import VectorIndex

log = logging.getLogger(__name__)

PROFILE_CACHE = 50_000  # viewer profiles kept in RAM (the rest are read back from LMDB)
LOGIN_CACHE = 500_000  # (platform, login) -> viewer id, for resolving mentions

Embed = Callable[[list[str]], np.ndarray]


class MemoryStore:
    """See the module docstring. All public methods are synchronous and thread-safe; call them
    from a worker thread (``asyncio.to_thread``) inside the event loop."""

    def __init__(self, data_dir: Path | str, embed: Embed | None = None,
                 clock: Callable[[], float] = time.time, config: MemoryConfig | None = None) -> None:
        self.cfg = config or MemoryConfig()
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.embed = embed
        self.clock = clock
        self._lock = threading.RLock()
        if self.cfg.faiss_threads:
            faiss.omp_set_num_threads(self.cfg.faiss_threads)
        self.db = RecordDB(self.data_dir / "lmdb", self.cfg.lmdb_map_size, self.cfg.lmdb_sync)
        self.table = MemoryTable(self.cfg.dim)
        self.index = VectorIndex(self.cfg.dim, self.cfg.ivf_nlist, self.cfg.ivf_nprobe)
        self.keywords = KeywordExtractor()
        self.lexical = LexicalIndex()
        self.prior = PriorCache()
        self.dense_prior = PriorCache()  # the same, under the hybrid search's prior weights
        self._platforms: set[str] = set()
        self._dirty_viewers: set[str] = set()  # viewers with new memories to group (consolidate)
        self._groups: dict[int, list[int]] = {}  # consolidated memory id -> its originals
        self.episode_tracker = EpisodeTracker(self.cfg)
        self._short: dict[str, deque[int]] = {}
        # Bounded caches (issue 13: nothing grows with viewers): LMDB holds every profile; a
        # login evicted from the map resolves to its platform-scoped login key.
        self._profiles: LruDict[str, ViewerProfile] = LruDict(PROFILE_CACHE)
        self._logins: LruDict[tuple[str, str], str] = LruDict(LOGIN_CACHE)
        self._dirty_recall: set[int] = set()
        # Memories stored without a vector (degraded under load), oldest first; see backfill_vectors.
        self._vector_backlog: deque[int] = deque()
        self._closed = False
        self._stats_snapshot: dict[str, Any] | None = None
        self._open()
        now = self.clock()
        self._last_snapshot = now
        self._last_consolidate = now

    # ------------------------------------------------------------------ start-up and recovery
    def _open(self) -> None:
        started = time.perf_counter()
        self._next_id = int(self.db.get_meta("next_id", 1))
        self._next_episode = int(self.db.get_meta("next_episode", 1))
        recs = {r.id: r for r in self.db.iter_memories()}
        if recs:
            self._next_id = max(self._next_id, max(recs) + 1)
        row_ids = self.index.load(self.data_dir / "index")
        restored = 0
        if row_ids is not None:
            gone: list[int] = []
            keep_rows: list[int] = []
            keep: list[MemoryRecord] = []
            claimed: set[int] = set()
            for row, mid in enumerate(row_ids.tolist()):
                if mid < 0:
                    continue
                rec = recs.get(mid)
                if rec is None or not rec.has_vec or mid in claimed:
                    gone.append(row)
                    continue
                claimed.add(mid)
                keep_rows.append(row)
                keep.append(rec)
            # One batched fill of the snapshot's rows (row by row cost seconds at 1M).
            self.table.claim_rows(np.array(keep_rows, dtype=np.int64))
            self.table.set_rows(np.array(keep_rows, dtype=np.int64), keep, None)
            restored = len(keep_rows)
            self.index.remove(gone)
            self.table.free = [r for r in range(self.table.size) if not self.table.alive[r]][::-1]
        else:
            log.info("memory: no valid index snapshot; rebuilding from LMDB")
        rest = [r for mid, r in recs.items() if mid not in self.table.row_of]
        if rest:
            rows = self.table.allocate(len(rest))
            self.table.set_rows(rows, rest, None)
        # Vectors come from LMDB (the source of truth) for every row.
        items = sorted(self.table.row_of.items())
        if items:
            mids = [m for m, _ in items]
            rows = np.array([r for _, r in items], dtype=np.int64)
            self.table.vectors[rows] = self.db.get_vectors(mids, self.cfg.dim)
        # BM25 postings are rebuilt from the LMDB texts, like the vectors.
        for mid, row in items:
            rec = recs[mid]
            self.lexical.add(mid, row, rec.text, rec.entities, postings=rec.kind not in NO_POSTINGS)
            if rec.summary_of:
                self._groups[mid] = list(rec.summary_of)
        new_rows = np.array([self.table.row_of[r.id] for r in rest if r.has_vec], dtype=np.int64)
        if self.index.trained:
            self.index.add(new_rows, self.table.vectors[new_rows])
        self._maybe_train()
        for rec in sorted((r for r in recs.values() if r.tier == "short_term"), key=lambda r: r.id):
            self._short.setdefault(rec.channel, deque()).append(rec.id)
        self._vector_backlog.extend(sorted(m for m, r in recs.items() if not r.has_vec and r.text))
        for p in self.db.iter_profiles():
            self._logins[(p.platform, p.user.lower())] = p.viewer_id
            self._platforms.add(p.platform)
        self.graph = KnowledgeGraph.load(self.data_dir / "graph.json")
        replayed = 0
        for rec in self.db.iter_memories_after(self.graph.last_id):
            self._graph_observe(rec)
            replayed += 1
        self.graph.last_id = max(self.graph.last_id, self._next_id - 1)
        log.info("memory: opened %d memories (%d from the index snapshot, %d replayed into the "
                 "index, %d into the graph) in %.2fs", len(recs), restored, len(new_rows), replayed,
                 time.perf_counter() - started)
        self.recovery = {"memories": len(recs), "snapshot_rows": restored,
                         "replayed_vectors": int(len(new_rows)), "graph_replayed": replayed,
                         "snapshot_valid": row_ids is not None}

    def _maybe_train(self) -> None:
        """Switch from exact search to IVF once there are enough vectors, and retrain with more
        lists as the store grows (nlist ~ 4 * sqrt(n), capped at ``ivf_nlist``)."""
        n = self.table.count
        if n < self.cfg.ivf_min_vectors:
            return
        want = min(self.cfg.ivf_nlist, int(4 * np.sqrt(n)), n // 39)
        if self.index.trained and want < 2 * self.index.nlist:
            return
        rows = self.table.searchable_rows()
        if len(rows) < self.cfg.ivf_min_vectors:
            return
        rng = np.random.default_rng(0)
        cap = 40 * want  # FAISS asks for >= 39 points per list
        sample = rows if len(rows) <= cap else np.sort(rng.choice(rows, cap, replace=False))
        log.info("memory: training IVF-SQ8 with %d lists on %d of %d vectors", want, len(sample), len(rows))
        started = time.perf_counter()
        self.index.train(self.table.vectors[sample], nlist=want)
        self.index.add(rows, self.table.vectors[rows])
        self.index.train_seconds += time.perf_counter() - started

    # ------------------------------------------------------------------ remembering
    def remember(self, events: list) -> None:
        """Store a batch of analysed events (``pipelines.event.Event``). Sets
        ``record.memory.stored``/``.tier`` and ``record.social.relationship``; updates profiles,
        the graph and episodes. Returns after the LMDB commit."""
        if not events:
            return
        pre = self._embed_unlocked(events)
        with self._lock, RememberUndo(self, events) as undo:
            now = self.clock()
            new: list[MemoryRecord] = []
            vecs: list[np.ndarray | None] = []
            owners: list[Any] = []
            dirty_profiles: dict[str, ViewerProfile] = {}
            closed_eps: list[tuple[Any, str]] = []
            accessed: list[int] = []
            repeats: list[tuple[Repeat, Any]] = []  # near-duplicates merged into a memory
            unpin: list[int] = []  # fact memories a correction replaces
            deferred: set[int] = set()  # new memories whose vector backfill_vectors computes
            absent = self._prefetch_profiles(events)
            for ev in events:
                msg, rec = ev.message, ev.record
                text = (msg.text or "").strip()
                viewer = msg.viewer_key
                sentiment = (float(rec.sentiment.score) if rec.sentiment is not None
                             and rec.sentiment.score is not None else None)
                toxic = bool(rec.toxicity.flagged) if rec.toxicity is not None else False
                topics = self.keywords.topics(text) if msg.kind is MessageKind.MESSAGE else []
                entities = self.keywords.entities(text) if text else []
                talks = self._interaction_targets(msg, text)
                prof = self._profile(viewer, msg.user, msg.platform, absent)
                observe_profile(prof, msg.ts, msg.channel, sentiment, toxic, topics, msg.bits,
                                msg.kind in (MessageKind.SUB, MessageKind.RESUB))
                dirty_profiles[viewer] = prof
                if hasattr(ev, "viewer_messages"):
                    ev.viewer_messages = prof.message_count
                self._logins[(msg.platform, msg.user.lower())] = viewer
                self._platforms.add(msg.platform)
                rec.social.relationship = prof.relationship
                rec.memory.stored = False
                importance = max(rec.memory.importance or 0.0, heuristic_importance(msg, sentiment))
                rec.memory.importance = round(importance, 4)
                if msg.reply_to_id:
                    target = self.db.memory_id_for_message(msg.reply_to_id)
                    if target is not None:
                        accessed.append(target)
                storable = bool(text) and msg.kind is not MessageKind.SYSTEM and not (
                    toxic and self.cfg.skip_toxic)
                mem_id = None
                facts = extract_facts(text) if storable and msg.kind is MessageKind.MESSAGE else {}
                emb = ev.embedding if ev.embedding is not None else pre.get(id(ev))
                repeat = (self._repeat_of(viewer, text, ev, emb, topics, entities)
                          if storable and not facts and msg.kind is MessageKind.MESSAGE else None)
                if repeat is not None:
                    repeats.append((repeat, rec))
                    mem_id = repeat.mem_id
                elif storable:
                    if facts:
                        unpin += [prof.fact_ids[k] for k, v in facts.items()
                                  if k in prof.fact_ids and prof.facts.get(k) != v]
                        prof.facts.update(facts)
                        tier, pinned, importance = "core", True, max(importance, 0.9)
                    elif decay.consolidation_score(importance, 0, self.cfg) >= self.cfg.promote_threshold:
                        tier, pinned = "long_term", False
                    else:
                        tier, pinned = "short_term", False
                    mem_id = self._next_id
                    self._next_id += 1
                    new.append(MemoryRecord(
                        id=mem_id, text=text, viewer=viewer, user=msg.user, channel=msg.channel,
                        platform=msg.platform, ts=float(msg.ts), tier=tier,
                        importance=round(importance, 4),
                        stability=float(decay.initial_stability(importance, self.cfg)),
                        last_recall=now, pinned=pinned, msg_id=msg.id, kind=msg.kind.value,
                        sentiment=sentiment, keywords=topics, entities=entities, mentions=talks,
                        reply_to_user=msg.reply_to_user, fact_key=",".join(facts)))
                    prof.fact_ids.update({k: mem_id for k in facts})
                    vecs.append(self._checked_vector(emb, msg.id))
                    owners.append(rec)
                    if emb is None and self._deferred(ev):
                        deferred.add(mem_id)
                closed_eps += self.episode_tracker.observe(
                    msg.channel, float(msg.ts), viewer, msg.user, text if storable else "",
                    importance, sentiment, msg.kind.value, msg.bits, topics, mem_id)
            self._fill_missing_vectors(new, vecs, deferred)
            episodes = [self._episode_memory(ep, reason, now) for ep, reason in closed_eps]
            for ep, erec, evec in episodes:
                new.append(erec)
                vecs.append(evec)
            evict, promote = self._plan_short_term(new)
            with self.db.begin() as txn:
                for r, v in zip(new, vecs):
                    self.db.put_memory(txn, r, v)
                for ep, _, _ in episodes:
                    self.db.put_episode(txn, ep)
                for p in dirty_profiles.values():
                    self.db.put_profile(txn, p)
                self._bump_access(txn, accessed)
                merged = self._merge_in_txn(txn, repeats, now)
                self._unpin_in_txn(txn, unpin)
                self._apply_promotions(txn, promote)
                evicted_rows = self._delete_in_txn(txn, evict)
                self._flush_recall(txn)
                self.db.set_meta(txn, "next_id", self._next_id)
                self.db.set_meta(txn, "next_episode", self._next_episode)
            undo.committed = True
            # Committed: now the in-RAM views follow.
            self._release(evicted_rows)
            self._add_to_table(new, vecs)
            self._after_merge(merged, now)
            for r, owner in zip(new, owners):
                owner.memory.stored = True
                owner.memory.tier = r.tier
            for r in new:
                self._graph_observe(r)
            self._vector_backlog.extend(r.id for r in new if r.id in deferred and not r.has_vec)
            self.graph.last_id = self._next_id - 1
            self._maybe_maintain(now)

    @property
    def vector_backlog(self) -> int:
        """Memories waiting for a vector (stored while the pipeline was degraded)."""
        return len(self._vector_backlog)

    def backfill_vectors(self, max_n: int | None = None) -> int:
        """Embed up to ``max_n`` (default ``cfg.backfill_batch``) memories stored without a vector,
        oldest first, and add them to the vector index. The encoder runs outside the store's
        lock. Until then such a memory is found by its words (BM25) and the graph. Returns how
        many got a vector; an encoder failure leaves them queued."""
        if self.embed is None:
            return 0
        n = self.cfg.backfill_batch if max_n is None else max_n
        with self._lock:
            ids: list[int] = []
            while self._vector_backlog and len(ids) < n:
                mid = self._vector_backlog.popleft()
                row = self.table.row_of.get(mid)
                if row is not None and not self.table.has_vec[row]:
                    ids.append(mid)
            recs = [r for r in self.db.get_memories(ids) if r is not None and r.text]
        if not recs:
            return 0
        try:
            mat = np.asarray(self.embed([r.text for r in recs]), dtype=np.float32)
        except Exception:  # noqa: BLE001 - keep them for the next calm batch
            log.exception("memory: backfilling %d vectors failed", len(recs))
            with self._lock:
                self._vector_backlog.extendleft(reversed([r.id for r in recs]))
            return 0
        with self._lock:
            fresh = self.db.get_memories([r.id for r in recs])  # edits or deletes may have happened
            todo = []
            for rec, vec in zip(fresh, mat):
                row = self.table.row_of.get(rec.id) if rec is not None else None
                if row is None or self.table.has_vec[row] or not np.all(np.isfinite(vec)):
                    continue
                self._sync_from_table(rec)
                rec.has_vec = True
                todo.append((rec, row, vec))
            if not todo:
                return 0
            with self.db.begin() as txn:
                for rec, _, vec in todo:
                    self.db.put_memory(txn, rec, vec)
            rows = np.array([row for _, row, _ in todo], dtype=np.int64)
            vecs = np.stack([vec for _, _, vec in todo])
            self.table.vectors[rows] = vecs
            self.table.has_vec[rows] = True
            self.index.add(rows, vecs)
            self.prior.touch(rows)
            self.dense_prior.touch(rows)
            self._maybe_train()
        return len(todo)

    # ------------------------------------------------------------------ merging and facts
    def _repeat_of(self, viewer: str, text: str, ev, emb: np.ndarray | None, topics: list[str],
                   entities: list[str]) -> Repeat | None:
        """A :class:`Repeat` when ``viewer`` already has a near-duplicate of ``text``."""
        vec = self._checked_vector(emb, ev.message.id)
        mid = duplicate_of(self.table, self.lexical, viewer, text, vec, self.cfg.merge_cosine)
        if mid is None:
            return None
        return Repeat(mid, text, vec, float(ev.message.ts), ev.message.id, topics, entities)

    def _merge_in_txn(self, txn, repeats: list, now: float) -> list[tuple[MemoryRecord, Any, bool, Any]]:
        """Write each merged memory; returns (record, vector or None, wording changed, owner)."""
        out = []
        by_id: dict[int, MemoryRecord] = {}
        for rep_, owner in repeats:
            rec = by_id.get(rep_.mem_id)
            if rec is None:
                raw = txn.get(_key(rep_.mem_id), db=self.db.mem)
                if raw is None:
                    continue
                rec = by_id[rep_.mem_id] = MemoryRecord.from_json(raw)
                self._sync_from_table(rec)
            changed = merge_record(rec, rep_)
            rec.access += 1  # saying it again is a rehearsal
            rec.last_recall = now
            if rep_.msg_id:
                txn.put(rep_.msg_id.encode(), _key(rec.id), db=self.db.msg)
            vec = rep_.vec if changed and rep_.vec is not None else None
            self.db.put_memory(txn, rec, vec) if vec is not None else self.db.update_memory(txn, rec)
            out.append((rec, vec, changed, owner))
        return out

    def _after_merge(self, merged: list, now: float) -> None:
        t = self.table
        for rec, vec, changed, owner in merged:
            row = t.row_of.get(rec.id)
            if row is None:
                continue
            t.access[row] = rec.access
            t.last_recall[row] = now  # the curve restarts; stability does not compound per repeat
            self.prior.touch([row])
            self.dense_prior.touch([row])
            if changed:
                self.lexical.add(rec.id, row, rec.text, rec.entities)
                if vec is not None and t.has_vec[row]:
                    self.index.remove(np.array([row]))
                    t.vectors[row] = vec
                    self.index.add(np.array([row]), vec[None, :])
            owner.memory.stored = True
            owner.memory.tier = TIERS[int(t.tier[row])]

    def _unpin_in_txn(self, txn, mids: list[int]) -> None:
        """A corrected fact: its old memory stays (as long-term history) but is no longer core."""
        for rec in self.db.get_memories(mids) if mids else []:
            if rec is None:
                continue
            self._sync_from_table(rec)
            rec.pinned, rec.tier, rec.fact_key = False, "long_term", ""
            self.db.update_memory(txn, rec)
            row = self.table.row_of.get(rec.id)
            if row is not None:
                self.table.pinned[row] = False
                self.table.tier[row] = TIERS.index("long_term")
                self.prior.touch([row])
                self.dense_prior.touch([row])

    def _checked_vector(self, emb, msg_id: str) -> np.ndarray | None:
        """The event's embedding as float32, or None (then embedded again or kept without a
        vector) when it is missing or malformed: bad input never fails the whole batch."""
        if emb is None:
            return None
        v = np.asarray(emb, dtype=np.float32).reshape(-1)
        if v.shape != (self.cfg.dim,) or not np.all(np.isfinite(v)):
            log.warning("memory: message %s has a malformed embedding %s; re-embedding", msg_id, v.shape)
            return None
        return v

    def _interaction_targets(self, msg, text: str) -> list[str]:
        logins = list(msg.mentions) or self.keywords.mentions(text)
        if msg.reply_to_user:
            logins.append(msg.reply_to_user)
        out = []
        for login in logins:
            key = self._logins.get((msg.platform, login.lower()), f"{msg.platform}:{login.lower()}")
            if key != msg.viewer_key and key not in out:
                out.append(key)
        return out

    def _prefetch_profiles(self, events: list) -> set[str]:
        """Load the batch's uncached profiles in one read; returns the viewers LMDB has none for."""
        want = sorted(v for v in {ev.message.viewer_key for ev in events} if v not in self._profiles)
        if not want:
            return set()
        found = self.db.get_profiles(want)
        for viewer, prof in found.items():
            self._profiles[viewer] = prof
        return set(want) - found.keys()

    def _profile(self, viewer: str, user: str = "", platform: str = "",
                 absent: set[str] | frozenset = frozenset()) -> ViewerProfile:
        p = self._profiles.get(viewer)
        if p is None:
            stored = None if viewer in absent else self.db.get_profile(viewer)
            p = stored or ViewerProfile(viewer_id=viewer, user=user, platform=platform)
            self._profiles[viewer] = p
        if user:
            p.user = user
        return p

    def _embed_unlocked(self, events: list) -> dict[int, np.ndarray]:
        """Vectors for the events the analyser did not embed (degraded), keyed by ``id(event)`` and
        set on ``event.embedding``, computed before the store's lock is taken: readers (search, profiles, stats) must not
        wait on the encoder. A failure leaves them to :meth:`_fill_missing_vectors`."""
        todo = [ev for ev in events if ev.embedding is None and (ev.message.text or "").strip()
                and ev.message.kind is not MessageKind.SYSTEM and not self._deferred(ev)]
        if not todo or self.embed is None:
            return {}
        try:
            out = np.asarray(self.embed([ev.message.text.strip() for ev in todo]), dtype=np.float32)
        except Exception:  # noqa: BLE001 - retried under the lock, where a failure is logged
            return {}
        for j, ev in enumerate(todo):
            # Later stages (the character's recall and novelty) reuse it instead of re-encoding.
            ev.embedding = out[j]
        return {id(ev): out[j] for j, ev in enumerate(todo)}

    def _deferred(self, ev) -> bool:
        """Whether this event's vector waits for :meth:`backfill_vectors` (it was degraded)."""
        return self.cfg.defer_degraded_vectors and bool(getattr(ev.record, "degraded", False))

    def _fill_missing_vectors(self, recs: list[MemoryRecord], vecs: list, deferred: set[int] = frozenset()) -> None:
        missing = [i for i, v in enumerate(vecs) if v is None and recs[i].id not in deferred]
        if missing and self.embed is not None:
            try:
                out = np.asarray(self.embed([recs[i].text for i in missing]), dtype=np.float32)
                for j, i in enumerate(missing):
                    vecs[i] = out[j]
            except Exception:  # an encoder failure must not lose the memories themselves
                log.exception("memory: embedding degraded events failed; storing without vectors")
        for r, v in zip(recs, vecs):
            r.has_vec = v is not None

    def _episode_memory(self, ep_open, reason: str, now: float):
        ep = finish(ep_open, self._next_episode, reason)
        self._next_episode += 1
        mid = self._next_id
        self._next_id += 1
        ep.memory_id = mid
        importance = min(1.0, 0.4 + 0.1 * len(ep.events) + 0.02 * len(ep.participants))
        vec = None
        if self.embed is not None:
            try:
                vec = np.asarray(self.embed([ep.summary]), dtype=np.float32)[0]
            except Exception:
                log.exception("memory: embedding an episode summary failed")
        if vec is None and ep_open.top:
            tops = [m["id"] for m in ep_open.top if m["id"] in self.table.row_of]
            if tops:
                v = self.table.vectors[[self.table.row_of[m] for m in tops]].mean(axis=0)
                vec = v / max(np.linalg.norm(v), 1e-9)
        rec = MemoryRecord(id=mid, text=ep.summary, channel=ep.channel, ts=ep.start, tier="episodic",
                           importance=round(importance, 4),
                           stability=float(decay.initial_stability(importance, self.cfg)),
                           last_recall=now, has_vec=vec is not None, kind="episode",
                           keywords=ep.topics, episode=ep.id)
        return ep, rec, vec

    def _add_to_table(self, recs: list[MemoryRecord], vecs: list) -> None:
        if not recs:
            return
        rows = self.table.allocate(len(recs))
        mat = np.zeros((len(recs), self.cfg.dim), dtype=np.float32)
        for j, v in enumerate(vecs):
            if v is not None:
                mat[j] = v
        self.table.set_rows(rows, recs, mat)
        for r, row in zip(recs, rows.tolist()):
            self.lexical.add(r.id, row, r.text, r.entities, postings=r.kind not in NO_POSTINGS)
            if r.summary_of:
                self._groups[r.id] = list(r.summary_of)
        self.prior.touch(rows)
        self.dense_prior.touch(rows)
        self._dirty_viewers.update(r.viewer for r in recs if r.kind == "message" and r.viewer)
        has = np.array([r.has_vec for r in recs], dtype=bool)
        self.index.add(rows[has], mat[has])
        for r in recs:
            if r.tier == "short_term":
                self._short.setdefault(r.channel, deque()).append(r.id)
        self._maybe_train()

    def insert(self, recs: list[MemoryRecord], vectors: np.ndarray) -> list[int]:
        """Bulk insert of prepared memories (benchmarks, imports). Ids are assigned here;
        ``stability``/``last_recall`` default from importance and the clock when left at 0."""
        with self._lock:
            now = self.clock()
            for r in recs:
                r.id = self._next_id
                self._next_id += 1
                r.has_vec = True
                if not r.stability:
                    r.stability = float(decay.initial_stability(r.importance, self.cfg))
                if not r.last_recall:
                    r.last_recall = now
            vecs = np.asarray(vectors, dtype=np.float32)
            with self.db.begin() as txn:
                for r, v in zip(recs, vecs):
                    self.db.put_memory(txn, r, v)
                self.db.set_meta(txn, "next_id", self._next_id)
            self._add_to_table(recs, list(vecs))
            self.graph.last_id = self._next_id - 1
            self._maybe_maintain(now)
            return [r.id for r in recs]

    # ------------------------------------------------------------------ consolidation
    def _plan_short_term(self, new: list[MemoryRecord]) -> tuple[list[int], list[int]]:
        """Which short-term entries overflow their channel buffer with these new ones, split
        into (delete, promote) by consolidation score."""
        counts: dict[str, int] = {}
        for r in new:
            if r.tier == "short_term":
                counts[r.channel] = counts.get(r.channel, 0) + 1
        evict, promote = [], []
        for ch, n_new in counts.items():
            dq = self._short.get(ch, deque())
            live = [m for m in dq if m in self.table.row_of]
            over = max(len(live) + n_new - self.cfg.short_term_size, 0)
            for mid in live[:over]:
                (promote if self._consolidation(mid) >= self.cfg.promote_threshold else evict).append(mid)
            self._short[ch] = deque(live[over:])
        return evict, promote

    def _consolidation(self, mid: int) -> float:
        row = self.table.row_of[mid]
        return float(decay.consolidation_score(self.table.importance[row], self.table.access[row], self.cfg))

    def _apply_promotions(self, txn, mids: list[int]) -> None:
        for rec in self.db.get_memories(mids) if mids else []:
            if rec is None:
                continue
            self._sync_from_table(rec)
            rec.tier = "long_term"
            self.db.update_memory(txn, rec)
            row = self.table.row_of.get(rec.id)
            if row is not None:
                self.table.tier[row] = TIERS.index("long_term")
        if mids:
            gone = set(mids)
            for dq in self._short.values():
                for m in [m for m in dq if m in gone]:
                    dq.remove(m)

    def _delete_in_txn(self, txn, mids: list[int]) -> list[int]:
        """Delete memories inside a write transaction; returns their rows for :meth:`_release`."""
        rows = []
        for mid in mids:
            raw = txn.get(_key(mid), db=self.db.mem)
            old = MemoryRecord.from_json(raw) if raw is not None else None
            self.db.delete_memory(txn, mid, old.msg_id if old else "")
            for extra in old.merged_msg_ids if old else ():
                txn.delete(extra.encode(), db=self.db.msg)
            self._dirty_recall.discard(mid)
            row = self.table.row_of.get(mid)
            if row is not None:
                rows.append(row)
        return rows

    def _release(self, rows: list[int]) -> None:
        if not rows:
            return
        idx_rows = [r for r in rows if self.table.has_vec[r]]
        self.index.remove(np.asarray(idx_rows, dtype=np.int64))
        for r in rows:
            self.lexical.remove(int(self.table.mem_id[r]))
            self._groups.pop(int(self.table.mem_id[r]), None)
        self.table.release(rows)

    def consolidate(self) -> dict[str, int]:
        """Promote short-term entries that scored high enough, drop expired short-term entries,
        and prune long-term/episodic memories whose R * importance fell below the threshold."""
        with self._lock:
            now = self.clock()
            t, n = self.table, self.table.size
            alive = t.alive[:n]
            st = alive & (t.tier[:n] == TIERS.index("short_term"))
            score = decay.consolidation_score(t.importance[:n], t.access[:n], self.cfg)
            promote_rows = np.flatnonzero(st & (score >= self.cfg.promote_threshold))
            expire_rows = np.flatnonzero(st & (score < self.cfg.promote_threshold)
                                         & (now - t.last_recall[:n] > self.cfg.short_term_ttl_s))
            lt = alive & ~t.pinned[:n] & ((t.tier[:n] == TIERS.index("long_term"))
                                          | (t.tier[:n] == TIERS.index("episodic")))
            ps = decay.prune_score(now - t.last_recall[:n], t.stability[:n], t.importance[:n])
            faded = lt & (ps < self.cfg.prune_threshold)
            prune_rows = np.flatnonzero(faded & (t.importance[:n] < self.cfg.keep_importance))
            over = int(lt.sum()) - len(prune_rows) - self.cfg.long_term_capacity
            if over > 0:  # over capacity: the most faded go first, whatever their importance
                rest = np.flatnonzero(lt & ~np.isin(np.arange(n), prune_rows))
                prune_rows = np.concatenate([prune_rows, rest[np.argsort(ps[rest])[:over]]])
            promote = t.mem_id[promote_rows].tolist()
            drop = t.mem_id[np.concatenate([expire_rows, prune_rows])].tolist()
            with self.db.begin() as txn:
                self._apply_promotions(txn, promote)
                rows = self._delete_in_txn(txn, drop)
                self._flush_recall(txn)
            self._release(rows)
            self._last_consolidate = now
            return {"promoted": len(promote), "expired": int(len(expire_rows)),
                    "pruned": int(len(prune_rows)), "grouped": self._consolidate_related(now)}

    def _consolidate_related(self, now: float) -> int:
        """Group related memories of the viewers with new ones (:mod:`memory_store.consolidation`);
        returns how many consolidated memories were made."""
        viewers, self._dirty_viewers = self._dirty_viewers, set()
        made = []
        for v in sorted(viewers):
            recs = [r for r in self.db.get_memories(candidates(self.table, v))
                    if r is not None and r.kind == "message" and r.summary_id is None]
            for g in related_groups(self.table, recs, self.cfg):
                made.append((summary_record(g, self._next_id, now, self.cfg), g))
                self._next_id += 1
        if not made:
            return 0
        with self.db.begin() as txn:
            for srec, g in made:
                self.db.put_memory(txn, srec, g.vector)
                for m in g.members:
                    self._sync_from_table(m)
                    m.summary_id = srec.id
                    self.db.update_memory(txn, m)
            self.db.set_meta(txn, "next_id", self._next_id)
        self._add_to_table([s for s, _ in made], [g.vector for _, g in made])
        self.graph.last_id = self._next_id - 1
        return len(made)

    def _maybe_maintain(self, now: float) -> None:
        if now - self._last_consolidate >= self.cfg.consolidate_every_s:
            self.consolidate()
        if (self.index.dirty >= self.cfg.snapshot_every_n
                or (self.index.dirty and now - self._last_snapshot >= self.cfg.snapshot_every_s)):
            self.snapshot()

    # ------------------------------------------------------------------ recall bookkeeping
    def _bump_access(self, txn, mids: list[int]) -> None:
        for mid in mids:
            row = self.table.row_of.get(mid)
            if row is not None:
                self.table.access[row] += 1
                self._dirty_recall.add(mid)

    def _sync_from_table(self, rec: MemoryRecord) -> None:
        row = self.table.row_of.get(rec.id)
        if row is not None:
            rec.access = int(self.table.access[row])
            rec.stability = float(self.table.stability[row])
            rec.last_recall = float(self.table.last_recall[row])

    def _flush_recall(self, txn) -> None:
        """Write recall counts/stability changed by searches (kept in RAM until the next write:
        losing a few recall counts in a crash is harmless, an fsync per search is not)."""
        if not self._dirty_recall:
            return
        for rec in self.db.get_memories(sorted(self._dirty_recall)):
            if rec is not None:
                self._sync_from_table(rec)
                self.db.update_memory(txn, rec)
        self._dirty_recall.clear()

    # ------------------------------------------------------------------ retrieval
    def search(self, q: str, viewer: str | None = None, channel: str | None = None,
               tier: str | None = None, since: float | None = None, until: float | None = None,
               k: int = 10, reinforce: bool = True, asker: str | None = None,
               vector: np.ndarray | None = None) -> list[MemoryHit]:
        """Ranked memories for a text query: hybrid (dense + BM25 + graph, fused by rank; see
        :mod:`memory_store.hybrid`) unless ``cfg.hybrid`` is off. Each hit carries its score
        parts. ``asker`` (a viewer key) is who asks: their memories are preferred, not filtered.
        A returned memory counts as recalled (its stability grows) unless ``reinforce`` is False.
        ``vector``: ``q``'s embedding when the caller has it (a chat message's, from the
        analyser), which saves an encoder pass."""
        if vector is not None:
            qv = np.asarray(vector, dtype=np.float32)
        elif self.embed is None:
            raise RuntimeError("MemoryStore.search needs an embed function; use search_vector")
        else:
            qv = np.asarray(self.embed([q]), dtype=np.float32)[0]
        return self.search_vector(qv, viewer=viewer, channel=channel, tier=tier, since=since,
                                  until=until, k=k, reinforce=reinforce,
                                  text=q if self.cfg.hybrid else None, asker=asker)

    def search_vector(self, qv: np.ndarray, viewer: str | None = None, channel: str | None = None,
                      tier: str | None = None, since: float | None = None,
                      until: float | None = None, k: int = 10, reinforce: bool = True,
                      text: str | None = None, asker: str | None = None) -> list[MemoryHit]:
        """:meth:`search` for a query vector already embedded (384-d, L2-normalised). With
        ``text`` (the query's words) the search is hybrid; without it, dense only."""
        qv = np.asarray(qv, dtype=np.float32).reshape(-1)
        if qv.shape != (self.cfg.dim,):
            raise ValueError(f"query vector must have {self.cfg.dim} dimensions, got {qv.shape}")
        if tier is not None and tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; expected one of {TIERS}")
        if k <= 0:
            return []
        with self._lock:
            now = self.clock()
            f = Filters(viewer, channel, tier, since, until)
            if text and text.strip():
                parts = HybridParts(self.table, self.index, self.lexical, self.graph, self.prior,
                                    self.dense_prior, self.cfg, self._viewers_named, self._groups)
                s = hybrid_search(parts, qv, text, f, k, now, asker=asker,
                                  entities=self.keywords.entities(text))
                extra = {"dense": s.dense, "lexical": s.lexical, "graph": s.graph, "fusion": s.fusion}
            else:
                s = search_rows(self.table, self.index, qv, f, k, now, self.cfg, self.prior)
                z = np.zeros(len(s.rows))
                extra = {"dense": s.score, "lexical": z, "graph": z, "fusion": s.score}
            mids = self.table.mem_id[s.rows].tolist()
            recs = self.db.get_memories(mids)
            hits = []
            for j, rec in enumerate(recs):
                if rec is None:
                    continue
                parts_j = {"relevance": round(float(s.relevance[j]), 4),
                           "recency": round(float(s.recency[j]), 4),
                           "importance": round(float(s.importance[j]), 4)}
                parts_j.update({name: round(float(v[j]), 4) for name, v in extra.items()})
                hits.append(MemoryHit(
                    id=rec.id, text=rec.text, viewer=rec.viewer, user=rec.user, channel=rec.channel,
                    ts=rec.ts, tier=TIERS[int(self.table.tier[s.rows[j]])], score=round(float(s.score[j]), 4),
                    parts=parts_j, msg_id=rec.msg_id, importance=rec.importance,
                    access=int(self.table.access[s.rows[j]]), pinned=bool(self.table.pinned[s.rows[j]])))
            if reinforce and hits:
                rows = s.rows[: len(hits)]
                self.table.access[rows] += 1
                self.table.stability[rows] = decay.reinforce(self.table.stability[rows], self.cfg)
                self.table.last_recall[rows] = now
                self.prior.touch(rows)
                self.dense_prior.touch(rows)
                self._dirty_recall.update(mids)
            return hits

    def reinforce(self, memory_ids: list[int | str]) -> int:
        """Count these memories as recalled (stability grows), e.g. because the character used
        them in a reply. Unknown ids are ignored; returns how many were reinforced."""
        with self._lock:
            rows, mids = [], []
            for m in memory_ids:
                try:
                    mid = int(m)
                except (TypeError, ValueError):
                    continue
                row = self.table.row_of.get(mid)
                if row is not None and mid not in mids:
                    rows.append(row)
                    mids.append(mid)
            if not rows:
                return 0
            r = np.asarray(rows, dtype=np.int64)
            self.table.access[r] += 1
            self.table.stability[r] = decay.reinforce(self.table.stability[r], self.cfg)
            self.table.last_recall[r] = self.clock()
            self.prior.touch(r)
            self.dense_prior.touch(r)
            self._dirty_recall.update(mids)
            return len(rows)

    def _viewers_named(self, name: str) -> list[str]:
        """Viewer keys whose login is ``name`` (on any platform seen)."""
        out = []
        for p in self._platforms:
            v = self._logins.get((p, name))
            if v is not None:
                out.append(v)
        return out

    # ------------------------------------------------------------------ viewers
    def viewer_profile(self, viewer_id: str) -> ViewerProfile | None:
        with self._lock:
            p = self._profiles.get(viewer_id) or self.db.get_profile(viewer_id)
            if p is not None:
                top = self.graph.top_topics(viewer_id, 5)
                if top:
                    p.topics.update({t: max(w, p.topics.get(t, 0.0)) for t, w in top})
            return p

    def viewer_memories(self, viewer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """A viewer's memories, newest first, with their current retention."""
        with self._lock:
            rows = self.table.rows_of_viewer(viewer_id)
            rows = rows[np.argsort(-self.table.ts[rows])][:limit]
            now = self.clock()
            out = []
            recs = self.db.get_memories(self.table.mem_id[rows].tolist())
            for row, rec in zip(rows.tolist(), recs):
                if rec is None:
                    continue
                r = float(decay.retention(now - self.table.last_recall[row], self.table.stability[row],
                                          self.table.pinned[row]))
                out.append({"id": rec.id, "text": rec.text, "ts": rec.ts, "channel": rec.channel,
                            "tier": TIERS[int(self.table.tier[row])], "importance": rec.importance,
                            "retention": round(r, 4), "access": int(self.table.access[row]),
                            "pinned": bool(self.table.pinned[row]), "msg_id": rec.msg_id})
            return out

    def viewer_view(self, viewer_id: str) -> dict[str, Any] | None:
        """Everything ``GET /api/viewers/{id}`` shows: profile, memories, graph neighbours."""
        with self._lock:
            p = self.viewer_profile(viewer_id)
            mems = self.viewer_memories(viewer_id)
            if p is None and not mems and not self.graph.has_viewer(viewer_id):
                return None
            return {"viewer_id": viewer_id, "profile": p.to_dict() if p else None, "memories": mems,
                    "graph": {"neighbours": self.graph.neighbours(viewer_id),
                              "top_topics": self.graph.top_topics(viewer_id),
                              "likes": self.graph.likes(viewer_id),
                              "dislikes": self.graph.likes(viewer_id, dislikes=True),
                              "interactions": self.graph.interactions(viewer_id)}}

    def pin_fact(self, viewer_id: str, key: str, value: str) -> int:
        """Pin a core fact (never decays): stored in the profile and as a ``core`` memory.
        Returns the memory id."""
        if not key or not str(value).strip():
            raise ValueError("pin_fact needs a key and a non-empty value")
        with self._lock:
            now = self.clock()
            platform = viewer_id.split(":", 1)[0] if ":" in viewer_id else ""
            prof = self._profile(viewer_id, platform=platform)
            user = prof.user or viewer_id.split(":", 1)[-1]
            prof.user = user
            prof.facts[key] = str(value)
            replaced = prof.fact_ids.get(key)  # a correction: the old fact memory is unpinned
            text = fact_text(user, key, str(value))
            vec = None
            if self.embed is not None:
                vec = np.asarray(self.embed([text]), dtype=np.float32)[0]
            rec = MemoryRecord(id=self._next_id, text=text, viewer=viewer_id, user=user,
                               platform=platform, ts=now, tier="core", importance=1.0,
                               stability=float(decay.initial_stability(1.0, self.cfg)),
                               last_recall=now, pinned=True, has_vec=vec is not None, kind="fact",
                               keywords=[str(value).lower()], fact_key=key)
            self._next_id += 1
            prof.fact_ids[key] = rec.id
            with self.db.begin() as txn:
                self.db.put_memory(txn, rec, vec)
                self._unpin_in_txn(txn, [replaced] if replaced is not None else [])
                self.db.put_profile(txn, prof)
                self.db.set_meta(txn, "next_id", self._next_id)
            self._add_to_table([rec], [vec])
            self.graph.last_id = self._next_id - 1
            return rec.id

    def facts(self, viewer_id: str) -> dict[str, str]:
        p = self.viewer_profile(viewer_id)
        return dict(p.facts) if p else {}

    def episodes(self, channel: str | None = None, limit: int = 20) -> list[Episode]:
        """Closed stream segments, newest first."""
        with self._lock:
            return self.db.episodes(channel, limit)

    def close_episodes(self) -> list[Episode]:
        """Close every open segment now (on shutdown, or to force a boundary)."""
        with self._lock:
            now = self.clock()
            made = [self._episode_memory(ep, reason, now) for ep, reason in self.episode_tracker.close_all()]
            if not made:
                return []
            with self.db.begin() as txn:
                for ep, rec, vec in made:
                    self.db.put_memory(txn, rec, vec)
                    self.db.put_episode(txn, ep)
                self.db.set_meta(txn, "next_id", self._next_id)
                self.db.set_meta(txn, "next_episode", self._next_episode)
            self._add_to_table([m[1] for m in made], [m[2] for m in made])
            self.graph.last_id = self._next_id - 1
            return [m[0] for m in made]

    def short_term(self, channel: str) -> list[MemoryRecord]:
        """The channel's working buffer, oldest first."""
        with self._lock:
            mids = [m for m in self._short.get(channel, ()) if m in self.table.row_of]
            return [r for r in self.db.get_memories(mids) if r is not None and r.tier == "short_term"]

    # ------------------------------------------------------------------ forgetting
    def forget_viewer(self, viewer_id: str) -> ForgetReport:
        """Remove a viewer everywhere: memories, vectors, short-term entries, facts, profile,
        graph node and edges, and their part of stored episode summaries."""
        with self._lock:
            rep = ForgetReport(viewer_id=viewer_id)
            rows = self.table.rows_of_viewer(viewer_id)
            mids = self.table.mem_id[rows].tolist()
            short_ids = {m for dq in self._short.values() for m in dq}
            rep.short_term = sum(1 for m in mids if m in short_ids)
            rep.vectors = int(self.table.has_vec[rows].sum())
            prof = self._profiles.pop(viewer_id, None) or self.db.get_profile(viewer_id)
            rep.facts = len(prof.facts) if prof else 0
            changed_eps = []
            for ep in self.db.episodes(None, 1_000_000):
                if scrub_viewer(ep, viewer_id):
                    changed_eps.append(ep)
            ep_updates = []
            for ep in changed_eps:
                vec = None
                if self.embed is not None:
                    vec = np.asarray(self.embed([ep.summary]), dtype=np.float32)[0]
                ep_updates.append((ep, vec))
            with self.db.begin() as txn:
                self._delete_in_txn(txn, mids)
                rep.profile = self.db.delete_profile(txn, viewer_id)
                for ep, vec in ep_updates:
                    self.db.put_episode(txn, ep)
                    if ep.memory_id is not None and ep.memory_id in self.table.row_of:
                        raw = txn.get(_key(ep.memory_id), db=self.db.mem)
                        if raw is not None:
                            erec = MemoryRecord.from_json(raw)
                            erec.text = ep.summary
                            erec.has_vec = vec is not None
                            self.db.put_memory(txn, erec, vec)
                            if vec is None:
                                txn.delete(_key(ep.memory_id), db=self.db.vec)
            self._release(rows.tolist())
            rep.memories = len(mids)
            for ep, vec in ep_updates:
                row = self.table.row_of.get(ep.memory_id) if ep.memory_id is not None else None
                if row is None:
                    continue
                self.index.remove(np.array([row]))
                if vec is not None:
                    self.table.vectors[row] = vec
                    self.index.add(np.array([row]), vec[None, :])
                else:
                    self.table.has_vec[row] = False
                    self.table.vectors[row] = 0.0
            for dq in self._short.values():
                for m in [m for m in dq if m in set(mids)]:
                    dq.remove(m)
            for key in [k for k, v in self._logins.items() if v == viewer_id]:
                del self._logins[key]
            self.episode_tracker.forget_viewer(viewer_id)
            rep.graph_node, rep.graph_edges = self.graph.forget_viewer(viewer_id)
            self.graph.save(self.data_dir / "graph.json")  # the forgotten node must not come back
            return rep

    def forget_message(self, message_id: str) -> bool:
        """Twitch CLEARMSG: forget the memory made from one platform message id."""
        with self._lock:
            mid = self.db.memory_id_for_message(message_id)
            if mid is None:
                return False
            with self.db.begin() as txn:
                rows = self._delete_in_txn(txn, [mid])
            self._release(rows)
            return True

    # ------------------------------------------------------------------ inspector edits
    def forget_memory(self, mem_id: int) -> bool:
        """Forget one memory (the inspector's "forget"): LMDB, vector, BM25, short-term."""
        with self._lock:
            if mem_id not in self.table.row_of and self.db.get_memories([mem_id])[0] is None:
                return False
            with self.db.begin() as txn:
                rows = self._delete_in_txn(txn, [mem_id])
            self._release(rows)
            for dq in self._short.values():
                if mem_id in dq:
                    dq.remove(mem_id)
            return True

    def set_pinned(self, mem_id: int, pinned: bool) -> MemoryRecord | None:
        """Pin (core tier, never decays) or unpin (back to long-term) one memory."""
        with self._lock:
            rec = self.db.get_memories([mem_id])[0]
            if rec is None:
                return None
            self._sync_from_table(rec)
            rec.pinned = bool(pinned)
            rec.tier = "core" if pinned else ("long_term" if rec.tier == "core" else rec.tier)
            with self.db.begin() as txn:
                self.db.update_memory(txn, rec)
            row = self.table.row_of.get(mem_id)
            if row is not None:
                self.table.pinned[row] = rec.pinned
                self.table.tier[row] = TIERS.index(rec.tier)
                self.prior.touch([row])
                self.dense_prior.touch([row])
            for dq in self._short.values():
                if pinned and mem_id in dq:
                    dq.remove(mem_id)
            return rec

    def edit_memory(self, mem_id: int, text: str) -> MemoryRecord | None:
        """Replace a memory's wording (the inspector's "edit"): re-embedded when the store has
        an encoder, re-indexed for BM25, topics and entities extracted again."""
        text = (text or "").strip()
        if not text:
            raise ValueError("a memory's text cannot be empty")
        with self._lock:
            rec = self.db.get_memories([mem_id])[0]
            if rec is None:
                return None
            self._sync_from_table(rec)
            vec = None
            if self.embed is not None:
                vec = np.asarray(self.embed([text]), dtype=np.float32)[0]
            rec.text = text
            rec.keywords = self.keywords.topics(text)
            rec.entities = self.keywords.entities(text)
            rec.has_vec = rec.has_vec or vec is not None
            with self.db.begin() as txn:
                self.db.put_memory(txn, rec, vec) if vec is not None else self.db.update_memory(txn, rec)
            row = self.table.row_of.get(mem_id)
            if row is not None:
                self.lexical.add(rec.id, row, text, rec.entities, postings=rec.kind not in NO_POSTINGS)
                if vec is not None:
                    if self.table.has_vec[row]:
                        self.index.remove(np.array([row]))
                    self.table.vectors[row] = vec
                    self.table.has_vec[row] = True
                    self.index.add(np.array([row]), vec[None, :])
            return rec

    def memory(self, mem_id: int) -> MemoryRecord | None:
        """One memory as stored, with its live recall counters."""
        with self._lock:
            rec = self.db.get_memories([mem_id])[0]
            if rec is not None:
                self._sync_from_table(rec)
            return rec

    def viewer_episodes(self, viewer_id: str, limit: int = 10) -> list[Episode]:
        """Closed episodes the viewer took part in, newest first."""
        with self._lock:
            out = []
            for ep in self.db.episodes(None, 10_000):
                if any(p[0] == viewer_id for p in ep.participants):
                    out.append(ep)
                    if len(out) >= limit:
                        break
            return out

    def forget_user_in_channel(self, channel: str, user: str) -> int:
        """Twitch CLEARCHAT (ban/timeout): forget a user's memories in one channel. ``user`` is
        a login, a platform user id or a viewer key. Returns how many were removed."""
        with self._lock:
            u = user.lower()
            codes = {code for name, code in self.table.viewers.code.items()
                     if name.lower() == u or name.split(":", 1)[-1].lower() == u}
            codes |= {self.table.viewers.find(v) for (_, login), v in self._logins.items() if login == u}
            codes.discard(-1)
            want = channel.lstrip("#").lower()
            ch_codes = [c for name, c in self.table.channels.code.items() if name.lstrip("#").lower() == want]
            if not codes or not ch_codes:
                return 0
            rows = np.concatenate([np.fromiter(self.table.viewer_rows.get(c, ()), dtype=np.int64)
                                   for c in codes])
            rows = rows[np.isin(self.table.channel[rows], ch_codes)]
            mids = self.table.mem_id[rows].tolist()
            if not mids:
                return 0
            with self.db.begin() as txn:
                deleted = self._delete_in_txn(txn, mids)
            self._release(deleted)
            return len(mids)

    # ------------------------------------------------------------------ graph, snapshot, stats
    def _graph_observe(self, rec: MemoryRecord) -> None:
        if not rec.viewer or rec.kind in ("episode", "fact"):
            return
        self.graph.observe(rec.viewer, rec.user, rec.ts, rec.keywords, rec.entities, rec.mentions,
                           rec.sentiment)

    def snapshot(self) -> None:
        """Write the FAISS index, its row map and the graph; flush recall counters to LMDB."""
        with self._lock:
            with self.db.begin() as txn:
                self._flush_recall(txn)
            row_ids = self.table.mem_id[: self.table.size].copy()
            row_ids[~(self.table.alive[: self.table.size] & self.table.has_vec[: self.table.size])] = -1
            self.index.save(self.data_dir / "index", row_ids)
            self.graph.save(self.data_dir / "graph.json")
            self._last_snapshot = self.clock()

    def stats_snapshot(self) -> dict[str, Any] | None:
        """The last :meth:`stats` result, read without the lock: the event loop must never wait
        on the store lock (held through LMDB fsync, IVF retraining and snapshots). The remember
        stage refreshes it from its worker thread."""
        return self._stats_snapshot

    def stats(self) -> dict[str, Any]:
        with self._lock:
            n = self.table.size
            alive = self.table.alive[:n]
            tiers = {t: int((alive & (self.table.tier[:n] == i)).sum()) for i, t in enumerate(TIERS)}
            self._stats_snapshot = {"memories": int(alive.sum()), "tiers": tiers,
                    "vectors": int((alive & self.table.has_vec[:n]).sum()),
                    "index": {"type": "ivf_sq8" if self.index.trained else "exact",
                              "ntotal": self.index.ntotal, "nlist": self.index.nlist if self.index.trained else 0,
                              "nprobe": self.index.nprobe, "unsnapshotted": self.index.dirty},
                    "viewers": sum(1 for s in self.table.viewer_rows.values() if s),
                    "profiles": self.db.counts()["profiles"],
                    "episodes": self.db.counts()["episodes"],
                    "open_episodes": len(self.episode_tracker.open),
                    "graph": self.graph.stats(), "recovery": self.recovery}
            return self._stats_snapshot

    def close(self) -> None:
        """Close open episodes, snapshot, and close LMDB. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self.close_episodes()
            self.snapshot()
            self.db.close()
            self._closed = True

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
