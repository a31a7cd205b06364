"""Decay, reinforcement, consolidation and pruning under an advanced clock."""
from __future__ import annotations

import math

import numpy as np

from memory_store import MemoryConfig, MemoryStore
from memory_store import decay
from memory_store.config import DAY
from tests.memory_fakes import Clock, event, unit

CFG = MemoryConfig()


def test_retention_is_ebbinghaus_and_pinned_never_decays():
    assert decay.retention(0, 100) == 1.0
    assert math.isclose(float(decay.retention(100, 100)), math.exp(-1))
    assert float(decay.retention(10 * DAY, DAY, pinned=True)) == 1.0
    # Recall grows stability, so the same elapsed time leaves more retention.
    s0 = decay.initial_stability(0.5, CFG)
    assert decay.retention(DAY, decay.reinforce(s0, CFG)) > decay.retention(DAY, s0)


def test_consolidation_score_weights_are_configurable():
    assert math.isclose(float(decay.consolidation_score(1.0, 0, CFG)), 0.6)
    assert math.isclose(float(decay.consolidation_score(0.0, 5, CFG)), math.tanh(1) * 0.4)
    cfg = MemoryConfig(consolidation_importance_weight=0.2, consolidation_access_weight=0.8)
    assert math.isclose(float(decay.consolidation_score(1.0, 0, cfg)), 0.2)


def test_short_term_promotes_on_access_and_expires_otherwise(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock, config=MemoryConfig(short_term_ttl_s=600))
    a = event("lol", user="a", ts=clock.t, importance=0.0, mid="m-a")
    b = event("pog", user="b", ts=clock.t, importance=0.0, mid="m-b")
    store.remember([a, b])
    assert a.record.memory.tier == b.record.memory.tier == "short_term"
    for _ in range(6):  # recalled often: tanh(6/5) * 0.4 > 0.3
        hits = store.search_vector(a.embedding, viewer="twitch:a", k=1)
        assert hits and hits[0].msg_id == "m-a"
    clock.advance(601)
    report = store.consolidate()
    assert report["promoted"] == 1 and report["expired"] == 1
    tiers = {h.msg_id: h.tier for h in store.search_vector(a.embedding, k=5, reinforce=False)}
    assert tiers == {"m-a": "long_term"}
    store.close()


def test_buffer_overflow_consolidates_oldest(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock, config=MemoryConfig(short_term_size=3))
    evs = [event(f"msg {i}", user=f"u{i}", ts=clock.t + i, importance=0.0, mid=f"m{i}") for i in range(5)]
    store.remember(evs[:3])
    store.remember(evs[3:])
    assert [r.msg_id for r in store.short_term("chan")] == ["m2", "m3", "m4"]
    assert store.stats()["memories"] == 3
    store.close()


def test_pruning_keeps_important_and_pinned_after_a_month(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock, config=MemoryConfig(consolidate_every_s=1e12))
    trivial = event("just a thought about nothing", user="a", importance=0.2, mid="low")
    said = event("the bakery on Elm street hired me", user="a", importance=0.5, mid="said")
    important = event("I adopted a rescue dog yesterday", user="a", importance=0.9, mid="high")
    pinned = event("my name is Alice", user="a", importance=0.0, mid="pin")
    store.remember([trivial, said, important, pinned])
    store.cfg.promote_threshold = 0.12  # promote the trivial line too (0.6 * 0.2)
    store.consolidate()
    assert pinned.record.memory.tier == "core"
    assert important.record.memory.tier == said.record.memory.tier == "long_term"
    clock.advance(7 * DAY)
    assert store.consolidate()["pruned"] == 0  # R * importance still above 0.01 for all
    clock.advance(23 * DAY)
    out = store.consolidate()
    left = {h.msg_id: h for h in store.search_vector(unit(1), k=10, reinforce=False)}
    # Faded but not trivial: kept while the store is under capacity (months-later recall).
    assert out["pruned"] == 1 and set(left) == {"said", "high", "pin"}
    store.cfg.long_term_capacity = 1  # over capacity: the most faded goes first
    assert store.consolidate()["pruned"] == 1
    left = {h.msg_id: h for h in store.search_vector(unit(1), k=10, reinforce=False)}
    assert set(left) == {"high", "pin"}
    assert left["pin"].parts["recency"] == 1.0
    expected = math.exp(-30 * DAY / float(decay.initial_stability(0.9, store.cfg)))
    assert math.isclose(left["high"].parts["recency"], expected, rel_tol=1e-3)
    store.close()


def test_recall_raises_stability_and_resets_the_curve(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    ev = event("I play the cello in an orchestra", importance=0.5, mid="cello")
    store.remember([ev])
    clock.advance(2 * DAY)
    before = store.search_vector(ev.embedding, k=1)[0]  # this search is a recall
    clock.advance(2 * DAY)
    after = store.search_vector(ev.embedding, k=1, reinforce=False)[0]
    assert after.access == 1
    assert after.parts["recency"] > before.parts["recency"]
    s0 = float(decay.initial_stability(after.importance, store.cfg))
    assert math.isclose(after.parts["recency"], math.exp(-2 * DAY / (2 * s0)), rel_tol=1e-3)
    store.close()
    # The grown stability was persisted.
    store = MemoryStore(tmp_path, clock=clock)
    again = store.search_vector(ev.embedding, viewer="twitch:alice", k=1, reinforce=False)[0]
    assert np.isclose(again.parts["recency"], after.parts["recency"]) and again.access == 1
    store.close()
