"""Recommendations worth acting on: memories above the relevance floor only, best first; recall
never reinforces, a reply that used a memory does; every relationship stage has a closeness."""
from __future__ import annotations

import pytest

from companion.character import CharacterConfig, CharacterEngine
from companion.character.pick import RELATIONSHIP_CLOSENESS, Candidate, relationship_closeness
from companion.character.recommender import recall
from companion.character.tone import choose_tone
from memory_store import MemoryStore
from memory_store.profiles import STAGES
from tests.character_fakes import FakeMemory, Hit, event
from tests.memory_fakes import Clock, HashEmbed, near, unit
from tests.memory_fakes import event as mem_event


class ScoredMemory(FakeMemory):
    """Returns fixed hits, to check ordering and the floor."""

    def __init__(self, hits: dict[str | None, list[Hit]]) -> None:
        super().__init__()
        self.hits = hits

    def search(self, q, viewer=None, k=5, reinforce=True):
        self.searches.append(reinforce)
        return self.hits.get(viewer, [])[:k]


def test_recall_sorts_by_score_applies_the_floor_and_never_reinforces():
    mem = ScoredMemory({
        "twitch:alice": [Hit("m1", "alice likes Celeste", 0.30, {"relevance": 0.62}),
                         Hit("m2", "hiii Aiko HeyGuys", 0.25, {"relevance": 0.08})],
        None: [Hit("m3", "bob beat Celeste yesterday", 0.55, {"relevance": 0.71}),
               Hit("m4", "good evening chat", 0.40, {"relevance": 0.12})],
    })
    got = recall(mem, "Aiko do you like Celeste?", "twitch:alice", k=5, floor=0.3)
    assert [m.memory_id for m in got] == ["m3", "m1"]  # irrelevant ones dropped, best score first
    assert mem.searches and not any(mem.searches)  # every search was reinforce=False
    assert [m.memory_id for m in recall(mem, "q", "twitch:alice", k=5, floor=0.0)] == ["m3", "m4", "m1", "m2"]
    assert recall(mem, "q", "twitch:alice", k=5, floor=0.9) == []


def test_default_floor_is_tuned_not_zero():
    assert CharacterConfig.from_dict().memory_relevance_floor > 0.0


def test_recall_does_not_reinforce_but_an_acknowledged_reply_does(tmp_path):
    embed = HashEmbed()
    store = MemoryStore(tmp_path / "mem", embed=embed, clock=Clock())
    try:
        fact = mem_event("my cat is called Miso", user="alice", importance=0.9, mid="f1", vec=unit("miso"))
        store.remember([fact])
        embed.alias["how is Miso doing?"] = near(unit("miso"), 0.9)  # recall searches without the name
        cfg = CharacterConfig.from_dict({"memory_relevance_floor": 0.5})
        ch = CharacterEngine(tmp_path / "ch", memory=store, config=cfg, clock=lambda: 1_700_000_100.0)
        mid = store.table.row_of and next(iter(store.table.row_of))
        row = store.table.row_of[mid]
        before = float(store.table.stability[row])
        recs = ch.process_batch([event("Aiko how is Miso doing?", user="alice", msg_id="q1")])
        offered = [m.memory_id for r in recs for m in r.memories]
        assert offered == [str(mid)]
        assert float(store.table.stability[row]) == before  # looking it up changed nothing
        assert ch.acknowledge(["999", "nonsense"], "q1") == {"reinforced": 0, "ignored": ["999", "nonsense"]}
        assert float(store.table.stability[row]) == before
        assert ch.acknowledge(offered, "q1")["reinforced"] == 1
        assert float(store.table.stability[row]) > before
    finally:
        store.close()


@pytest.mark.parametrize("stage", STAGES)
def test_every_relationship_stage_has_a_closeness(stage):
    assert stage in RELATIONSHIP_CLOSENESS
    # the label decides, not the message count (a hostile regular has many messages)
    assert relationship_closeness(stage, 500) == RELATIONSHIP_CLOSENESS[stage]


def test_stages_are_ordered_and_strained_is_not_close():
    close = [relationship_closeness(s, 500) for s in ("new", "acquaintance", "regular", "friend")]
    assert close == sorted(close) and close[0] < close[-1]
    assert relationship_closeness("strained", 500) == 0.0


@pytest.mark.parametrize("stage,expect_playful", [("friend", True), ("regular", True), ("strained", False)])
def test_strained_regular_is_never_given_the_playful_tone(stage, expect_playful):
    ev = event("that boss fight earlier was something", user="someone")
    c = Candidate(message=ev.message, record=ev.record, seen_at=0.0, relationship=stage, message_count=500)
    levels = {"dopamine": 0.6, "serotonin": 0.6, "cortisol": 0.15, "oxytocin": 0.5}
    tone = choose_tone(c, levels, pleasure=0.4)
    assert (tone.tone == "playful") is expect_playful, tone
