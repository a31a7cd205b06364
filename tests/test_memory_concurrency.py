"""Concurrent writers and readers on one store (threads), including forgetting."""
from __future__ import annotations

import threading

from memory_store import MemoryConfig, MemoryStore
from tests.memory_fakes import Clock, event, unit


def test_threads_write_read_and_forget(tmp_path):
    cfg = MemoryConfig(short_term_size=10**6, ivf_min_vectors=1500, ivf_nlist=16)
    store = MemoryStore(tmp_path, clock=Clock(), config=cfg)
    errors: list[BaseException] = []
    written: dict[str, list[str]] = {}

    def writer(w: int) -> None:
        try:
            ids = written.setdefault(f"w{w}", [])
            for b in range(20):
                batch = [event(f"writer {w} line {b}-{j}", user=f"user{w}", channel=f"c{w % 2}",
                               mid=f"{w}-{b}-{j}", importance=0.4) for j in range(25)]
                store.remember(batch)
                ids += [e.message.id for e in batch]
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test
            errors.append(exc)

    def reader(r: int) -> None:
        try:
            for i in range(150):
                for h in store.search_vector(unit(i + r * 1000), viewer=f"twitch:user{i % 4}", k=5):
                    assert h.viewer == f"twitch:user{i % 4}"
                store.search_vector(unit(i), channel="c1", k=5)
                store.stats()
                store.viewer_view(f"twitch:user{i % 4}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=reader, args=(r,)) for r in range(3)]
    threads.append(threading.Thread(target=lambda: [store.forget_viewer("twitch:user9") for _ in range(20)]))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert store.stats()["index"]["type"] == "ivf_sq8"
    for w, ids in written.items():
        for mid in ids:
            assert store.db.memory_id_for_message(mid) is not None
    n = store.stats()["tiers"]
    assert n["short_term"] + n["long_term"] == 4 * 20 * 25
    for w in range(4):
        text = f"writer {w} line 7-3"
        hit = store.search_vector(unit(text + f"user{w}"), k=1, reinforce=False)[0]
        assert hit.msg_id == f"{w}-7-3"
    store.close()
