"""The one atomic file write of the engine: a crash leaves the old file or the new one, never
half of either, and a completed write survives power loss.

Write a temporary file in the same directory, flush and fsync it, rename it over the target
(atomic on POSIX), then fsync the directory so the rename itself is on disk. The temporary name
is unique per process and thread, so two writers never share one.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomic(path: str | Path, data: bytes | bytearray | memoryview | str) -> None:
    """Replace ``path`` with ``data`` (``str`` is written as UTF-8) atomically and durably."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.{threading.get_ident()}")
    try:
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: str | Path) -> None:
    """Make a rename or a new file in ``directory`` durable (no-op where directories can't be
    opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
