"""Near-duplicate and spam detection for chat: one detector, used by analytics (spam waves) and by
the character engine (per-viewer spam, copypasta).

Each message costs time linear in its own length and bounded by constants, never by how much
chat came before or how long the other messages were (``difflib.SequenceMatcher`` was quadratic
in length and was run against every message of the window: a copypasta raid collapsed the
pipeline):

- the text is folded once (:func:`fold_key`: lower case, no punctuation or spaces, stretched
  letters squeezed) and only its first :data:`MAX_KEY_CHARS` characters are compared;
- an exact-key dict finds verbatim repeats (most copypasta and most real chat repeats) in O(1);
- otherwise rapidfuzz's Indel ratio (bit-parallel C++, the same measure as difflib's ``ratio``:
  2 x LCS / total length) is taken against at most ``max_clusters`` cluster representatives and
  the viewer's last ``per_viewer`` messages, each at most :data:`MAX_KEY_CHARS` long.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

# Near-duplicates share their beginning; 256 characters tell a 500-character copypasta's variants
# apart from other text as well as the whole would, at a bounded price per comparison.
MAX_KEY_CHARS = 256
# Folding reads a little more than the key needs: punctuation and spaces are dropped from it.
_READ_CHARS = 4 * MAX_KEY_CHARS
# Variant spellings remembered per cluster for exact lookup; more variants still match by ratio.
_KEYS_PER_CLUSTER = 32

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_REPEAT = re.compile(r"(.)\1{2,}")


def fold_key(text: str) -> str:
    """Lower case, punctuation and spaces removed, runs of 3+ repeated characters squeezed to 2,
    at most :data:`MAX_KEY_CHARS` characters: trivial variations of a text fold to one key."""
    return _REPEAT.sub(r"\1\1", _NON_WORD.sub("", text[:_READ_CHARS].lower()))[:MAX_KEY_CHARS]


@dataclass(slots=True)
class Cluster:
    """Recent messages whose folded texts are near-identical to ``key`` (the first one's)."""

    key: str
    sample: str  # the first message's text, cut to 80 characters, for alert reasons
    members: deque = field(default_factory=deque)  # (ts, viewer), oldest first
    viewer_counts: Counter = field(default_factory=Counter)
    keys: set = field(default_factory=set)  # exact folded variants, for O(1) lookup

    @property
    def viewers(self) -> int:
        """Distinct viewers among the members (kept incrementally: O(1))."""
        return len(self.viewer_counts)


@dataclass(slots=True)
class Sighting:
    """What the detector knows about one message when it arrives."""

    key: str
    cluster: Cluster | None  # None when the folded text is shorter than ``min_chars``
    viewer_repeats: int = 0  # the same viewer's earlier near-duplicates within the window


class NearDuplicateDetector:
    """Groups the messages of the last ``window_s`` seconds into near-duplicate clusters and
    counts each viewer's own repeats.

    - ``cluster_similarity`` (0..1, Indel ratio of folded keys) joins a message to a cluster;
      clusters are kept in least-recently-matched order, so an ongoing wave is never evicted by a
      stream of unique messages, and at most ``max_clusters`` are kept.
    - ``similarity`` (0..1) makes a message a repeat of one of the viewer's last ``per_viewer``
      messages (0 turns per-viewer tracking off); at most ``max_viewers`` viewers are tracked.
    - Keys shorter than ``min_chars`` join no cluster ("lol" repeats naturally in hype).
    """

    def __init__(self, window_s: float = 60.0, similarity: float = 0.9, cluster_similarity: float = 0.8,
                 min_chars: int = 1, max_clusters: int = 64, per_viewer: int = 8,
                 max_viewers: int = 20_000) -> None:
        self.window_s = window_s
        self.similarity = similarity
        self.cluster_similarity = cluster_similarity
        self.min_chars = min_chars
        self.max_clusters = max_clusters
        self.per_viewer = per_viewer
        self.max_viewers = max_viewers
        self.clusters: OrderedDict[int, Cluster] = OrderedDict()
        self._reps: dict[int, str] = {}  # cluster id -> representative key, for rapidfuzz
        self._exact: dict[str, int] = {}  # folded key -> cluster id
        self._viewers: OrderedDict[str, deque] = OrderedDict()  # viewer -> (ts, key), newest last
        self._ids = itertools.count()
        self._last_expire = float("-inf")

    def observe(self, ts: float, viewer: str, text: str) -> Sighting:
        """Judge one message against the window, then remember it."""
        if ts - self._last_expire >= 1.0:
            self._expire(ts)
        key = fold_key(text)
        if not key:
            return Sighting(key, None)
        repeats = self._viewer_repeats(ts, viewer, key) if self.per_viewer else 0
        cluster = self._cluster_of(key, text) if len(key) >= self.min_chars else None
        if cluster is not None:
            cluster.members.append((ts, viewer))
            cluster.viewer_counts[viewer] += 1
        return Sighting(key, cluster, repeats)

    # ------------------------------------------------------------------ internals
    def _viewer_repeats(self, ts: float, viewer: str, key: str) -> int:
        recent = self._viewers.get(viewer)
        if recent is None:
            recent = self._viewers[viewer] = deque(maxlen=self.per_viewer)
            if len(self._viewers) > self.max_viewers:
                self._viewers.popitem(last=False)
        else:
            self._viewers.move_to_end(viewer)
        cutoff = ts - self.window_s
        while recent and recent[0][0] < cutoff:
            recent.popleft()
        cut = self.similarity * 100.0
        repeats = sum(1 for _, other in recent if other == key or fuzz.ratio(key, other, score_cutoff=cut))
        recent.append((ts, key))
        return repeats

    def _cluster_of(self, key: str, text: str) -> Cluster:
        cid = self._exact.get(key)
        if cid is None and self._reps:
            best = process.extractOne(key, self._reps, scorer=fuzz.ratio,
                                      score_cutoff=self.cluster_similarity * 100.0)
            if best is not None:
                cid = best[2]
        if cid is None:
            cid = next(self._ids)
            self.clusters[cid] = Cluster(key=key, sample=text[:80])
            self._reps[cid] = key
            if len(self.clusters) > self.max_clusters:
                old, _ = next(iter(self.clusters.items()))
                self._drop(old)
        else:
            self.clusters.move_to_end(cid)
        cluster = self.clusters[cid]
        if len(cluster.keys) < _KEYS_PER_CLUSTER and key not in cluster.keys:
            cluster.keys.add(key)
            self._exact[key] = cid
        return cluster

    def _drop(self, cid: int) -> None:
        cluster = self.clusters.pop(cid)
        del self._reps[cid]
        for k in cluster.keys:
            if self._exact.get(k) == cid:
                del self._exact[k]

    def _expire(self, now: float) -> None:
        self._last_expire = now
        cutoff = now - self.window_s
        for cid in list(self.clusters):
            c = self.clusters[cid]
            while c.members and c.members[0][0] < cutoff:
                _, who = c.members.popleft()
                c.viewer_counts[who] -= 1
                if not c.viewer_counts[who]:
                    del c.viewer_counts[who]
            if not c.members:
                self._drop(cid)


class WaveCanon:
    """Maps a long text to the first text of its near-duplicate wave (itself when it starts one,
    or when it is shorter than ``min_chars``), so per-text caches downstream (the analysis cache,
    keyword and entity extraction) serve a whole copypasta wave from its first message.

    Thread-safe; remembers at most ``max_waves`` waves (those the detector still holds)."""

    def __init__(self, min_chars: int = 64, similarity: float = 0.95, window_s: float = 600.0,
                 max_waves: int = 64, clock=None) -> None:
        import threading
        import time

        self.min_chars = min_chars
        self._clock = clock or time.monotonic
        self._detector = NearDuplicateDetector(window_s=window_s, cluster_similarity=similarity,
                                               min_chars=min_chars, max_clusters=max_waves, per_viewer=0)
        self._first: OrderedDict[str, str] = OrderedDict()  # cluster key -> first text
        self._lock = threading.Lock()

    def __call__(self, text: str) -> str:
        if len(text) < self.min_chars:
            return text
        with self._lock:
            cluster = self._detector.observe(self._clock(), "", text).cluster
            if cluster is None:
                return text
            first = self._first.get(cluster.key)
            if first is None:
                self._first[cluster.key] = first = text
                if len(self._first) > 4 * self._detector.max_clusters:
                    self._first.popitem(last=False)
            return first
