"""Durability: kill -9 mid-ingest loses no acknowledged memory; a missing, stale or corrupt index
snapshot is rebuilt/replayed from LMDB."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from memory_store import MemoryConfig, MemoryRecord, MemoryStore
from tests.memory_fakes import Clock, unit

ROOT = Path(__file__).resolve().parents[1]

WRITER = r"""
import sys
sys.path.insert(0, sys.argv[2])
from memory_store import MemoryConfig, MemoryStore
from tests.memory_fakes import event
cfg = MemoryConfig(short_term_size=10**9, snapshot_every_n=700, snapshot_every_s=1e12,
                   ivf_min_vectors=1000, ivf_nlist=16)
store = MemoryStore(sys.argv[1], config=cfg, clock=lambda: 1.7e9)
i = 0
while True:
    batch = [event(f"line {i + j} from the writer", user=f"u{(i + j) % 37}", ts=1.7e9 + i + j,
                   mid=f"w{i + j}", importance=0.2) for j in range(50)]
    store.remember(batch)
    print(" ".join(e.message.id for e in batch if e.record.memory.stored), flush=True)
    i += 50
"""


def test_kill_9_mid_ingest_keeps_every_acknowledged_memory(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(ROOT)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    acked: list[str] = []
    deadline = time.time() + 60
    try:
        while len(acked) < 2500 and time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acked += line.split()
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: the writer never stops between batches
    finally:
        proc.kill()
        proc.wait()
    assert len(acked) >= 2500, "writer did not get far enough"
    cfg = MemoryConfig(short_term_size=10**9, ivf_min_vectors=1000, ivf_nlist=16)
    store = MemoryStore(tmp_path, config=cfg, clock=lambda: 1.7e9)
    assert store.recovery["replayed_vectors"] > 0  # the snapshot was stale; LMDB filled the gap
    stats = store.stats()
    assert stats["memories"] >= len(acked) and stats["index"]["type"] == "ivf_sq8"
    for mid in acked:
        assert store.db.memory_id_for_message(mid) is not None, mid
    rng = np.random.default_rng(1)
    for mid in rng.choice(acked, 40, replace=False):
        i = int(mid[1:])
        text, user = f"line {i} from the writer", f"u{i % 37}"
        hits = store.search_vector(unit(text + user), k=1, reinforce=False)
        assert hits and hits[0].msg_id == mid
    store.close()


def _filled(tmp_path: Path, n: int = 3000) -> tuple[MemoryConfig, np.ndarray, list[int]]:
    cfg = MemoryConfig(ivf_min_vectors=1000, ivf_nlist=16, ivf_nprobe=16)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = MemoryStore(tmp_path, config=cfg, clock=Clock())
    ids = store.insert([MemoryRecord(id=0, text=f"r{i}", viewer=f"v{i % 10}", tier="long_term",
                                     importance=0.5) for i in range(n)], x)
    store.close()
    return cfg, x, ids


def _check(tmp_path: Path, cfg: MemoryConfig, x: np.ndarray, ids: list[int]) -> MemoryStore:
    store = MemoryStore(tmp_path, config=cfg, clock=Clock())
    assert store.stats()["vectors"] == len(x)
    for i in range(0, len(x), 250):
        hits = store.search_vector(x[i], k=1, reinforce=False)
        assert hits[0].id == ids[i]
        assert store.search_vector(x[i], viewer=f"v{i % 10}", k=1, reinforce=False)[0].id == ids[i]
    return store


def test_missing_snapshot_is_rebuilt(tmp_path):
    cfg, x, ids = _filled(tmp_path)
    for f in (tmp_path / "index").iterdir():
        f.unlink()
    store = _check(tmp_path, cfg, x, ids)
    assert store.recovery["snapshot_valid"] is False and store.stats()["index"]["type"] == "ivf_sq8"
    store.close()


def test_corrupt_snapshot_is_rebuilt(tmp_path):
    cfg, x, ids = _filled(tmp_path)
    path = tmp_path / "index" / "index.faiss"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2: len(blob) // 2 + 64] = os.urandom(64)  # same size, flipped bytes
    path.write_bytes(bytes(blob))
    store = _check(tmp_path, cfg, x, ids)
    assert store.recovery["snapshot_valid"] is False
    store.close()
    path.write_bytes(path.read_bytes()[:100])  # truncated
    (tmp_path / "index" / "index_rows.npy").write_bytes(b"garbage")
    store = _check(tmp_path, cfg, x, ids)
    store.close()


def test_stale_snapshot_is_replayed(tmp_path):
    cfg, x, ids = _filled(tmp_path)
    snap = {p.name: p.read_bytes() for p in (tmp_path / "index").iterdir()}
    store = MemoryStore(tmp_path, config=cfg, clock=Clock())
    extra = np.stack([unit(10_000 + i) for i in range(20)])
    new_ids = store.insert([MemoryRecord(id=0, text=f"new{i}", tier="long_term", importance=0.5)
                            for i in range(20)], extra)
    store.forget_message("nothing")
    with store.db.begin() as txn:  # delete two old ones, as forgetting would
        rows = store._delete_in_txn(txn, [ids[0], ids[1]])
    store._release(rows)
    store.close()
    for name, raw in snap.items():  # put the old snapshot back: it is now stale
        (tmp_path / "index" / name).write_bytes(raw)
    again = MemoryStore(tmp_path, config=cfg, clock=Clock())
    assert again.recovery["snapshot_valid"] and again.recovery["replayed_vectors"] == 20
    assert again.stats()["vectors"] == len(x) - 2 + 20
    assert again.search_vector(extra[3], k=1, reinforce=False)[0].id == new_ids[3]
    assert again.search_vector(x[0], k=1, reinforce=False)[0].id != ids[0]
    again.close()
