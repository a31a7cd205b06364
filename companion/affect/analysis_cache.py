"""A bounded cache of the per-text part of the analysis: the encoder's embedding and every head's
output, keyed by the normalised text and the message's lexicon features.

Real chat repeats itself (54% of the shared 68k Twitch lines repeat an earlier line after case and
whitespace folding), so most of a busy chat needs no encoder pass. The key is lossless for the
model: the MiniLM tokenizer lower-cases and splits on whitespace, so case and spacing never reach
the encoder; the PAD refiner also reads the six lexicon features (VADER is case-sensitive), so
those are part of the key. Everything that depends on context (mood tracker, novelty, per-user and
channel state) is not cached: the analyser still runs it for every message.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np

from companion.affect.encoder import Encoded
from companion.affect.heads import HeadOutputs

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

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0  # distinct texts computed
        self._rows: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._layout: list[tuple[str, int, tuple[int, ...]]] | None = None  # field, width, row shape
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

    def analyse(self, texts: Sequence[str], lexicon: np.ndarray, encoder, heads) -> tuple[Encoded, HeadOutputs]:
        """``encoder.encode`` + ``heads.predict`` through the cache. The returned ``Encoded`` has the
        embeddings only (its features are empty: the head features are not kept, the heads' outputs are)."""
        texts = list(texts)

        def compute(idx: list[int]) -> tuple[np.ndarray, HeadOutputs]:
            enc = encoder.encode([texts[i] for i in idx])
            return enc.embedding, heads.predict(enc.features, lexicon[idx])

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
                else:
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
    def _flatten(self, emb: np.ndarray, out: HeadOutputs) -> np.ndarray:
        parts = [("embedding", np.asarray(emb))] + [(f, np.asarray(getattr(out, f))) for f in _FIELDS]
        n = len(emb)
        if self._layout is None:
            self._layout = [(name, int(np.prod(a.shape[1:], dtype=int)), a.shape[1:]) for name, a in parts]
        return np.concatenate([a.reshape(n, -1).astype(np.float32, copy=False) for _, a in parts], axis=1)

    def _unflatten(self, flat: np.ndarray) -> tuple[np.ndarray, HeadOutputs]:
        assert self._layout is not None
        n, cols, at = len(flat), {}, 0
        for name, width, shape in self._layout:
            cols[name] = np.ascontiguousarray(flat[:, at:at + width]).reshape((n, *shape))
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
        yield CounterMetricFamily("companion_analysis_cache_misses", "Distinct texts the models had to analyse",
                                  value=c.misses)
        yield GaugeMetricFamily("companion_analysis_cache_hit_ratio", "Hits / lookups since start",
                                value=c.hit_rate)
