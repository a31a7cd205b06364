"""The JSONL sink behind ``--out``: one analysis record per line, flushed after every batch so an
interrupted run keeps everything already published. A restart appends (a record file is never
truncated), and every line is standard JSON: a non-finite number becomes ``null``."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import orjson

from companion.records import AnalysisRecord


class JsonlSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        self._terminate_partial_line()
        self.written = 0

    def _terminate_partial_line(self) -> None:
        """A run killed mid-line leaves half a record: end it, so the next record starts clean."""
        if self._fh.tell() == 0:
            return
        with self.path.open("rb") as f:
            f.seek(-1, 2)
            if f.read(1) != b"\n":
                self._fh.write("\n")

    def write(self, records: list[AnalysisRecord]) -> None:
        self._fh.write("".join(record_json(r.to_dict()) + "\n" for r in records))
        self._fh.flush()
        self.written += len(records)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()


def record_json(obj: Any) -> str:
    """One record as strict JSON (RFC 8259): NaN and infinities, which ``json`` would write as
    bare ``NaN``/``Infinity`` that other readers reject, become ``null``. orjson (several times
    faster than ``json`` on a record) does that itself; ``json`` handles what orjson refuses
    (integers beyond 64 bits)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        return json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


class TeeSink:
    """Writes each batch to several sinks in order (e.g. a JSONL file and a Redis stream)."""

    def __init__(self, sinks: list) -> None:
        self.sinks = sinks

    def write(self, records: list[AnalysisRecord]) -> None:
        """Write to every sink; one failing does not keep the batch from the others."""
        failed: Exception | None = None
        for sink in self.sinks:
            try:
                sink.write(records)
            except Exception as exc:
                failed = exc
        if failed is not None:
            raise failed

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
