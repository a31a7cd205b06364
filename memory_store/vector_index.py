"""The approximate nearest-neighbour index over the table's rows.

Chosen by measurement (docs/BENCHMARKS.md): IVF with 8-bit scalar-quantised codes, inner product,
keyed by table row. It inserts at >50k vectors/s (HNSW managed ~3k/s at 100k on this machine),
removes ids natively (HNSW cannot), takes an ``IDSelectorBitmap`` for filtered search, and costs
~400 bytes per vector. Candidates are re-ranked with the exact float32 vectors held in the table,
so quantisation error does not reach the scores. Below ``ivf_min_vectors`` there is no index at all:
exact search over the table is as fast and needs no training.
"""
from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import faiss
import numpy as np

from companion.atomic_file import write_atomic


class VectorIndex:
    def __init__(self, dim: int, nlist: int, nprobe: int) -> None:
        self.dim = dim
        self.nlist = nlist
        self.nprobe = nprobe
        self.index: faiss.IndexIVFScalarQuantizer | None = None
        self.dirty = 0  # vectors added or removed since the last snapshot
        self.train_seconds = 0.0  # time spent (re)training and re-adding, for the benchmark

    @property
    def trained(self) -> bool:
        return self.index is not None

    @property
    def ntotal(self) -> int:
        return self.index.ntotal if self.index is not None else 0

    def train(self, sample: np.ndarray, nlist: int | None = None) -> None:
        """Train a fresh, empty IVF-SQ8 on ``sample`` (callers then add every row)."""
        nlist = min(nlist or self.nlist, max(1, len(sample) // 39))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, nlist,
                                              faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.nprobe = min(self.nprobe, nlist)
        self.index = index
        self.nlist = nlist
        self.dirty += 1

    def add(self, rows: np.ndarray, vecs: np.ndarray) -> None:
        if self.index is None or len(rows) == 0:
            return
        self.index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32),
                                np.ascontiguousarray(rows, dtype=np.int64))
        self.dirty += len(rows)

    def remove(self, rows) -> None:
        if self.index is None or len(rows) == 0:
            return
        self.index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64)))
        self.dirty += len(rows)

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Rows of the ``k`` nearest vectors; ``allowed`` is an optional boolean mask over rows."""
        assert self.index is not None
        q = np.ascontiguousarray(q.reshape(1, -1), dtype=np.float32)
        params = faiss.SearchParametersIVF(nprobe=self.index.nprobe)
        if allowed is not None:
            bits = np.packbits(allowed, bitorder="little")
            sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params.sel = sel
            _, ids = self.index.search(q, k, params=params)
            del sel, bits  # the selector borrows the bitmap: keep both alive until here
        else:
            _, ids = self.index.search(q, k, params=params)
        ids = ids[0]
        return ids[ids >= 0]

    # -- snapshot ------------------------------------------------------------------------------
    def save(self, directory: Path, row_ids: np.ndarray) -> None:
        """Write ``index.faiss`` + ``index_rows.npy`` + ``index_meta.json`` atomically (tmp, fsync,
        rename; the meta file is renamed last, so it only ever describes a complete snapshot)."""
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"trained": self.trained, "nlist": self.nlist, "ntotal": self.ntotal}
        if self.index is not None:
            blob = faiss.serialize_index(self.index)
            meta["crc32"] = zlib.crc32(memoryview(blob))
            meta["bytes"] = int(blob.nbytes)
            write_atomic(directory / "index.faiss", memoryview(blob))
        rows_path = directory / "index_rows.npy"
        buf = io.BytesIO()
        np.save(buf, np.asarray(row_ids, dtype=np.int64))
        write_atomic(rows_path, buf.getbuffer())
        meta["rows_crc32"] = zlib.crc32(buf.getbuffer())
        write_atomic(directory / "index_meta.json", json.dumps(meta).encode())
        self.dirty = 0

    def load(self, directory: Path) -> np.ndarray | None:
        """Load a snapshot; returns the memory id of each row, or None when the snapshot is
        missing, truncated or corrupt (the caller then rebuilds from LMDB)."""
        try:
            meta = json.loads((directory / "index_meta.json").read_bytes())
            rows_raw = (directory / "index_rows.npy").read_bytes()
            if zlib.crc32(rows_raw) != meta["rows_crc32"]:
                return None
            row_ids = np.load(directory / "index_rows.npy")
            if meta["trained"]:
                blob = np.fromfile(directory / "index.faiss", dtype=np.uint8)
                if len(blob) != meta["bytes"] or zlib.crc32(memoryview(blob)) != meta["crc32"]:
                    return None
                index = faiss.deserialize_index(blob)
                if index.ntotal != meta["ntotal"] or index.d != self.dim:
                    return None
                index.nprobe = min(self.nprobe, index.nlist)
                self.index = index
                self.nlist = index.nlist
            else:
                self.index = None
            self.dirty = 0
            return row_ids
        except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError):
            return None

