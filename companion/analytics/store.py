"""Persistence of the analytics state in ``--data-dir``: one JSON file, written atomically."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import orjson

from companion.atomic_file import write_atomic

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


class AnalyticsStore:
    """Reads and writes ``<data_dir>/analytics/state.json``."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir) / "analytics"
        self.path = self.dir / "state.json"

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically (temp file + rename), so a crash never leaves half a file."""
        # orjson: the encoder holds the GIL throughout, so a fast one keeps the loop responsive.
        write_atomic(self.path, orjson.dumps({"version": FORMAT_VERSION, "saved_at": time.time(), **state},
                                             option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None. An unreadable file is kept aside (``.corrupt``), not deleted."""
        if not self.path.exists():
            return None
        try:
            with open(self.path, encoding="utf-8") as f:
                state = json.load(f)
            if state.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {state.get('version')!r}")
            return state
        except (OSError, ValueError) as exc:
            aside = self.path.with_suffix(f".corrupt.{int(time.time())}")
            log.warning("analytics state %s unreadable (%s); moved to %s, starting fresh", self.path, exc, aside)
            os.replace(self.path, aside)
            return None
