"""Near-duplicate clustering of recent messages, to spot spam waves (copypasta, bot floods)."""
from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from .text_features import duplicate_key, jaccard, shingles

MIN_KEY_CHARS = 8  # shorter lines ("lol", a lone emote) repeat naturally in hype, not spam
SIMILARITY = 0.7
MAX_CLUSTERS = 64


@dataclass(slots=True)
class Cluster:
    key: str
    grams: frozenset[str]
    sample: str
    members: deque = field(default_factory=deque)  # (ts, viewer_key)


class NearDuplicateTracker:
    """Groups messages of the last ``horizon_s`` seconds whose folded text is near-identical.

    Clusters are kept in least-recently-matched order, so an ongoing wave is never evicted by a
    stream of unique messages; the newest clusters are compared first.
    """

    def __init__(self, horizon_s: float = 30.0) -> None:
        self.horizon_s = horizon_s
        self.clusters: OrderedDict[int, Cluster] = OrderedDict()
        self._ids = itertools.count()
        self._last_expire = float("-inf")

    def add(self, ts: float, viewer: str, text: str) -> Cluster | None:
        """Add one message; returns its cluster (None for text too short to judge)."""
        if ts - self._last_expire >= 1.0:
            self._expire(ts)
        key = duplicate_key(text)
        if len(key) < MIN_KEY_CHARS:
            return None
        grams = shingles(key)
        n = len(grams)
        match_id = None
        for cid, c in reversed(self.clusters.items()):
            if c.key == key:
                match_id = cid
                break
            # Jaccard can only reach SIMILARITY when the set sizes are that close.
            m = len(c.grams)
            if min(n, m) >= SIMILARITY * max(n, m) and jaccard(c.grams, grams) >= SIMILARITY:
                match_id = cid
                break
        if match_id is None:
            match_id = next(self._ids)
            self.clusters[match_id] = Cluster(key=key, grams=grams, sample=text[:80])
            if len(self.clusters) > MAX_CLUSTERS:
                self.clusters.popitem(last=False)
        else:
            self.clusters.move_to_end(match_id)
        cluster = self.clusters[match_id]
        cluster.members.append((ts, viewer))
        return cluster

    def _expire(self, now: float) -> None:
        self._last_expire = now
        cutoff = now - self.horizon_s
        for cid in list(self.clusters):
            members = self.clusters[cid].members
            while members and members[0][0] < cutoff:
                members.popleft()
            if not members:
                del self.clusters[cid]
