"""Retrieval order, score explanations, filters, and the IVF path against exact search."""
from __future__ import annotations

import math

import numpy as np
import pytest

from memory_store import MemoryConfig, MemoryRecord, MemoryStore
from memory_store.config import DAY
from tests.memory_fakes import Clock, HashEmbed, event, near, unit


def test_order_and_score_parts(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    q = unit(42)
    evs = [event("close match", user="a", vec=near(q, 0.9, 1), importance=0.5, mid="close"),
           event("medium match", user="b", vec=near(q, 0.6, 2), importance=0.5, mid="medium"),
           event("far match", user="c", vec=near(q, 0.1, 3), importance=0.5, mid="far")]
    store.remember(evs)
    hits = store.search_vector(q, k=3, reinforce=False)
    assert [h.msg_id for h in hits] == ["close", "medium", "far"]
    cfg = store.cfg
    for h in hits:
        p = h.parts
        assert set(p) == {"relevance", "recency", "importance", "dense", "lexical", "graph", "fusion"}
        assert p["lexical"] == 0.0 and p["graph"] == 0.0 and p["fusion"] == p["dense"] == h.score
        assert math.isclose(h.score, cfg.w_relevance * p["relevance"] + cfg.w_recency * p["recency"]
                            + cfg.w_importance * p["importance"], abs_tol=2e-4)
        d = h.to_dict()
        assert d["parts"] == p and d["id"] == h.id and d["viewer"] == h.viewer
    assert math.isclose(hits[0].parts["relevance"], 0.9, abs_tol=1e-3)
    store.close()


def test_recency_and_importance_can_outrank_relevance(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    q = unit(7)
    old = event("old but relevant", user="a", vec=near(q, 0.8, 1), importance=0.5, mid="old")
    store.remember([old])
    clock.advance(20 * DAY)
    fresh = event("fresh and important", user="b", vec=near(q, 0.6, 2), importance=0.95, mid="fresh",
                  ts=clock.t)
    store.remember([fresh])
    hits = store.search_vector(q, tier="long_term", k=2, reinforce=False)
    assert [h.msg_id for h in hits] == ["fresh", "old"]
    assert hits[1].parts["relevance"] > hits[0].parts["relevance"]
    assert hits[1].parts["recency"] < 0.05 < hits[0].parts["recency"]
    # With recency and importance weighted at zero, relevance alone decides.
    store.cfg.w_recency = store.cfg.w_importance = 0.0
    assert [h.msg_id for h in store.search_vector(q, tier="long_term", k=2, reinforce=False)] == [
        "old", "fresh"]
    store.close()


def test_filters(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    q = unit(9)
    t0 = clock.t
    store.remember([
        event("a in x", user="a", channel="x", ts=t0, vec=near(q, 0.9, 1), importance=0.6, mid="ax"),
        event("a in y", user="a", channel="y", ts=t0 + 100, vec=near(q, 0.8, 2), importance=0.6, mid="ay"),
        event("b in x", user="b", channel="x", ts=t0 + 200, vec=near(q, 0.95, 3), importance=0.0, mid="bx"),
        event("my name is Bob", user="b", channel="y", ts=t0 + 300, vec=near(q, 0.5, 4), mid="core"),
    ])
    ids = lambda **kw: {h.msg_id for h in store.search_vector(q, k=10, reinforce=False, **kw)}
    assert ids(viewer="twitch:a") == {"ax", "ay"}
    assert ids(channel="x") == {"ax", "bx"}
    assert ids(tier="short_term") == {"bx"}
    assert ids(tier="core") == {"core"}
    assert ids(since=t0 + 50, until=t0 + 250) == {"ay", "bx"}
    assert ids(viewer="twitch:a", channel="y") == {"ay"}
    assert ids(viewer="twitch:nobody") == set()
    with pytest.raises(ValueError):
        store.search_vector(q, tier="mid_term")
    store.close()


def test_text_search_uses_embed_and_needs_one(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb)
    ev = event("I collect vintage synthesizers", importance=0.6, mid="synth")
    store.remember([ev])
    emb.alias["what does alice collect?"] = near(ev.embedding, 0.7)
    assert store.search("what does alice collect?", k=1)[0].msg_id == "synth"
    store.close()
    with pytest.raises(RuntimeError):
        MemoryStore(tmp_path / "x").search("anything")


def test_degraded_events_are_embedded_by_the_store(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path / "a", embed=emb)
    ev = event("degraded line about trains", importance=0.6, mid="d")
    ev.embedding = None
    store.remember([ev])
    assert ev.record.memory.stored and emb.calls == 1
    assert store.search_vector(unit("degraded line about trains"), k=1)[0].msg_id == "d"
    store.close()
    bare = MemoryStore(tmp_path / "b")  # no encoder: kept in LMDB, not vector-searchable
    ev2 = event("no vector here", importance=0.6, mid="nv")
    ev2.embedding = None
    bare.remember([ev2])
    assert ev2.record.memory.stored and bare.stats()["vectors"] == 0
    assert bare.viewer_memories("twitch:alice")[0]["msg_id"] == "nv"
    bare.close()


def test_ivf_path_matches_exact_search(tmp_path):
    """Past ivf_min_vectors the store trains IVF-SQ8; its answers agree with brute force."""
    rng = np.random.default_rng(0)
    cfg = MemoryConfig(ivf_min_vectors=4000, ivf_nlist=32, ivf_nprobe=8, exact_filter_max=100)
    store = MemoryStore(tmp_path, config=cfg)
    centers = rng.standard_normal((50, 384)).astype(np.float32)
    x = centers[rng.integers(0, 50, 6000)] + 0.7 * rng.standard_normal((6000, 384)).astype(np.float32) / np.sqrt(384) * 10
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    recs = [MemoryRecord(id=0, text=f"m{i}", viewer=f"v{i % 300}", channel=f"c{i % 2}",
                         tier="long_term", importance=0.5, ts=float(i)) for i in range(len(x))]
    ids = store.insert(recs, x)
    assert store.stats()["index"]["type"] == "ivf_sq8"
    cfg.w_recency = cfg.w_importance = 0.0  # compare pure relevance with exact search
    recall = []
    for qi in range(20):
        q = x[rng.integers(0, len(x))] + 0.05 * rng.standard_normal(384).astype(np.float32)
        q /= np.linalg.norm(q)
        exact = set(np.argsort(-(x @ q))[:10].tolist())
        got = {ids.index(h.id) for h in store.search_vector(q, k=10, reinforce=False)}
        recall.append(len(got & exact) / 10)
        # Channel filter (broad: IVF with a bitmap) and viewer filter (exact over few rows).
        for h in store.search_vector(q, channel="c1", k=5, reinforce=False):
            assert h.channel == "c1"
        vhits = store.search_vector(q, viewer="v7", k=3, reinforce=False)
        vrows = [i for i in range(len(x)) if i % 300 == 7]
        best = sorted(vrows, key=lambda i: -float(x[i] @ q))[:3]
        assert [ids.index(h.id) for h in vhits] == best
    assert np.mean(recall) >= 0.9
    store.close()
    again = MemoryStore(tmp_path, config=cfg)  # reopens from the IVF snapshot
    assert again.stats()["index"]["type"] == "ivf_sq8" and again.recovery["snapshot_rows"] == 6000
    again.close()


def test_bad_vectors_are_rejected_without_losing_the_memory(tmp_path):
    store = MemoryStore(tmp_path)
    bad = event("a line with a broken vector", importance=0.6, mid="bad", vec=np.ones(12, dtype=np.float32))
    good = event("a fine line", importance=0.6, mid="good")
    store.remember([bad, good])
    assert bad.record.memory.stored and good.record.memory.stored
    assert store.stats()["vectors"] == 1 and store.stats()["memories"] == 2
    with pytest.raises(ValueError):
        store.search_vector(np.ones(10, dtype=np.float32))
    store.close()
