"""Degraded messages shed the encoder on the memory path too: stored at once without a vector,
found by their words meanwhile, embedded later by ``backfill_vectors`` (also after a restart),
and the character's recall for them skips the encoder."""
from __future__ import annotations

import asyncio

from companion.character import CharacterConfig, CharacterEngine
from memory_store import MemoryStore
from memory_store.stage import RememberStage
from tests.character_fakes import event as char_event
from tests.memory_fakes import Clock, HashEmbed, event, unit


def degraded(text: str, mid: str, user: str = "alice"):
    ev = event(text, user=user, importance=0.6, mid=mid)
    ev.embedding = None
    ev.record.degraded = True
    return ev


def test_degraded_memory_is_stored_without_encoder_then_backfilled(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=Clock())
    ev = degraded("my train to glasgow leaves at noon", "d1")
    store.remember([ev])
    assert ev.record.memory.stored and emb.calls == 0  # no encoder pass under load
    assert store.vector_backlog == 1 and store.stats()["vectors"] == 0
    hits = store.search("train to glasgow", k=3, reinforce=False)  # found by its words meanwhile
    assert hits and hits[0].msg_id == "d1"
    assert store.backfill_vectors() == 1 and store.vector_backlog == 0
    assert store.stats()["vectors"] == 1
    assert store.search_vector(unit("my train to glasgow leaves at noon"), k=1)[0].msg_id == "d1"
    assert store.backfill_vectors() == 0
    store.close()


def test_backlog_survives_a_restart_and_skips_forgotten(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=Clock())
    store.remember([degraded("first deferred line about cats", "a"),
                    degraded("second deferred line about dogs", "b", user="bob")])
    store.forget_viewer("twitch:bob")
    store.db.close()  # no close(): like a crash before any backfill
    again = MemoryStore(tmp_path, embed=emb, clock=Clock())
    assert again.vector_backlog >= 1
    assert again.backfill_vectors() == 1  # bob's memory is gone, only alice's is embedded
    assert again.stats()["vectors"] == 1
    again.close()


def test_non_degraded_missing_embedding_is_still_embedded_at_once(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=Clock())
    ev = event("embedding lost somewhere", importance=0.6, mid="x")
    ev.embedding = None  # not degraded: the store embeds it in the same batch
    store.remember([ev])
    assert emb.calls == 1 and store.vector_backlog == 0 and store.stats()["vectors"] == 1
    store.close()


def test_remember_stage_backfills_after_a_deep_batch(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=Clock())
    stage = RememberStage(store)

    async def go():
        await stage.process([degraded("deferred while busy", "d")])
        assert store.vector_backlog == 1  # still degraded: nothing backfilled
        await stage.process([event("calm again now", importance=0.6, mid="c")])

    asyncio.run(go())
    assert store.vector_backlog == 0 and store.stats()["vectors"] == 2
    store.close()


def test_character_recall_skips_the_encoder_for_a_degraded_pick(tmp_path):
    emb = HashEmbed()
    store = MemoryStore(tmp_path / "mem", embed=emb, clock=Clock())
    store.remember([event("my cat is called Miso", user="alice", importance=0.9, mid="f1")])
    ch = CharacterEngine(tmp_path / "ch", memory=store, config=CharacterConfig.from_dict({}),
                         clock=lambda: 1_700_000_100.0)
    ev = char_event("Aiko how is Miso doing?", user="alice", msg_id="q1")
    ev.record.degraded = True
    ev.embedding = None
    before = emb.calls
    ch.process_batch([ev])
    assert emb.calls == before  # no query embedding on the degraded path
    calm = char_event("Aiko how is Miso doing today?", user="alice", msg_id="q2")
    ch.process_batch([calm])
    assert emb.calls == before + 1  # a normal pick without a vector still recalls (embeds its query)
    store.close()
