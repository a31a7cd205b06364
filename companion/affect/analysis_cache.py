"""A bounded cache of the per-text part of the analysis: the encoder's embedding and every head's
output, keyed by the normalised text and the message's lexicon features.

Real chat repeats itself (54% of the shared 68k Twitch lines repeat an earlier line after case and
whitespace folding), so most of a busy chat needs no encoder pass. The key is lossless for the
model: the MiniLM tokenizer lower-cases and splits on whitespace, so case and spacing never reach
the encoder; the PAD refiner also reads the six lexicon features (VADER is case-sensitive), so
those are part of the key. Everything that depends on context (mood tracker, novelty, per-user and
channel state) is not cached: the analyser still runs it for every message.

Long near-duplicates (a copypasta wave: the same few hundred characters with a few characters
changed by each account) share one analysis: a text of at least ``near_min_chars`` characters
whose folded key is within ``near_similarity`` (Indel ratio) of a cached text of the same wave
(the shared :class:`companion.near_duplicates.NearDuplicateDetector`) gets that text's model
outputs. At 0.95 over 64+ characters the texts differ by a few characters; their affect does not.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from companion.affect.encoder import Encoded
from companion.affect.heads import HeadOutputs
from companion.near_duplicates import WaveCanon

_FIELDS = tuple(f.name for f in dataclasses.fields(HeadOutputs))
DEFAULT_MAX_ENTRIES = 8192  # 943 float32 (3.8 KB) each: ~31 MB at most

# (embedding rows, head outputs) for the given positions of the batch
Compute = Callable[[list[int]], "tuple[np.ndarray, HeadOutputs]"]


def normalise(text: str) -> str:
    """The cache's text key: lower case, whitespace runs collapsed (what the tokenizer sees)."""
    return " ".join(text.lower().split())


class AnalysisCache:
    """LRU map from (normalised text, lexicon features) to one flat float32 row holding the
    embedding followed by every :class:`HeadOutputs` field, at most ``max_entries`` rows."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, near_min_chars: int = 64,
                 near_similarity: float = 0.95) -> None:
        self.max_entries = max_entries
        self.near_min_chars = near_min_chars
        self.near_similarity = near_similarity
        self.hits = 0  # lookups served without the models (exact and near-duplicate)
        self.near_hits = 0  # of which near-duplicates of a cached long text
        self.misses = 0  # distinct texts computed
        self._new_near()
        self._lexical: OrderedDict[tuple, Any] = OrderedDict()  # exact text + emote spans -> lexicon pass
        self._rows: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._layout: list[tuple] | None = None  # (field, width, row shape, dtype or None)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def hit_rate(self) -> float:
        """Hits / lookups since start (0 before the first lookup)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._lexical.clear()
            self._new_near()

    def lexical(self, msg: Any, compute: Callable[[Any], Any]) -> Any:
        """``compute(msg)``, the analyser's lexicon pass (VADER, emoji, emotes, injection and
        threat rules), cached by the exact text and the platform's emote spans: the pass reads
        nothing else, and case matters to it. The cached result is shared: callers only read it."""
        if self.max_entries <= 0:
            return compute(msg)
        key = (msg.text, tuple(msg.emotes))
        with self._lock:
            hit = self._lexical.get(key)
            if hit is not None:
                self._lexical.move_to_end(key)
                return hit
        value = compute(msg)
        with self._lock:
            self._lexical[key] = value
            if len(self._lexical) > self.max_entries:
                self._lexical.popitem(last=False)
        return value

    def _new_near(self) -> None:
        self._canon = WaveCanon(min_chars=self.near_min_chars, similarity=self.near_similarity)
        self._near_keys: OrderedDict[str, tuple[str, bytes]] = OrderedDict()  # wave's first text -> its key

    def analyse(self, texts: Sequence[str], lexicon: np.ndarray, encoder, heads) -> tuple[Encoded, HeadOutputs]:
        """``encoder.encode`` + ``heads.predict`` through the cache. The returned ``Encoded`` has the
        embeddings only (its features are empty: the head features are not kept, the heads' outputs are)."""
        texts = list(texts)

        def compute(idx: list[int]) -> tuple[np.ndarray, HeadOutputs]:
            enc = encoder.encode([texts[i] for i in idx])
            return enc.embedding, heads.predict(enc.features, lexicon[idx], [texts[i] for i in idx])

        emb, out = self.model_outputs(texts, lexicon, compute)
        return Encoded(emb, np.empty((len(emb), 0), dtype=np.float32)), out

    def model_outputs(self, texts: Sequence[str], lexicon: np.ndarray, compute: Compute
                      ) -> tuple[np.ndarray, HeadOutputs]:
        """(embeddings, head outputs) for ``texts`` in order; ``compute`` is called once, on the
        positions of the distinct texts not cached (repeats inside the batch are computed once)."""
        if self.max_entries <= 0:  # caching off
            return compute(list(range(len(texts))))
        lex = np.ascontiguousarray(lexicon, dtype=np.float32)
        keys = [(normalise(t), lex[i].tobytes()) for i, t in enumerate(texts)]
        rows: list[np.ndarray | None] = [None] * len(keys)
        todo: dict[tuple[str, bytes], list[int]] = {}
        with self._lock:
            for i, k in enumerate(keys):
                row = self._rows.get(k)
                if row is not None:
                    self._rows.move_to_end(k)
                    rows[i] = row
                elif k in todo:
                    todo[k].append(i)
                elif len(k[0]) < self.near_min_chars or not self._near_hit(texts[i], k, i, rows, todo):
                    todo[k] = [i]
            self.hits += len(keys) - len(todo)
            self.misses += len(todo)
        if todo:
            emb, out = compute([idx[0] for idx in todo.values()])
            fresh = self._flatten(emb, out)
            with self._lock:
                for j, (k, idx) in enumerate(todo.items()):
                    row = fresh[j].copy()  # own memory: a view would pin the whole batch
                    self._rows[k] = row
                    for i in idx:
                        rows[i] = row
                while len(self._rows) > self.max_entries:
                    self._rows.popitem(last=False)
        return self._unflatten(np.stack(rows))

    # ------------------------------------------------------------------ internals
    def _near_hit(self, text: str, key: tuple[str, bytes], i: int, rows: list, todo: dict) -> bool:
        """Serve position ``i`` from a cached (or already pending) near-duplicate long text; when
        there is none, make this text its wave's reference. Called with the lock held."""
        canon = self._canon(text)
        if canon == text:  # this text starts a wave (or joins none): it is computed
            self._near_keys[text] = key
            if len(self._near_keys) > 256:
                self._near_keys.popitem(last=False)
            return False
        first = self._near_keys.get(canon)
        if first is None or first == key:
            return False
        row = self._rows.get(first)
        if row is not None:
            rows[i] = row
        elif first in todo:
            todo[first].append(i)
        else:
            return False
        self.near_hits += 1
        return True

    def _flatten(self, emb: np.ndarray, out: HeadOutputs) -> np.ndarray:
        """One float32 row per text: every present field side by side (label indices and float32
        scores are exact in float32; optional fields that are None stay None)."""
        parts = [("embedding", np.asarray(emb))] + [(f, getattr(out, f)) for f in _FIELDS]
        parts = [(name, None if a is None else np.asarray(a)) for name, a in parts]
        n = len(emb)
        if self._layout is None:
            self._layout = [(name, 0, (), None) if a is None else
                            (name, int(np.prod(a.shape[1:], dtype=int)), a.shape[1:], a.dtype) for name, a in parts]
        return np.concatenate([a.reshape(n, -1).astype(np.float32, copy=False) for _, a in parts if a is not None],
                              axis=1)

    def _unflatten(self, flat: np.ndarray) -> tuple[np.ndarray, HeadOutputs]:
        assert self._layout is not None
        n, cols, at = len(flat), {}, 0
        for name, width, shape, dtype in self._layout:
            if dtype is None:
                cols[name] = None
                continue
            cols[name] = np.ascontiguousarray(flat[:, at:at + width]).reshape((n, *shape)).astype(dtype, copy=False)
            at += width
        emb = cols.pop("embedding")
        return emb, HeadOutputs(**cols)


class AnalysisCacheCollector:
    """Exports an :class:`AnalysisCache`'s size and hit counters to a prometheus registry
    (``/metrics``): ``companion_analysis_cache_{entries,capacity,hits_total,misses_total,hit_ratio}``."""

    def __init__(self, cache: AnalysisCache) -> None:
        self.cache = cache

    def describe(self) -> list:
        return []  # collected lazily: nothing to pre-declare

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        c = self.cache
        yield GaugeMetricFamily("companion_analysis_cache_entries", "Texts held by the analysis cache",
                                value=len(c))
        yield GaugeMetricFamily("companion_analysis_cache_capacity", "Most texts the analysis cache holds",
                                value=c.max_entries)
        yield CounterMetricFamily("companion_analysis_cache_hits", "Messages whose model outputs came from the cache",
                                  value=c.hits)
        yield CounterMetricFamily("companion_analysis_cache_near_duplicate_hits",
                                  "Hits served from a near-duplicate long text (copypasta waves)",
                                  value=c.near_hits)
        yield CounterMetricFamily("companion_analysis_cache_misses", "Distinct texts the models had to analyse",
                                  value=c.misses)
        yield GaugeMetricFamily("companion_analysis_cache_hit_ratio", "Hits / lookups since start",
                                value=c.hit_rate)
