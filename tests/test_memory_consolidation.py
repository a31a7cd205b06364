"""Consolidation that merges: near-duplicate repeats, corrected core facts, episode cuts."""
from __future__ import annotations

from memory_store import MemoryConfig, MemoryStore
from tests.memory_fakes import Clock, event, near, unit


def test_near_duplicates_of_one_viewer_merge(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    v = unit("ramen")
    t = clock.t
    store.remember([event("I could eat ramen every single day", user="ana", ts=t, vec=v, mid="a1")])
    store.remember([event("i could eat RAMEN every single day!!", user="ana", ts=t + 60,
                          vec=unit("other wording"), mid="a2")])  # same words, other case
    store.remember([event("honestly I could eat spicy miso ramen every single day", user="ana",
                          ts=t + 120, vec=near(v, 0.97, 1), mid="a3")])  # a paraphrase, richer
    store.remember([event("I could eat ramen every single day", user="ben", ts=t + 180, vec=v,
                          mid="b1")])  # another viewer: their own memory
    mems = store.viewer_memories("twitch:ana")
    assert len(mems) == 1
    rec = store.db.get_memories([mems[0]["id"]])[0]
    assert rec.count == 3 and rec.ts == t and rec.last_seen == t + 120
    assert rec.text == "honestly I could eat spicy miso ramen every single day"  # best wording
    assert set(rec.merged_msg_ids) == {"a2", "a3"}
    assert len(store.viewer_memories("twitch:ben")) == 1
    # The richer wording is what lexical search now finds, and CLEARMSG of a repeat forgets it.
    assert store.search_vector(v, k=1, reinforce=False, text="miso")[0].id == rec.id
    assert store.forget_message("a3") and store.viewer_memories("twitch:ana") == []
    store.close()


def test_different_lines_do_not_merge(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    store.remember([event("I could eat ramen every single day", user="ana", mid="a1"),
                    ])
    store.remember([event("my sister is visiting from Leeds", user="ana", ts=clock.t + 5, mid="a2")])
    assert len(store.viewer_memories("twitch:ana")) == 2
    store.close()


def test_core_fact_correction_repins(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    store.remember([event("my cat is called Mochi", user="ana", mid="f1")])
    prof = store.viewer_profile("twitch:ana")
    assert prof.facts["pet_cat"] == "Mochi"
    first = prof.fact_ids["pet_cat"]
    clock.advance(3600)
    store.remember([event("sorry, typo: my cat is called Moshi", user="ana", ts=clock.t, mid="f2")])
    prof = store.viewer_profile("twitch:ana")
    assert prof.facts["pet_cat"] == "Moshi" and prof.fact_ids["pet_cat"] != first
    tiers = {m["msg_id"]: (m["tier"], m["pinned"]) for m in store.viewer_memories("twitch:ana")}
    assert tiers == {"f1": ("long_term", False), "f2": ("core", True)}
    new = store.db.get_memories([prof.fact_ids["pet_cat"]])[0]
    assert new.fact_key == "pet_cat"
    store.close()
    again = MemoryStore(tmp_path, clock=clock)  # persisted
    assert again.facts("twitch:ana")["pet_cat"] == "Moshi"
    assert {m["msg_id"]: m["pinned"] for m in again.viewer_memories("twitch:ana")} == {"f1": False, "f2": True}
    again.close()
