"""Issue 13 on the real stack: a poison message costs exactly itself, a failing sink is counted
and the pipeline goes on and stops, the counters reconcile, RAM follows LMDB, a truncated
``data.mdb`` is refused with a message instead of SIGBUS."""
from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

from companion.engine import Engine, EngineConfig
from companion.messages import ChatMessage
from pipelines.event import Event
from pipelines.noop_analyzer import NoopAnalyzer
from pipelines.runtime import Runtime, RuntimeConfig
from pipelines.sink import JsonlSink

ROOT = Path(__file__).resolve().parents[1]


def _batch(n: int, poison_at: int | None = None) -> list[ChatMessage]:
    msgs = [ChatMessage(text=f"I really love cozy games number {i}", user=f"viewer{i}",
                        channel="chan", ts=1_700_000_000.0 + i) for i in range(n)]
    if poison_at is not None:
        msgs[poison_at].ts = math.nan  # got past an edge: the stages must contain it
    return msgs


async def _serve(engine: Engine) -> asyncio.Task:
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    for _ in range(500):
        if engine.runtime is not None and engine.runtime._policy is not None:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    return task


async def _drained(engine: Engine) -> None:
    for _ in range(1000):
        if engine.runtime.in_flight == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{engine.runtime.in_flight} messages never left the pipeline")


async def test_nan_in_a_batch_of_40_costs_exactly_one(tmp_path: Path) -> None:
    engine = Engine(EngineConfig(data_dir=tmp_path, dashboard=False, out=tmp_path / "out.jsonl"),
                    analyzer=NoopAnalyzer())
    task = await _serve(engine)
    engine.runtime.offer(_batch(40, poison_at=17))
    await _drained(engine)
    counts = await asyncio.to_thread(engine.memory.db.counts)
    assert counts["memories"] == 39 and counts["profiles"] == 39  # the other 39 viewers kept
    assert engine.memory.viewer_profile("replay:viewer17") is None
    assert engine.memory.viewer_profile("replay:viewer16") is not None
    m = engine.metrics
    assert m.counter_value(m.message_errors, stage="remember") == 1  # counted, exactly once
    engine.stop()
    summary = await task
    assert summary.messages == summary.published == 40 and summary.reconciled
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 40
    for line in lines:  # --out stays strict JSON with a NaN timestamp in the batch
        json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


class _Poisoned(NoopAnalyzer):
    """Raises on any batch with a poison message, deep or lexicon."""

    def analyze_messages(self, msgs, deep=True):
        if any("poison" in m.text for m in msgs):
            raise ValueError("model blew up")
        return super().analyze_messages(msgs, deep)


async def test_analyser_poison_costs_one_and_is_counted(tmp_path: Path) -> None:
    class Source:
        can_pause = True

        def __aiter__(self):
            return self._it()

        async def _it(self):
            for i in range(40):
                yield ChatMessage(text="poison" if i == 7 else f"fine {i}", user=f"u{i}")

    rt = Runtime(_Poisoned(), sink=JsonlSink(tmp_path / "o.jsonl"),
                 config=RuntimeConfig(batch_size=64, batch_deadline_ms=50))
    summary = await rt.run([("s", Source())])
    assert summary.published == 39 and summary.failed == 1 and summary.reconciled
    assert rt.metrics.counter_value(rt.metrics.failed, stage="analyze") == 1
    assert "published=39" in summary.line() and "messages=40" in summary.line()


class _FlakySink:
    """Fails every third write, like Redis going away and coming back."""

    def __init__(self) -> None:
        self.calls = 0
        self.written = 0
        self.closed = False

    def write(self, records) -> None:
        self.calls += 1
        if self.calls % 3 == 0:
            raise ConnectionError("redis went away")
        self.written += len(records)

    def close(self) -> None:
        self.closed = True


async def test_failing_sink_is_counted_and_the_pipeline_goes_on_and_stops() -> None:
    class Source:
        can_pause = True

        def __aiter__(self):
            return self._it()

        async def _it(self):
            for i in range(400):
                yield ChatMessage(text=f"m{i}", user=f"u{i % 9}")
                if i % 8 == 0:
                    await asyncio.sleep(0)

    sink = _FlakySink()
    rt = Runtime(NoopAnalyzer(), sink=sink, config=RuntimeConfig(ingest_capacity=32, batch_size=8))
    summary = await asyncio.wait_for(rt.run([("s", Source())]), timeout=30)
    assert summary.published == 400 and summary.reconciled
    assert summary.sink_failures > 0 and summary.sink_failures + sink.written == 400
    assert rt.metrics.counter_value(rt.metrics.sink_failures) == summary.sink_failures
    assert sink.closed


async def test_in_flight_is_bounded_in_messages() -> None:
    """Every queue together holds at most ingest_capacity messages, whatever the batch size."""
    seen: list[int] = []

    class Slow:
        name = "slow"

        async def start(self): ...

        async def stop(self): ...

        async def process(self, events):
            seen.append(rt.in_flight)
            await asyncio.sleep(0.002)

    class Source:
        can_pause = True

        def __aiter__(self):
            return self._it()

        async def _it(self):
            for i in range(300):
                yield ChatMessage(text=f"m{i}")

    rt = Runtime(NoopAnalyzer(), [Slow()], config=RuntimeConfig(ingest_capacity=20, batch_size=4))
    summary = await rt.run([("s", Source())])
    assert summary.published == 300 and max(seen) <= 20


def test_remember_rolls_ram_back_when_the_commit_fails(tmp_path: Path, monkeypatch) -> None:
    from memory_store.store import MemoryStore

    store = MemoryStore(tmp_path / "mem")
    first = [Event(m, NoopAnalyzer().analyze_messages([m])[0].record) for m in _batch(3)]
    store.remember(first)
    before = (store._next_id, store.viewer_profile("replay:viewer0").message_count)
    boom = {"on": True}
    real_put = store.db.put_profile

    def failing_put(txn, p):
        if boom["on"]:
            raise lmdb.MapFullError("disk full")
        return real_put(txn, p)

    monkeypatch.setattr(store.db, "put_profile", failing_put)
    later = _batch(3)
    for m in later:
        m.text = m.text.replace("cozy games", "rainy mornings")  # new memories, same viewers
    again = [Event(m, NoopAnalyzer().analyze_messages([m])[0].record) for m in later]
    with pytest.raises(lmdb.MapFullError):
        store.remember(again)
    assert (store._next_id, store.viewer_profile("replay:viewer0").message_count) == before
    boom["on"] = False
    store.remember(again)
    assert store.viewer_profile("replay:viewer0").message_count == before[1] + 1
    assert store.db.counts()["memories"] == 6
    store.close()


def test_truncated_data_mdb_is_refused_with_a_message(tmp_path: Path) -> None:
    env_dir = tmp_path / "mem" / "lmdb"
    env_dir.mkdir(parents=True)
    env = lmdb.open(str(env_dir), map_size=1 << 28, max_dbs=8)
    db = env.open_db(b"mem")
    with env.begin(write=True) as txn:
        for i in range(20_000):
            txn.put(i.to_bytes(8, "big"), os.urandom(200), db=db)
    env.close()
    data = env_dir / "data.mdb"
    os.truncate(data, data.stat().st_size // 2)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from memory_store.store import MemoryStore; "
            "MemoryStore(sys.argv[2])")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT), str(tmp_path / "mem")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, f"died with {proc.returncode} (SIGBUS is -7)"
    assert "truncated" in proc.stderr and "CorruptStoreError" in proc.stderr


def test_character_state_is_written_with_fsync(tmp_path: Path, monkeypatch) -> None:
    from companion.character import CharacterEngine

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    ch = CharacterEngine(tmp_path)
    ch.save()
    assert len(synced) >= 2  # the file, then its directory (the rename)
    assert json.loads((tmp_path / "character_state.json").read_text())["version"]
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]
