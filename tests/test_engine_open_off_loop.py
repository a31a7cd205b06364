"""The engine opens the memory store (and loads its parts) off the event loop: the real
MemoryStore, on a store with memories in it, while a task on the loop keeps ticking."""
import asyncio
import threading

import numpy as np

from companion.engine import Engine, EngineConfig
from memory_store import MemoryRecord, MemoryStore
from pipelines.noop_analyzer import NoopAnalyzer


def test_store_opens_in_a_worker_thread_while_the_loop_runs(tmp_path, monkeypatch):
    data = tmp_path / "data"
    store = MemoryStore(data / "memory", clock=lambda: 1.75e9)
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((3000, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.insert([MemoryRecord(id=0, text=f"line {i}", viewer=f"twitch:v{i % 50}", user=f"v{i % 50}",
                               channel="c", platform="twitch", ts=1.75e9 - i, tier="long_term",
                               importance=0.5, msg_id=f"m{i}") for i in range(3000)], vecs)
    store.close()

    opened_on: list[int] = []
    real_open = MemoryStore._open

    def watched_open(self):
        opened_on.append(threading.get_ident())
        real_open(self)

    monkeypatch.setattr(MemoryStore, "_open", watched_open)

    async def main():
        ticks = 0
        loop_thread = threading.get_ident()

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        task = asyncio.create_task(ticker())
        engine = await Engine.open(EngineConfig(data_dir=data, dashboard=False, analytics=False,
                                                character=False), NoopAnalyzer())
        task.cancel()
        try:
            assert opened_on and opened_on[0] != loop_thread  # not on the loop's thread
            assert ticks > 0  # the loop ran while the store opened
            assert engine.memory.table.count == 3000
        finally:
            await engine.close()

    asyncio.run(main())
