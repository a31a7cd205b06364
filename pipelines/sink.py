"""The JSONL sink behind ``--out``: one analysis record per line, flushed after every batch so an
interrupted run keeps everything already published."""
from __future__ import annotations

import json
from pathlib import Path

from companion.records import AnalysisRecord


class JsonlSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("w", encoding="utf-8")
        self.written = 0

    def write(self, records: list[AnalysisRecord]) -> None:
        self._fh.write("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records))
        self._fh.flush()
        self.written += len(records)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()


class TeeSink:
    """Writes each batch to several sinks in order (e.g. a JSONL file and a Redis stream)."""

    def __init__(self, sinks: list) -> None:
        self.sinks = sinks

    def write(self, records: list[AnalysisRecord]) -> None:
        for sink in self.sinks:
            sink.write(records)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
