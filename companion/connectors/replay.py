"""Replay a recorded chat (JSONL or CSV) or read JSONL/plain lines from stdin.

A bad line (broken JSON, no ``text``, invalid UTF-8, a wrong type) is counted in
``stats.malformed``, logged with its line number and kept in ``bad_lines``; the run goes on.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import sys
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from companion.connectors.base import SourceStats
from companion.messages import ChatMessage, MessageKind
from companion.text import normalize_text

log = logging.getLogger(__name__)

# Python's csv module refuses fields over 128 kB by default; chat lines can be long and hostile.
csv.field_size_limit(10 * 1024 * 1024)


# Timestamps a chat message can have: the epoch up to the year 2100 (the webhook uses the same).
MIN_TS = 0.0
MAX_TS = 4_102_444_800.0
# Bits in one cheer: Twitch's own limit is far lower; this keeps ints bounded for every stage.
MAX_BITS = 10_000_000
# Bad lines kept with their reason for inspection (the newest); every one is counted regardless.
MAX_BAD_LINES = 1000


@dataclass(slots=True)
class BadLine:
    line: int
    reason: str


class BadRecord(ValueError):
    """A replay row that cannot become a message."""


def parse_ts(value: Any) -> float:
    """Epoch seconds (int/float/numeric string, milliseconds accepted) or ISO-8601."""
    if isinstance(value, bool):
        raise BadRecord("ts must be a number or an ISO-8601 string")
    if isinstance(value, (int, float)):
        ts = float(value)
    elif isinstance(value, str) and value.strip():
        v = value.strip()
        try:
            ts = float(v)
        except ValueError:
            try:
                dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError as exc:
                raise BadRecord(f"unparseable ts {v[:40]!r}") from exc
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            ts = dt.timestamp()
    else:
        raise BadRecord("ts must be a number or an ISO-8601 string")
    if not math.isfinite(ts):
        raise BadRecord("ts must be a finite number")
    # Millisecond epochs are common in exported logs.
    ts = ts / 1000.0 if ts > 1e11 else ts
    if not MIN_TS <= ts <= MAX_TS:
        raise BadRecord(f"ts out of range ({MIN_TS:.0f}..{MAX_TS:.0f} epoch seconds)")
    return ts


def _kind(value: Any) -> MessageKind:
    if value in (None, ""):
        return MessageKind.MESSAGE
    try:
        return MessageKind(str(value).lower())
    except ValueError as exc:
        raise BadRecord(f"unknown kind {str(value)[:30]!r}") from exc


def message_from_mapping(row: dict[str, Any], platform: str = "replay") -> ChatMessage:
    """Build a message from a JSON object or CSV row (``text`` or ``message`` required)."""
    text = row.get("text", row.get("message"))
    if text is None:
        raise BadRecord("missing 'text'")
    if not isinstance(text, str):
        raise BadRecord(f"'text' must be a string, not {type(text).__name__}")
    clean, truncated = normalize_text(text)
    if not clean:
        raise BadRecord("empty 'text'")
    raw_ts = row.get("ts", row.get("date"))
    ts = parse_ts(raw_ts) if raw_ts not in (None, "") else time.time()
    tags = row.get("tags") or {}
    if not isinstance(tags, dict):
        raise BadRecord("'tags' must be an object")
    user = str(row.get("user") or "anonymous")[:64]
    msg = ChatMessage(
        text=clean,
        platform=str(row.get("platform") or platform)[:32],
        channel=str(row.get("channel") or "default")[:64],
        user=user,
        user_id=str(row["user_id"])[:64] if row.get("user_id") not in (None, "") else None,
        ts=ts,
        tags=tags,
        kind=_kind(row.get("kind")),
        truncated=truncated,
        first_message=bool(row.get("first_message") or tags.get("first-msg") in ("1", 1, True)),
    )
    if row.get("id"):
        msg.id = str(row["id"])[:128]
    bits = row.get("bits") or tags.get("bits")
    if bits not in (None, ""):
        if isinstance(bits, float) and not bits.is_integer():
            raise BadRecord("'bits' must be an integer")
        try:
            msg.bits = int(bits)
        except (TypeError, ValueError, OverflowError) as exc:
            raise BadRecord("'bits' must be an integer") from exc
        if not 0 <= msg.bits <= MAX_BITS:
            raise BadRecord(f"'bits' must be between 0 and {MAX_BITS}")
        if msg.kind is MessageKind.MESSAGE and msg.bits > 0:
            msg.kind = MessageKind.BITS
    mentions = row.get("mentions")
    if isinstance(mentions, list):
        msg.mentions = [str(m)[:64] for m in mentions]
    return msg


def _iter_jsonl(data: bytes, platform: str) -> Iterator[tuple[int, ChatMessage | BadLine]]:
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, BadLine(lineno, f"invalid UTF-8 at byte {exc.start}")
            continue
        yield lineno, _jsonl_item(lineno, line, platform)


def _reject_constant(name: str) -> Any:
    raise BadRecord(f"non-standard JSON number {name}")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e400 parses as inf, which no stage or JSON output can hold
        raise BadRecord(f"number out of range {literal[:40]!r}")
    return value


def _jsonl_item(lineno: int, line: str, platform: str) -> ChatMessage | BadLine:
    """One JSONL line as a message or a bad line. Every exception is this line's problem only:
    a line that escaped here would end the generator and silently lose the rest of the file."""
    try:
        obj = json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
        if not isinstance(obj, dict):
            return BadLine(lineno, "a line must be a JSON object")
        return message_from_mapping(obj, platform)
    except BadRecord as exc:
        return BadLine(lineno, str(exc))
    except json.JSONDecodeError as exc:
        return BadLine(lineno, f"broken JSON: {exc.msg}")
    except RecursionError:
        return BadLine(lineno, "JSON nested too deeply")
    except Exception as exc:  # noqa: BLE001 - digit limits, overflow, odd types: count, go on
        return BadLine(lineno, f"{type(exc).__name__}: {str(exc)[:120]}")


def _iter_csv(data: bytes, platform: str) -> Iterator[tuple[int, ChatMessage | BadLine]]:
    # Decode line by line so one bad line cannot spoil the file.
    lines: list[str] = []
    bad: dict[int, BadLine] = {}
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as exc:
            bad[lineno] = BadLine(lineno, f"invalid UTF-8 at byte {exc.start}")
            lines.append("")
    reader = csv.DictReader(io.StringIO("\n".join(lines), newline=""))
    if reader.fieldnames is None or not ({"text", "message"} & {f.strip() for f in reader.fieldnames}):
        yield 1, BadLine(1, "CSV header needs a 'text' or 'message' column")
        return
    emitted_bad = set()
    for row in reader:
        lineno = reader.line_num
        for b in sorted(k for k in bad if k < lineno and k not in emitted_bad):
            emitted_bad.add(b)
            yield b, bad[b]
        if lineno in bad:
            continue
        row = {(k or "").strip(): v for k, v in row.items()}
        if None in row or "" in row:
            yield lineno, BadLine(lineno, "more fields than the header")
            continue
        try:
            yield lineno, message_from_mapping(row, platform)
        except BadRecord as exc:
            yield lineno, BadLine(lineno, str(exc))
        except Exception as exc:  # noqa: BLE001 - one odd row must not end the file
            yield lineno, BadLine(lineno, f"{type(exc).__name__}: {str(exc)[:120]}")
    for b in sorted(k for k in bad if k not in emitted_bad):
        yield b, bad[b]


class ReplaySource:
    """Plays a JSONL or CSV chat file. ``speed=0`` goes as fast as the pipeline takes it;
    ``speed=1`` waits out the real gaps between timestamps; ``speed=2`` twice as fast."""

    can_pause = True  # the overload policy may apply backpressure instead of degrading

    def __init__(self, path: str | Path, speed: float = 0.0, platform: str = "replay",
                 rebase: bool = False) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.path = Path(path)
        self.speed = speed
        self.platform = platform
        # rebase: shift timestamps so the first message happens now (the demo plays as live chat,
        # so memory recency and analytics windows line up with the wall clock).
        self.rebase = rebase
        self.name = f"replay:{self.path.name}"
        self.stats = SourceStats()
        self.bad_lines: deque[BadLine] = deque(maxlen=MAX_BAD_LINES)  # all are counted in stats
        self._closed = False

    def _rows(self) -> Iterator[tuple[int, ChatMessage | BadLine]]:
        data = self.path.read_bytes()
        is_csv = self.path.suffix.lower() == ".csv"
        return (_iter_csv if is_csv else _iter_jsonl)(data, self.platform)

    def __aiter__(self) -> AsyncIterator[ChatMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatMessage]:
        first_ts: float | None = None
        start = time.monotonic()
        shift: float | None = None
        for n, (lineno, item) in enumerate(self._rows()):
            if self._closed:
                return
            self.stats.received += 1
            if isinstance(item, BadLine):
                self.stats.malformed += 1
                self.bad_lines.append(item)
                log.warning("%s line %d: %s", self.path.name, item.line, item.reason)
                continue
            if self.rebase:
                shift = time.time() - item.ts if shift is None else shift
            if self.speed > 0:
                first_ts = item.ts if first_ts is None else first_ts
                due = start + max(0.0, item.ts - first_ts) / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif n % 256 == 0:
                await asyncio.sleep(0)  # let the pipeline run between chunks
            if shift is not None:
                item.ts += shift
            item.received_at = time.perf_counter()
            self.stats.parsed += 1
            yield item

    async def close(self) -> None:
        self._closed = True


class StdinSource:
    """Reads stdin line by line: a JSON object per line, or plain text (one message per line)."""

    can_pause = True

    def __init__(self, stream: Any = None, platform: str = "stdin") -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self.platform = platform
        self.name = "stdin"
        self.stats = SourceStats()
        self.bad_lines: deque[BadLine] = deque(maxlen=MAX_BAD_LINES)  # all are counted in stats
        self._closed = False

    def __aiter__(self) -> AsyncIterator[ChatMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatMessage]:
        lineno = 0
        while not self._closed:
            raw = await asyncio.to_thread(self._stream.readline)
            if not raw:
                return
            lineno += 1
            item = self._parse(lineno, raw)
            if item is None:
                continue
            self.stats.received += 1
            if isinstance(item, BadLine):
                self.stats.malformed += 1
                self.bad_lines.append(item)
                log.warning("stdin line %d: %s", lineno, item.reason)
                continue
            self.stats.parsed += 1
            yield item

    def _parse(self, lineno: int, raw: bytes) -> ChatMessage | BadLine | None:
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        stripped = raw.strip()
        if not stripped:
            return None
        if stripped.startswith(b"{"):
            for _, item in _iter_jsonl(stripped, self.platform):
                if isinstance(item, BadLine):
                    item.line = lineno
                return item
        try:
            text = stripped.decode("utf-8")
        except UnicodeDecodeError as exc:
            return BadLine(lineno, f"invalid UTF-8 at byte {exc.start}")
        try:
            return message_from_mapping({"text": text}, self.platform)
        except BadRecord as exc:
            return BadLine(lineno, str(exc))
        except Exception as exc:  # noqa: BLE001 - one odd line must not end stdin
            return BadLine(lineno, f"{type(exc).__name__}: {str(exc)[:120]}")

    async def close(self) -> None:
        self._closed = True
