"""The knowledge graph (networkx): viewers, topics and entities; edges for mentions, viewer-to-
viewer interactions (@mentions, replies), likes/dislikes and topic co-occurrence. Every edge has
a ``weight`` and ``first_seen``/``last_seen`` times.

Node ids are prefixed by type: ``viewer:<viewer_key>``, ``topic:<phrase>``, ``entity:<name>``.
Edges are keyed by kind in a MultiDiGraph: ``mentions``, ``talks_to``, ``likes``, ``dislikes``,
``related`` (stored both ways).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import networkx as nx
import orjson

from companion.atomic_file import write_atomic


def viewer_node(viewer_id: str) -> str:
    return f"viewer:{viewer_id}"


def topic_node(topic: str) -> str:
    return f"topic:{topic}"


def entity_node(name: str) -> str:
    return f"entity:{name}"


class KnowledgeGraph:
    def __init__(self) -> None:
        self.g = nx.MultiDiGraph()
        self.last_id = 0  # highest memory id folded into the graph (for replay after a crash)

    # -- building --------------------------------------------------------------------------
    def _node(self, node: str, kind: str, label: str, ts: float) -> None:
        if node not in self.g:
            self.g.add_node(node, type=kind, label=label, first_seen=ts, last_seen=ts, count=0)
        attrs = self.g.nodes[node]
        attrs["last_seen"] = max(attrs["last_seen"], ts)
        attrs["count"] += 1

    def _edge(self, u: str, v: str, kind: str, ts: float, w: float = 1.0) -> None:
        data = self.g.get_edge_data(u, v, key=kind)
        if data is None:
            self.g.add_edge(u, v, key=kind, weight=w, first_seen=ts, last_seen=ts)
        else:
            data["weight"] += w
            data["last_seen"] = max(data["last_seen"], ts)

    def observe(self, viewer_id: str, user: str, ts: float, topics: Iterable[str] = (),
                entities: Iterable[str] = (), talks_to: Iterable[str] = (),
                sentiment: float | None = None, like_threshold: float = 0.35) -> None:
        """Fold one message into the graph."""
        vn = viewer_node(viewer_id)
        self._node(vn, "viewer", user, ts)
        topics = list(dict.fromkeys(topics))
        for t in topics:
            tn = topic_node(t)
            self._node(tn, "topic", t, ts)
            self._edge(vn, tn, "mentions", ts)
            if sentiment is not None and sentiment >= like_threshold:
                self._edge(vn, tn, "likes", ts, sentiment)
            elif sentiment is not None and sentiment <= -like_threshold:
                self._edge(vn, tn, "dislikes", ts, -sentiment)
        for a in topics:
            for b in topics:
                if a != b:
                    self._edge(topic_node(a), topic_node(b), "related", ts)
        for e in dict.fromkeys(entities):
            en = entity_node(e)
            self._node(en, "entity", e, ts)
            self._edge(vn, en, "mentions", ts)
        for other in dict.fromkeys(talks_to):
            if other == viewer_id:
                continue
            on = viewer_node(other)
            if on not in self.g:
                self.g.add_node(on, type="viewer", label=other.split(":", 1)[-1], first_seen=ts,
                                last_seen=ts, count=0)
            self._edge(vn, on, "talks_to", ts)

    # -- queries -------------------------------------------------------------------------------
    def top_topics(self, viewer_id: str, n: int = 5) -> list[tuple[str, float]]:
        """A viewer's topics by mention weight, plus their likes (dislikes do not count)."""
        vn = viewer_node(viewer_id)
        if vn not in self.g:
            return []
        score: dict[str, float] = {}
        for _, v, kind, d in self.g.out_edges(vn, keys=True, data=True):
            if self.g.nodes[v].get("type") == "topic" and kind in ("mentions", "likes"):
                score[self.g.nodes[v]["label"]] = score.get(self.g.nodes[v]["label"], 0.0) + d["weight"]
        return sorted(score.items(), key=lambda kv: -kv[1])[:n]

    def likes(self, viewer_id: str, dislikes: bool = False) -> list[tuple[str, float]]:
        vn = viewer_node(viewer_id)
        if vn not in self.g:
            return []
        kind = "dislikes" if dislikes else "likes"
        out = [(self.g.nodes[v]["label"], d["weight"])
               for _, v, k, d in self.g.out_edges(vn, keys=True, data=True) if k == kind]
        return sorted(out, key=lambda kv: -kv[1])

    def interactions(self, viewer_id: str | None = None, n: int = 20) -> list[dict[str, Any]]:
        """Who talks to whom: ``talks_to`` edges (all, or those touching one viewer), heaviest first."""
        if viewer_id is None:
            edges = [(u, v, d) for u, v, k, d in self.g.edges(keys=True, data=True) if k == "talks_to"]
        else:
            vn = viewer_node(viewer_id)
            if vn not in self.g:
                return []
            edges = [(u, v, d) for u, v, k, d in self.g.out_edges(vn, keys=True, data=True) if k == "talks_to"]
            edges += [(u, v, d) for u, v, k, d in self.g.in_edges(vn, keys=True, data=True) if k == "talks_to"]
        edges.sort(key=lambda e: -e[2]["weight"])
        return [{"from": u.split(":", 1)[1], "to": v.split(":", 1)[1], "weight": d["weight"],
                 "first_seen": d["first_seen"], "last_seen": d["last_seen"]} for u, v, d in edges[:n]]

    def related_topics(self, topic: str, n: int = 5) -> list[tuple[str, float]]:
        """Topics co-mentioned with ``topic``, plus topics the same viewers mention (weighted less)."""
        tn = topic_node(topic.lower())
        if tn not in self.g:
            return []
        score: dict[str, float] = {}
        for _, v, k, d in self.g.out_edges(tn, keys=True, data=True):
            if k == "related":
                score[v] = score.get(v, 0.0) + d["weight"]
        for viewer, _, k, _d in self.g.in_edges(tn, keys=True, data=True):
            if k != "mentions":
                continue
            for _, v, k2, d2 in self.g.out_edges(viewer, keys=True, data=True):
                if k2 == "mentions" and v != tn and self.g.nodes[v].get("type") == "topic":
                    score[v] = score.get(v, 0.0) + 0.25 * d2["weight"]
        best = sorted(score.items(), key=lambda kv: -kv[1])[:n]
        return [(self.g.nodes[v]["label"], w) for v, w in best]

    def neighbours(self, viewer_id: str, n: int = 20) -> list[dict[str, Any]]:
        """Everything a viewer node links to or from, for ``GET /api/viewers/{id}``."""
        vn = viewer_node(viewer_id)
        if vn not in self.g:
            return []
        rows = []
        for u, v, k, d in list(self.g.out_edges(vn, keys=True, data=True)) + list(
                self.g.in_edges(vn, keys=True, data=True)):
            other = v if u == vn else u
            rows.append({"node": other, "type": self.g.nodes[other].get("type"),
                         "label": self.g.nodes[other].get("label"), "edge": k,
                         "direction": "out" if u == vn else "in", "weight": round(d["weight"], 3),
                         "first_seen": d["first_seen"], "last_seen": d["last_seen"]})
        rows.sort(key=lambda r: -r["weight"])
        return rows[:n]

    def has_viewer(self, viewer_id: str) -> bool:
        return viewer_node(viewer_id) in self.g

    # -- forgetting ------------------------------------------------------------------------------
    def forget_viewer(self, viewer_id: str) -> tuple[bool, int]:
        """Remove the viewer's node and every edge to or from it; topics/entities only that
        viewer mentioned go too. Returns (node removed, edges removed)."""
        vn = viewer_node(viewer_id)
        if vn not in self.g:
            return False, 0
        touched = set(self.g.successors(vn)) | set(self.g.predecessors(vn))
        n_edges = self.g.out_degree(vn) + self.g.in_degree(vn)
        self.g.remove_node(vn)
        for node in touched:
            if node in self.g and self.g.nodes[node].get("type") != "viewer":
                if not any(self.g.nodes[p].get("type") == "viewer" for p in self.g.predecessors(node)):
                    n_edges += self.g.degree(node)
                    self.g.remove_node(node)
        return True, n_edges

    # -- persistence -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"last_id": self.last_id,
                "graph": nx.node_link_data(self.g, edges="edges")}

    def save(self, path: Path) -> None:
        """Atomic write (tmp file, fsync, rename)."""
        # orjson: the encoder holds the GIL throughout; a big graph stalls every thread less.
        write_atomic(path, orjson.dumps(self.to_json(), option=orjson.OPT_NON_STR_KEYS))

    @classmethod
    def load(cls, path: Path) -> "KnowledgeGraph":
        """Load a saved graph; a missing or unreadable file gives an empty graph (the store then
        replays its records into it)."""
        kg = cls()
        try:
            data = json.loads(path.read_text())
            kg.g = nx.node_link_graph(data["graph"], directed=True, multigraph=True, edges="edges")
            kg.last_id = int(data["last_id"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return kg

    def stats(self) -> dict[str, int]:
        types: dict[str, int] = {}
        for _, t in self.g.nodes(data="type"):
            types[t] = types.get(t, 0) + 1
        return {"nodes": self.g.number_of_nodes(), "edges": self.g.number_of_edges(), **types}
