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


def _chat(store, lines, t0, step, sentiment):
    evs = []
    for i, (user, text) in enumerate(lines):
        evs.append(event(text, user=user, ts=t0 + i * step, sentiment=sentiment, mid=f"{text[:8]}{t0}{i}"))
    for i in range(0, len(evs), 8):
        store.remember(evs[i: i + 8])
    return t0 + len(lines) * step


def test_episodes_cut_on_topic_shift_with_a_summary_from_the_data(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    boss = ["the elden ring boss fight is brutal", "elden ring boss needs a summon",
            "malenia in elden ring is the hardest boss", "this elden ring boss has two phases"]
    food = ["pineapple pizza toppings debate again", "pizza toppings ranking time",
            "best pizza toppings are mushrooms", "pizza toppings war in chat"]
    users = ["alice", "bob", "carol", "alice"]
    t = _chat(store, [(users[i % 4], boss[i % 4]) for i in range(40)], clock.t, 15, -0.3)
    _chat(store, [(users[(i + 1) % 4], food[i % 4]) for i in range(30)], t, 15, 0.25)
    eps = store.episodes()
    assert eps and eps[-1].reason == "topic_shift"
    first = eps[-1]
    assert "elden ring" in first.topics[0] or "elden ring" in " ".join(first.topics)
    assert first.participants[0][1] == "alice" and first.message_counts["twitch:alice"] >= 20
    s = first.summary
    assert "alice" in s and "elden ring" in s and "Ended on a topic shift" in s
    assert "Mood went from tense to" in s  # the pizza lines at the end lift the mood
    store.close()


def test_episodes_cut_on_an_activity_burst(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    t = _chat(store, [(f"u{i % 5}", f"steady chat line number {i} about the map") for i in range(40)],
              clock.t, 20, 0.0)
    _chat(store, [(f"raider{i}", f"raid hype hype number {i}") for i in range(30)], t, 0.5, 0.0)
    eps = store.episodes()
    assert eps and eps[-1].reason == "activity_shift"
    assert store.stats()["open_episodes"] == 1
    store.close()


def test_related_memories_form_one_consolidated_memory(tmp_path):
    clock = Clock()
    store = MemoryStore(tmp_path, clock=clock)
    g = unit("garden")
    lines = ["I'm growing tomatoes in the community garden", "the garden courgettes are taking over",
             "we won a prize for the biggest pumpkin at the garden", "volunteering at the garden again sunday"]
    store.remember([event(t, user="elena", ts=clock.t + i, vec=near(g, 0.9, i), importance=0.6, mid=f"g{i}")
                    for i, t in enumerate(lines)]
                   + [event("I finished Elden Ring in 140 hours", user="elena", ts=clock.t + 9,
                            vec=unit("elden"), importance=0.6, mid="other")])
    out = store.consolidate()
    assert out["grouped"] == 1
    summary = [h for h in store.search_vector(g, k=10, reinforce=False) if h.msg_id == ""]
    assert len(summary) == 1
    srec = store.db.get_memories([summary[0].id])[0]
    assert srec.kind == "summary" and srec.count == 4 and srec.viewer == "twitch:elena"
    originals = store.db.get_memories(srec.summary_of)
    assert {r.msg_id for r in originals} == {"g0", "g1", "g2", "g3"}
    assert all(r.summary_id == srec.id for r in originals)
    assert srec.text.startswith("elena said 4 related things") and sum(t in srec.text for t in lines) == 3
    assert "Elden Ring" not in srec.text
    assert store.consolidate()["grouped"] == 0  # grouped memories are not grouped again
    # A text search answers with what was said: the group lends its rank to an original.
    hits = store.search_vector(g, k=10, reinforce=False, text="what is elena growing in the garden")
    assert hits and all(h.msg_id for h in hits) and hits[0].msg_id.startswith("g")
    assert len(store.viewer_memories("twitch:elena")) == 6  # the originals stay
    store.close()
