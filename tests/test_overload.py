"""Issue 13, latency and overload on the real stack: the webhook answers 503 + Retry-After when
the pipeline is full, takes a batch whole or not at all, a retried batch is not duplicated; the
loop never waits on a worker's lock; the loop-lag probe is exported; an abandoned Twitch reply
is never sent later."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import aiohttp
import pytest

from companion.connectors.backoff import Backoff
from companion.connectors.twitch_irc import TwitchConfig, TwitchIRCClient
from companion.engine import Engine, EngineConfig
from pipelines.noop_analyzer import NoopAnalyzer
from pipelines.overload import OverloadMode, OverloadPolicy
from pipelines.runtime import Overloaded, RuntimeConfig

try:
    from tests.twitch_fake_server import FakeTwitchServer
except ImportError:
    from twitch_fake_server import FakeTwitchServer


class _SlowAnalyzer(NoopAnalyzer):
    """Deep or not, each batch takes a while: the pipeline falls behind a fast sender."""

    def analyze_messages(self, msgs, deep=True):
        time.sleep(0.05)
        return super().analyze_messages(msgs, deep)


async def _start(engine: Engine) -> asyncio.Task:
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    for _ in range(1000):
        if engine.dashboard is not None and engine.dashboard.port and engine.runtime is not None:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    return task


def _batch(start: int, n: int = 20) -> dict:
    return {"messages": [{"text": f"chat line {i}", "user": f"u{i % 13}", "id": f"wh-{i}"}
                         for i in range(start, start + n)]}


async def test_webhook_503_when_full_and_retry_is_not_duplicated(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    cfg = EngineConfig(data_dir=tmp_path, port=0, out=out, memory=False, character=False,
                       analytics=False,
                       runtime=RuntimeConfig(ingest_capacity=60, batch_size=8,
                                             overload=OverloadPolicy(OverloadMode.DEGRADE)))
    engine = Engine(cfg, analyzer=_SlowAnalyzer())
    task = await _start(engine)
    url = f"http://127.0.0.1:{engine.dashboard.port}/api/messages"
    accepted, refused = [], []
    async with aiohttp.ClientSession() as s:
        for k in range(10):  # 200 messages at once into a 60-message pipeline
            async with s.post(url, json=_batch(k * 20)) as r:
                if r.status == 200:
                    assert (await r.json())["accepted"] == 20  # whole, never part of a batch
                    accepted.append(k)
                else:
                    assert r.status == 503 and int(r.headers["Retry-After"]) >= 1
                    refused.append(k)
        assert accepted and refused, (accepted, refused)
        assert engine.runtime.in_flight <= 60
        for k in accepted:  # a sender that never saw our 200 retries: nothing is taken twice
            async with s.post(url, json=_batch(k * 20)) as r:
                assert r.status == 200 and await r.json() == {"accepted": 0, "duplicates": 20}
        for k in refused:  # the refused ones, retried after the hint, all get in
            while True:
                async with s.post(url, json=_batch(k * 20)) as r:
                    if r.status == 200:
                        break
                    assert r.status == 503
                await asyncio.sleep(0.2)
        async with s.get(f"http://127.0.0.1:{engine.dashboard.port}/metrics") as r:
            metrics = await r.text()
    assert "companion_in_flight" in metrics and "companion_loop_lag_max_seconds" in metrics
    engine.stop()
    summary = await asyncio.wait_for(task, 60)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 200 == summary.published
    assert summary.reconciled and summary.in_flight == 0


async def test_lag_above_shed_limit_refuses_whole_batches(tmp_path: Path) -> None:
    cfg = EngineConfig(data_dir=tmp_path, dashboard=False, memory=False, character=False,
                       analytics=False,
                       runtime=RuntimeConfig(ingest_capacity=10_000, batch_size=4,
                                             overload=OverloadPolicy(OverloadMode.DEGRADE,
                                                                     shed_lag_ms=100)))
    engine = Engine(cfg, analyzer=_SlowAnalyzer())
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    while engine.runtime is None:
        await asyncio.sleep(0.01)
    from companion.messages import ChatMessage

    await engine.submit([ChatMessage(text=f"m{i}") for i in range(40)])  # ~0.5 s of work
    await asyncio.sleep(0.3)
    assert engine.runtime.lag_ms() > 100
    before = engine.runtime.accepted
    with pytest.raises(Overloaded) as exc:
        await engine.submit([ChatMessage(text="late") for _ in range(3)])
    assert exc.value.retry_after_s >= 1 and engine.runtime.accepted == before
    engine.stop()
    await asyncio.wait_for(task, 30)


async def test_state_never_waits_on_the_store_or_character_lock(tmp_path: Path) -> None:
    engine = Engine(EngineConfig(data_dir=tmp_path, dashboard=False), analyzer=NoopAnalyzer())
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    while engine.runtime is None:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:  # a worker in the middle of an fsync / IVF retrain / memory search
        with engine.memory._lock, engine.character._lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        state = await asyncio.wait_for(asyncio.to_thread(engine.state), 3)
        assert state["memory"] is not None and "neurochemicals" in state["mood"]
    finally:
        release.set()
        holder.join()
    engine.stop()
    await asyncio.wait_for(task, 30)


async def test_abandoned_twitch_reply_is_never_sent_later() -> None:
    server = FakeTwitchServer(expected_token="oauth:s3cr3tt0ken", welcome=False)  # login hangs
    await server.start()
    env = {"TWITCH_IRC_URL": server.url, "TWITCH_OAUTH_TOKEN": "s3cr3tt0ken", "TWITCH_NICK": "bot"}
    client = TwitchIRCClient(TwitchConfig.from_env(["chan"], reply=True, env=env),
                             backoff=Backoff(base=0.01, cap=0.05))
    items = []

    async def consume() -> None:
        async for item in client:
            items.append(item)

    reader = asyncio.create_task(consume())
    try:
        # Not joined, so the reply waits in the outbox; the caller gives up (the dashboard's 503).
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.send("chan", "too late now"), 0.3)
        server.welcome = True
        await server.drop()  # the client reconnects, logs in and joins
        await server.wait_joined("chan")
        await asyncio.wait_for(client.send("chan", "fresh reply"), 10)
        await server.wait_for_line("PRIVMSG #chan", count=1)
        await asyncio.sleep(0.2)
        sent = [ln for ln in server.received if ln.startswith("PRIVMSG #chan")]
        assert sent == ["PRIVMSG #chan :fresh reply"], sent
    finally:
        await client.close()
        await server.stop()
        reader.cancel()


async def test_replay_with_serve_blocks_instead_of_degrading(tmp_path: Path) -> None:
    """``--source replay:… --speed 0 --serve``: the replay can pause, so ``auto`` blocks and every
    message gets the full models (serving the dashboard does not make the replay a live source)."""
    from companion.connectors.replay import ReplaySource

    replay = tmp_path / "chat.jsonl"
    replay.write_text("".join(json.dumps({"text": f"line {i}", "user": f"u{i % 7}", "ts": 1.7e9 + i}) + "\n"
                              for i in range(40)))
    cfg = EngineConfig(data_dir=tmp_path, port=0, memory=False, character=False, analytics=False,
                       runtime=RuntimeConfig(ingest_capacity=8, batch_size=4))
    engine = Engine(cfg, analyzer=_SlowAnalyzer())
    task = asyncio.create_task(engine.run([("replay", ReplaySource(replay, speed=0.0))], serve=True,
                                          install_signals=False))
    for _ in range(500):
        if engine.runtime is not None and engine.runtime.published >= 40:
            break
        await asyncio.sleep(0.02)
    assert engine.runtime.policy.mode is OverloadMode.BLOCK
    assert engine.runtime.published == 40
    assert engine.runtime.degraded == 0
    engine.stop()
    await asyncio.wait_for(task, 30)


async def test_records_do_not_wait_for_the_character(tmp_path: Path) -> None:
    """The character only reads records, so it follows publish: a character stuck on its lock
    (a slow memory recall) delays its own picks, not the records; it still sees every message."""
    from companion.messages import ChatMessage

    engine = Engine(EngineConfig(data_dir=tmp_path, dashboard=False), analyzer=NoopAnalyzer())
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    while engine.runtime is None:
        await asyncio.sleep(0.01)
    release, held = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.character._lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        await engine.submit([ChatMessage(text=f"hello there number {i}", user=f"u{i}") for i in range(30)])
        for _ in range(500):
            if engine.runtime.published == 30:
                break
            await asyncio.sleep(0.01)
        assert engine.runtime.published == 30
        assert engine.character.stats["messages"] == 0  # still waiting on its lock
    finally:
        release.set()
        holder.join()
    engine.stop()
    await asyncio.wait_for(task, 30)
    assert engine.character.stats["messages"] == 30
    follower = engine.metrics.follower_percentiles()["character"]
    assert follower["p99_ms"] >= follower["p50_ms"] > 0
