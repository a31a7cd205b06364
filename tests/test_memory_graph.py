"""Knowledge graph: edges from messages, queries, and persistence round-trip."""
from __future__ import annotations

from memory_store import KnowledgeGraph, MemoryStore
from tests.memory_fakes import Clock, event


def _feed(store: MemoryStore, clock: Clock) -> None:
    t = clock.t
    store.remember([
        event("I really love playing Elden Ring boss fights", user="alice", ts=t, sentiment=0.8, mid="1"),
        event("bob",  user="bob", ts=t + 1, sentiment=0.0, mid="2"),
        event("@bob have you tried the Elden Ring dlc yet", user="alice", ts=t + 2, sentiment=0.1, mid="3"),
        event("yes the dlc boss fights are brutal", user="bob", ts=t + 3, sentiment=-0.6,
              reply_to_user="alice", mid="4"),
        event("I hate horror games so much they scare me", user="carol", ts=t + 4, sentiment=-0.7, mid="5"),
    ])


def test_edges_and_queries(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    _feed(store, clock)
    g = store.graph
    top = [t for t, _ in g.top_topics("twitch:alice", 10)]
    assert "elden ring" in top
    assert ("elden ring", 0.8) in [(t, round(w, 2)) for t, w in g.likes("twitch:alice")]
    assert any("horror games" in t for t, _ in g.likes("twitch:carol", dislikes=True))
    talks = {(i["from"], i["to"]) for i in g.interactions()}
    assert talks == {("twitch:alice", "twitch:bob"), ("twitch:bob", "twitch:alice")}
    rel = [t for t, _ in g.related_topics("elden ring")]
    assert rel and any("boss" in t or "dlc" in t or "playing" in t for t in rel)
    edge = g.g.get_edge_data("viewer:twitch:alice", "topic:elden ring", key="mentions")
    assert edge["weight"] == 2 and edge["first_seen"] == clock.t and edge["last_seen"] == clock.t + 2
    view = store.viewer_view("twitch:alice")
    assert view["graph"]["neighbours"] and view["profile"]["message_count"] == 2
    assert "elden ring" in view["profile"]["favourite_topics"]
    store.close()


def test_round_trip_and_replay_after_crash(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    _feed(store, clock)
    store.snapshot()
    before = store.graph.to_json()["graph"]
    store.close()
    loaded = KnowledgeGraph.load(tmp_path / "graph.json")
    assert loaded.to_json()["graph"] == before
    assert loaded.g.number_of_edges() == len(before["edges"]) > 0
    # Lose the graph file entirely: it is replayed from the LMDB records on open.
    (tmp_path / "graph.json").unlink()
    again = MemoryStore(tmp_path, clock=clock)
    assert again.recovery["graph_replayed"] >= 5
    assert {(i["from"], i["to"]) for i in again.graph.interactions()} == {
        ("twitch:alice", "twitch:bob"), ("twitch:bob", "twitch:alice")}
    assert "elden ring" in [t for t, _ in again.graph.top_topics("twitch:alice")]
    again.close()


def test_corrupt_graph_file_gives_replayed_graph(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    _feed(store, clock)
    store.close()
    (tmp_path / "graph.json").write_text("{not json")
    again = MemoryStore(tmp_path, clock=clock)
    assert again.graph.has_viewer("twitch:carol")
    again.close()
