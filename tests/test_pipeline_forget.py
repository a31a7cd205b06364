"""Moderator deletions reach memory even when they overtake their message in the pipeline."""
from __future__ import annotations

from pathlib import Path

from memory_store import MemoryStore
from memory_store.stage import RememberStage
from pipelines.forget import ForgetStage
from tests.memory_fakes import Clock, HashEmbed, event


async def _through(stages, events) -> None:
    for stage in stages:
        await stage.process(events)


async def test_clearmsg_before_and_after_the_message_is_stored(tmp_path: Path) -> None:
    clock = Clock()
    store = MemoryStore(tmp_path, embed=HashEmbed(), clock=clock)
    forget = ForgetStage(store)
    stages = [RememberStage(store), forget]
    try:
        early = event("my cat is called Miso and she is great", mid="m-early", importance=0.9)
        late = event("I live in Helsinki and love saunas", mid="m-late", importance=0.9,
                     user="bob")
        # The deletion arrives first: nothing stored yet, so it waits as a tombstone.
        assert await forget.forget_message("m-early") is False
        await _through(stages, [early, late])
        assert early.record.memory.stored is False
        assert store.forget_message("m-early") is False  # already gone
        texts = {h.text for h in store.search("cat Miso", k=10)}
        assert "my cat is called Miso and she is great" not in texts
        # The other message was kept; a later CLEARMSG removes it from memory at once.
        assert late.record.memory.stored is True
        assert await forget.forget_message("m-late") is True
        assert all(h.text != late.message.text for h in store.search("Helsinki", k=10))
    finally:
        store.close()


async def test_clearchat_forgets_in_flight_messages_of_the_user(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path, embed=HashEmbed(), clock=Clock())
    forget = ForgetStage(store)
    stages = [RememberStage(store), forget]
    try:
        before = event("first thing I said is important", user="troll", mid="t1", importance=0.9)
        await _through(stages, [before])
        assert before.record.memory.stored
        n = await forget.forget_user("#chan", "troll", until_ts=1_700_000_000.0 + 5)
        assert n >= 1
        in_flight = event("second thing, sent before the ban", user="troll", mid="t2",
                          importance=0.9, ts=1_700_000_000.0 + 1)
        other = event("an innocent bystander speaks", user="kind", mid="k1", importance=0.9)
        await _through(stages, [in_flight, other])
        assert in_flight.record.memory.stored is False and other.record.memory.stored is True
        assert all(h.viewer != in_flight.message.viewer_key
                   for h in store.search("thing I said", k=20))
    finally:
        store.close()
