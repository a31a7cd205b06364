"""glibc malloc tuning for a long-running process that runs tensors of varying shapes.

The soak of issue 13 found native RSS growing without bound (543 -> 939 MB in three minutes,
627 -> 1,502 MB in 92 s with longer texts) while the Python heap grew 30 MB. The cause is the
allocator, not a leak: every micro-batch has a different padded length, so torch allocates
activation buffers of ever-changing sizes from several threads (the analyser thread, torch's
intra-op pool, FAISS's OpenMP threads). glibc gives each thread its own arena (up to 8 x cores),
and freed blocks of one size rarely fit the next request, so each arena keeps its fragmented peak;
glibc's *dynamic* mmap threshold also rises after the first large free, after which big buffers
come from the arenas instead of mmap and are never returned to the kernel.

The fix: cap the arenas, pin the mmap threshold (big buffers are mmapped and unmapped on free),
and return free arena pages to the kernel from time to time (``malloc_trim``). It is done with
``mallopt`` at start-up, so it works without environment variables; ``COMPANION_MALLOC_TUNE=0``
turns it off (for an A/B soak). Non-glibc platforms: a no-op.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
ARENA_MAX = 2
MMAP_THRESHOLD = 1 << 20  # buffers from 1 MiB up are mmapped, so a free gives them back
TRIM_THRESHOLD = 8 << 20

_libc: ctypes.CDLL | None = None
_tuned = False


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        if not name:
            return None
        try:
            lib = ctypes.CDLL(name)
            lib.mallopt  # noqa: B018 - present on glibc only
            lib.malloc_trim  # noqa: B018
        except (OSError, AttributeError):
            return None
        _libc = lib
    return _libc


# oneDNN (torch's CPU matmul path) JIT-compiles and caches a kernel per input shape, up to 1,024 of
# them by default. Micro-batches come in every (batch size x padded length), so that cache alone
# grew native RSS by ~150 MB over the first 12k soak messages; 128 kernels hold the shapes a
# steady chat repeats. Read by oneDNN when it first runs, so it is set before the models do.
ONEDNN_KERNEL_CACHE = "128"


def tune_malloc() -> bool:
    """Apply the settings above once per process; returns whether they are in effect."""
    global _tuned
    if _tuned:
        return True
    if os.environ.get("COMPANION_MALLOC_TUNE", "1") == "0":
        return False
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_KERNEL_CACHE)
    lib = _glibc()
    if lib is None:
        return False
    ok = all(lib.mallopt(opt, value) == 1 for opt, value in (
        (_M_ARENA_MAX, ARENA_MAX), (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
    _tuned = ok
    log.debug("malloc tuning %s", "applied" if ok else "refused")
    return ok


def trim() -> bool:
    """Give free arena memory back to the kernel (``malloc_trim(0)``); False where unsupported."""
    if not _tuned:
        return False
    lib = _glibc()
    return bool(lib is not None and lib.malloc_trim(0))
