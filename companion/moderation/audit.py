"""Every moderation decision and execution, one JSON object per line in
``<data-dir>/moderation/audit.jsonl`` (automatic actions, holds, reviewer decisions, results)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.written = 0

    def write(self, event: str, **fields: Any) -> None:
        """Append one entry: ``{"ts", "event", ...fields}``."""
        line = json.dumps({"ts": time.time(), "event": event, **fields}, default=str, separators=(",", ":"))
        with self._lock:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            self.written += 1

    def tail(self, n: int = 50) -> list[dict[str, Any]]:
        """The last ``n`` entries, oldest first."""
        if not self.path.is_file():
            return []
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()[-n:]
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
