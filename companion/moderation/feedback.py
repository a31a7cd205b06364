"""Labelled examples from the channel's own moderators, one JSONL file per channel in
``<data-dir>/moderation/examples/``.

An example holds the features the decision saw (category scores, target, overall score) and
whether the channel's moderators removed the message. No text and no user name are stored, so
forgetting a viewer leaves nothing of theirs here.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# Where a label came from; the weight says how sure it is.
SOURCES = ("clearmsg", "clearchat", "ban", "discord_delete", "review_approve", "review_deny", "implicit")


@dataclass(slots=True)
class LabelledExample:
    channel: str
    message_id: str
    removed: bool
    source: str
    ts: float
    features: dict[str, float] = field(default_factory=dict)
    weight: float = 1.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def channel_file(root: Path, channel: str) -> Path:
    """A safe, stable file name for a channel (names may hold any character)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", channel)[:60] or "_"
    digest = hashlib.sha1(channel.encode("utf-8")).hexdigest()[:8]
    return root / f"{safe}-{digest}.jsonl"


class FeedbackStore:
    """Append-only per-channel example files, capped at ``max_examples`` (oldest dropped)."""

    def __init__(self, root: Path, max_examples: int = 20000) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_examples = max_examples
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def append(self, example: LabelledExample) -> None:
        path = channel_file(self.root, example.channel)
        with self._lock:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(example.to_json() + "\n")
            n = self._counts.get(example.channel)
            if n is not None:
                self._counts[example.channel] = n + 1
                if n + 1 > self.max_examples * 1.5:
                    self._compact(example.channel, path)

    def _compact(self, channel: str, path: Path) -> None:
        keep = list(self._read(path))[-self.max_examples:]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(e.to_json() + "\n" for e in keep), encoding="utf-8")
        os.replace(tmp, path)
        self._counts[channel] = len(keep)

    @staticmethod
    def _read(path: Path):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                try:
                    d = json.loads(line)
                    yield LabelledExample(**d)
                except (ValueError, TypeError) as exc:
                    # A torn last line after a crash costs only that line.
                    log.warning("%s:%d: skipped bad example (%s)", path, n, exc)

    def load_all(self) -> list[LabelledExample]:
        """Every stored example, per channel in the order they were learned."""
        out: list[LabelledExample] = []
        with self._lock:
            for path in sorted(self.root.glob("*.jsonl")):
                examples = list(self._read(path))[-self.max_examples:]
                if examples:
                    self._counts[examples[0].channel] = len(examples)
                out.extend(examples)
        return out
