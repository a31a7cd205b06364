"""Redis Streams transport, for scaling out across processes or machines.

- :class:`RedisStreamSource` consumes chat messages from a stream through a consumer group, so
  several analysis workers share one ingest stream (each entry goes to one worker). Entries are
  acknowledged once the runtime has accepted them; on restart a worker first re-reads its own
  unacknowledged entries, so a crash between read and accept loses nothing.
- :class:`RedisStreamSink` appends every analysis record to a stream (capped at ``maxlen``) for
  downstream consumers: other dashboards, a character engine on another host, archiving.

Entry format, both ways: one field ``json`` holding the object (a replay line for ingest, an
analysis record for output). Producers write ingest entries with
``XADD companion:ingest * json '{"text": "...", "user": "...", "channel": "..."}'``.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from typing import AsyncIterator

import redis
import redis.asyncio as aioredis

from companion.connectors.base import SourceStats
from companion.connectors.replay import BadRecord, message_from_mapping
from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from pipelines.sink import record_json

log = logging.getLogger(__name__)

INGEST_STREAM = "companion:ingest"
RECORDS_STREAM = "companion:records"


class RedisStreamSource:
    can_pause = True  # unread entries simply wait in the stream

    def __init__(self, url: str, stream: str = INGEST_STREAM, group: str = "companion",
                 consumer: str | None = None, block_ms: int = 1000, count: int = 256) -> None:
        self.url, self.stream, self.group = url, stream, group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.block_ms, self.count = block_ms, count
        self.name = f"redis:{stream}"
        self.stats = SourceStats()
        self._closed = False
        self._client: aioredis.Redis | None = None

    async def _ensure_group(self, client: aioredis.Redis) -> None:
        try:
            await client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def __aiter__(self) -> AsyncIterator[ChatMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatMessage]:
        self._client = client = aioredis.from_url(self.url, decode_responses=False)
        try:
            await self._ensure_group(client)
            self.stats.connects += 1
            cursor = "0"  # our own pending entries first, then new ones
            while not self._closed:
                resp = await client.xreadgroup(self.group, self.consumer, {self.stream: cursor},
                                               count=self.count, block=self.block_ms)
                entries = resp[0][1] if resp else []
                if cursor == "0" and not entries:
                    cursor = ">"
                    continue
                for entry_id, fields in entries:
                    msg = self._parse(entry_id, fields)
                    if msg is not None:
                        yield msg
                    await client.xack(self.stream, self.group, entry_id)
        finally:
            await client.aclose()

    def _parse(self, entry_id: bytes, fields: dict[bytes, bytes]) -> ChatMessage | None:
        self.stats.received += 1
        where = entry_id.decode()
        try:
            obj = json.loads(fields[b"json"].decode("utf-8"))
            if not isinstance(obj, dict):
                raise BadRecord("entry must hold a JSON object")
            msg = message_from_mapping(obj, platform="redis")
        except Exception as exc:  # noqa: BLE001 - every bad entry is counted, never the stream's end
            self.stats.malformed += 1
            log.warning("%s entry %s: %s", self.stream, where, exc)
            return None
        self.stats.parsed += 1
        return msg

    async def close(self) -> None:
        self._closed = True


class RedisStreamSink:
    """Appends records to a stream; XADDs for a batch go in one pipeline round trip."""

    def __init__(self, url: str, stream: str = RECORDS_STREAM, maxlen: int = 100_000) -> None:
        self.stream, self.maxlen = stream, maxlen
        self._client = redis.Redis.from_url(url)
        self._client.ping()  # fail at start-up, not on the first batch
        self.written = 0

    def write(self, records: list[AnalysisRecord]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for rec in records:
            pipe.xadd(self.stream, {"json": record_json(rec.to_dict())},
                      maxlen=self.maxlen, approximate=True)
        pipe.execute()
        self.written += len(records)

    def close(self) -> None:
        self._client.close()
