"""Refuse a damaged LMDB file at start-up with a clear message instead of dying of SIGBUS.

LMDB maps ``data.mdb`` into memory and trusts its meta pages: if the file was truncated (a full
disk, a bad copy), touching a page past the end of the file raises SIGBUS and the process dies
without a word. The two meta pages say how long the file must be (``mm_last_pg``), so a short or
garbled file is caught here, before the mmap.
"""
from __future__ import annotations

import struct
from pathlib import Path

_MAGIC = 0xBEEFC0DE
_PAGE_HEADER = 16  # MDB_page: pgno (8), pad (2), flags (2), lower (2), upper (2)
_META_LEN = 136  # MDB_meta up to mm_txnid on 64-bit builds
_OFF_MAGIC, _OFF_PAGESIZE, _OFF_LAST_PG = 0, 24, 120


class CorruptStoreError(RuntimeError):
    """The on-disk store cannot be opened safely; the message says what to do."""


def _meta(raw: bytes, offset: int) -> tuple[int, int, int] | None:
    """(page size, last page, txn id) of the meta page at ``offset``, or None when invalid."""
    base = offset + _PAGE_HEADER
    if len(raw) < base + _META_LEN:
        return None
    magic, _version = struct.unpack_from("<II", raw, base + _OFF_MAGIC)
    if magic != _MAGIC:
        return None
    (psize,) = struct.unpack_from("<I", raw, base + _OFF_PAGESIZE)
    last_pg, txnid = struct.unpack_from("<QQ", raw, base + _OFF_LAST_PG)
    return psize, last_pg, txnid


def check_lmdb_file(directory: str | Path) -> None:
    """Raise :class:`CorruptStoreError` when ``directory/data.mdb`` exists but is shorter than
    its newest meta page says, or has no valid meta page. A missing or empty file is fine (LMDB
    creates it)."""
    path = Path(directory) / "data.mdb"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb") as f:
        head = f.read(4096 + _PAGE_HEADER + _META_LEN)
    first = _meta(head, 0)
    if first is None:
        raise CorruptStoreError(
            f"{path} is not an LMDB file (no valid meta page); move it aside to start an empty "
            "store, or restore it from a backup")
    psize = first[0]
    if psize < 512 or psize & (psize - 1):
        raise CorruptStoreError(f"{path} has an invalid page size {psize}")
    with open(path, "rb") as f:
        f.seek(psize)
        second = _meta(f.read(_PAGE_HEADER + _META_LEN), 0)
    metas = [m for m in (first, second) if m is not None]
    _, last_pg, _ = max(metas, key=lambda m: m[2])
    need = (last_pg + 1) * psize
    if size < need:
        raise CorruptStoreError(
            f"{path} is truncated: {size} bytes, but its last committed page needs {need}. "
            "Reading it would crash the process (SIGBUS). Restore it from a backup, or move the "
            f"directory {Path(directory)} aside to start an empty memory store")
