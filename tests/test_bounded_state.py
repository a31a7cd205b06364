"""Issue 13, memory stays flat: everything that grows with viewers is bounded, with the right
semantics once full (a viewer is "new" only when not seen among the last N, never forever)."""
from __future__ import annotations

from companion.analytics import channel as channel_mod
from companion.analytics.channel import ChannelAnalytics
from companion.lru import LruDict, LruSet
from companion.messages import ChatMessage
from companion.records import AnalysisRecord


def test_lru_dict_keeps_the_recently_used() -> None:
    d: LruDict[str, int] = LruDict(3)
    for k in "abc":
        d[k] = ord(k)
    assert d.get("a") == 97  # touched: now the newest
    d["d"] = 100
    assert list(d) == ["c", "a", "d"] and d.evicted == 1
    s: LruSet[str] = LruSet(2, ["x", "y"])
    assert s.touch("x") is True and s.touch("z") is False
    assert list(s) == ["x", "z"] and len(s) == 2


def test_new_chatters_stay_right_after_the_seen_cap(monkeypatch) -> None:
    monkeypatch.setattr(channel_mod, "MAX_SEEN", 3)
    ch = ChannelAnalytics("c", clock=lambda: 1_700_000_000.0)

    def new_count(user: str) -> int:
        before = sum(b.new_viewers.__len__() for b in ch.windows.buckets)
        msg = ChatMessage(text="hi", user=user, channel="c", ts=1_700_000_000.0)
        ch.add(msg, AnalysisRecord.for_message(msg))
        return sum(len(b.new_viewers) for b in ch.windows.buckets) - before

    for user in ("a", "b", "c", "d"):
        assert new_count(user) == 1  # each is new once
    assert new_count("d") == 0  # after the cap a returning viewer is no longer new forever
    assert len(ch.seen) == 3


def test_memory_and_character_caches_are_bounded(tmp_path, monkeypatch) -> None:
    from companion.character import engine as char_engine
    from memory_store import store as store_mod
    from pipelines.event import Event

    monkeypatch.setattr(store_mod, "PROFILE_CACHE", 5)
    monkeypatch.setattr(store_mod, "LOGIN_CACHE", 7)
    monkeypatch.setattr(char_engine, "MAX_VIEWERS", 4)
    mem = store_mod.MemoryStore(tmp_path / "mem")
    ch = char_engine.CharacterEngine(tmp_path / "char")
    events = []
    for i in range(30):
        msg = ChatMessage(text=f"I like cozy games {i}", user=f"v{i}", channel="c", ts=1_700_000_000.0 + i)
        events.append(Event(msg, AnalysisRecord.for_message(msg)))
    mem.remember(events)
    ch.process_batch(events)
    assert len(mem._profiles) <= 5 and len(mem._logins) <= 7 and len(ch.viewers) <= 4
    assert mem.db.counts()["profiles"] == 30  # nothing lost: LMDB keeps every profile
    assert mem.viewer_profile("replay:v0").message_count == 1  # read back after eviction
    mem.close()
