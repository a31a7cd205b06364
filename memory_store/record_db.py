"""LMDB persistence: the source of truth. Every write commits here before anything else changes,
so whatever ``remember`` acknowledged survives a kill -9; the FAISS index is rebuilt from here."""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Iterator

import lmdb
import numpy as np

from memory_store.lmdb_check import check_lmdb_file
from memory_store.records import Episode, MemoryRecord, ViewerProfile

_ID = struct.Struct(">Q")


def id_key(i: int) -> bytes:
    """Big-endian keys so LMDB iterates memories in insertion order."""
    return _ID.pack(i)


class RecordDB:
    """Named LMDB databases: ``mem`` (id -> record JSON), ``vec`` (id -> float32 bytes),
    ``msg`` (platform message id -> memory id), ``profile``, ``episode`` and ``meta``."""

    def __init__(self, path: Path, map_size: int, sync: bool = True) -> None:
        path.mkdir(parents=True, exist_ok=True)
        check_lmdb_file(path)  # a truncated file would SIGBUS inside the mmap
        self.env = lmdb.open(str(path), map_size=map_size, max_dbs=8, sync=sync, metasync=sync,
                             max_readers=256, lock=True)
        self.mem = self.env.open_db(b"mem")
        self.vec = self.env.open_db(b"vec")
        self.msg = self.env.open_db(b"msg")
        self.profile = self.env.open_db(b"profile")
        self.episode = self.env.open_db(b"episode")
        self.meta = self.env.open_db(b"meta")

    # -- writes (callers pass one write transaction per batch) -----------------------------
    def begin(self) -> lmdb.Transaction:
        return self.env.begin(write=True)

    def put_memory(self, txn: lmdb.Transaction, rec: MemoryRecord, vec: np.ndarray | None) -> None:
        k = id_key(rec.id)
        txn.put(k, rec.to_json(), db=self.mem)
        if vec is not None:
            txn.put(k, np.ascontiguousarray(vec, dtype=np.float32).tobytes(), db=self.vec)
        if rec.msg_id:
            txn.put(rec.msg_id.encode(), k, db=self.msg)

    def update_memory(self, txn: lmdb.Transaction, rec: MemoryRecord) -> None:
        txn.put(id_key(rec.id), rec.to_json(), db=self.mem)

    def delete_memory(self, txn: lmdb.Transaction, mem_id: int, msg_id: str = "") -> None:
        k = id_key(mem_id)
        txn.delete(k, db=self.mem)
        txn.delete(k, db=self.vec)
        if msg_id:
            txn.delete(msg_id.encode(), db=self.msg)

    def put_profile(self, txn: lmdb.Transaction, p: ViewerProfile) -> None:
        txn.put(p.viewer_id.encode(), p.to_json(), db=self.profile)

    def delete_profile(self, txn: lmdb.Transaction, viewer_id: str) -> bool:
        return txn.delete(viewer_id.encode(), db=self.profile)

    def put_episode(self, txn: lmdb.Transaction, ep: Episode) -> None:
        txn.put(id_key(ep.id), ep.to_json(), db=self.episode)

    def set_meta(self, txn: lmdb.Transaction, key: str, value) -> None:
        txn.put(key.encode(), json.dumps(value).encode(), db=self.meta)

    # -- reads -------------------------------------------------------------------------------
    def get_meta(self, key: str, default=None):
        with self.env.begin() as txn:
            raw = txn.get(key.encode(), db=self.meta)
        return json.loads(raw) if raw is not None else default

    def get_memories(self, ids: list[int]) -> list[MemoryRecord | None]:
        with self.env.begin() as txn:
            out = []
            for i in ids:
                raw = txn.get(id_key(i), db=self.mem)
                out.append(MemoryRecord.from_json(raw) if raw is not None else None)
            return out

    def memory_id_for_message(self, msg_id: str) -> int | None:
        with self.env.begin() as txn:
            raw = txn.get(msg_id.encode(), db=self.msg)
        return _ID.unpack(raw)[0] if raw is not None else None

    def iter_memories(self) -> Iterator[MemoryRecord]:
        with self.env.begin() as txn:
            for _, raw in txn.cursor(db=self.mem):
                yield MemoryRecord.from_json(raw)

    def iter_memories_after(self, after_id: int) -> Iterator[MemoryRecord]:
        with self.env.begin() as txn:
            cur = txn.cursor(db=self.mem)
            if cur.set_range(id_key(after_id + 1)):
                for _, raw in cur:
                    yield MemoryRecord.from_json(raw)

    def get_vectors(self, ids: list[int], dim: int) -> np.ndarray:
        out = np.zeros((len(ids), dim), dtype=np.float32)
        with self.env.begin(buffers=True) as txn:
            for j, i in enumerate(ids):
                raw = txn.get(id_key(i), db=self.vec)
                if raw is not None:
                    out[j] = np.frombuffer(raw, dtype=np.float32, count=dim)
        return out

    def get_profile(self, viewer_id: str) -> ViewerProfile | None:
        return self.get_profiles([viewer_id]).get(viewer_id)

    def get_profiles(self, viewer_ids: list[str]) -> dict[str, ViewerProfile]:
        """The stored profiles among ``viewer_ids``, in one read transaction."""
        out: dict[str, ViewerProfile] = {}
        with self.env.begin() as txn:
            for v in viewer_ids:
                raw = txn.get(v.encode(), db=self.profile)
                if raw is not None:
                    out[v] = ViewerProfile.from_json(raw)
        return out

    def iter_profiles(self) -> Iterator[ViewerProfile]:
        with self.env.begin() as txn:
            for _, raw in txn.cursor(db=self.profile):
                yield ViewerProfile.from_json(raw)

    def episodes(self, channel: str | None, limit: int) -> list[Episode]:
        out: list[Episode] = []
        with self.env.begin() as txn:
            cur = txn.cursor(db=self.episode)
            if not cur.last():
                return out
            while len(out) < limit:
                ep = Episode.from_json(cur.value())
                if channel is None or ep.channel == channel:
                    out.append(ep)
                if not cur.prev():
                    break
        return out

    def counts(self) -> dict[str, int]:
        with self.env.begin() as txn:
            return {"memories": txn.stat(self.mem)["entries"],
                    "vectors": txn.stat(self.vec)["entries"],
                    "profiles": txn.stat(self.profile)["entries"],
                    "episodes": txn.stat(self.episode)["entries"]}

    def close(self) -> None:
        self.env.close()
