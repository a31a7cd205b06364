"""Redis Streams transport against a real redis-server on loopback."""
from __future__ import annotations

import asyncio
import json

import pytest
import redis

from pipelines.noop_analyzer import NoopAnalyzer
from pipelines.redis_streams import RECORDS_STREAM, RedisStreamSink, RedisStreamSource
from pipelines.runtime import Runtime
from tests.redis_server import redis_server

pytestmark = pytest.mark.redis


async def test_stream_in_stream_out_with_bad_entry() -> None:
    with redis_server() as url:
        r = redis.Redis.from_url(url)
        for i in range(40):
            r.xadd("companion:ingest", {"json": json.dumps({"text": f"hi {i}", "user": f"u{i % 4}",
                                                            "channel": "c"})})
        r.xadd("companion:ingest", {"json": "{not json"})
        r.xadd("companion:ingest", {"other": "field"})
        src = RedisStreamSource(url, block_ms=100)
        rt = Runtime(NoopAnalyzer(), sink=RedisStreamSink(url))

        async def stop_when_done() -> None:
            while rt.published < 40 or src.stats.received < 42:
                await asyncio.sleep(0.05)
            rt.request_stop()

        stopper = asyncio.create_task(stop_when_done())
        summary = await asyncio.wait_for(rt.run([("redis", src)]), timeout=60)
        await stopper
        assert summary.published == 40 and src.stats.malformed == 2
        out = r.xrange(RECORDS_STREAM)
        assert [json.loads(f[b"json"])["text"] for _, f in out] == [f"hi {i}" for i in range(40)]
        # Every entry, good or bad, was acknowledged: nothing is pending for the group.
        assert r.xpending("companion:ingest", "companion")["pending"] == 0


async def test_unacked_entries_are_redelivered_to_the_same_consumer() -> None:
    with redis_server() as url:
        r = redis.Redis.from_url(url)
        r.xgroup_create("companion:ingest", "companion", id="0", mkstream=True)
        r.xadd("companion:ingest", {"json": json.dumps({"text": "survives a crash"})})
        # A worker read the entry and died before accepting it.
        r.xreadgroup("companion", "worker-1", {"companion:ingest": ">"}, count=10)
        src = RedisStreamSource(url, consumer="worker-1", block_ms=100)
        got = []
        async for msg in src:
            got.append(msg.text)
            await src.close()
        assert got == ["survives a crash"]
