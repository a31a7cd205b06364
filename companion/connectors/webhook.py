"""HTTP webhook ingest for every other platform: ``POST /api/messages`` with a JSON batch.

Body: ``{"messages": [{"text": "...", "platform": "...", ...}, ...]}`` or a bare JSON array of the
same objects. Only ``text`` is required. Answers ``200 {"accepted": n}`` (plus ``"duplicates": d``
when messages whose ``id`` was already accepted were skipped, so a retried batch is never taken
twice); ``400`` with ``{"error", "fields": [{"loc", "msg", "type"}]}`` for bad input (a
non-finite or out-of-range number, a 5,000-digit integer and JSON nested too deeply included);
``401`` without the bearer token when ``engine.config.api_token`` is set; ``413`` over the size
or count limit; ``415`` unless the body is ``application/json``; ``503`` with ``Retry-After``
when the engine cannot take the whole batch now (overload). A batch is taken whole or not at
all. Field errors never echo the submitted values back.
"""
from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections import OrderedDict
from datetime import datetime
from typing import Annotated, Any, Callable, Union

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from companion.messages import ChatMessage, MessageKind
from companion.text import normalize_text

_log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_MAX_MESSAGES = 500
# How many accepted message ids are remembered for idempotent retries.
DEDUP_IDS = 100_000
_Short = Field(default=None, max_length=200)
# Numbers every stage and strict JSON output can hold: 64-bit ints, finite floats.
_Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
_Finite = Annotated[float, Field(allow_inf_nan=False)]
_Pos = Annotated[int, Field(ge=0, le=1_000_000)]
TagValue = Union[bool, _Int64, _Finite, str, None]
MIN_TS, MAX_TS = 0.0, 4_102_444_800.0  # the epoch .. 2100-01-01, as for replay files
MAX_BITS = 10_000_000


class WebhookMessage(BaseModel):
    """One message in a webhook batch. Unknown fields are rejected so typos surface as 400s."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    text: str = Field(min_length=1, max_length=10_000)
    platform: str = Field(default="webhook", pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    channel: str = Field(default="default", min_length=1, max_length=200)
    user: str = Field(default="anonymous", min_length=1, max_length=200)
    user_id: str | None = _Short
    id: str | None = Field(default=None, min_length=1, max_length=200)
    ts: float | datetime | None = None  # epoch seconds or ISO-8601; default: arrival time
    kind: MessageKind = MessageKind.MESSAGE
    tags: dict[str, TagValue] = Field(default_factory=dict, max_length=64)
    reply_to_id: str | None = _Short
    reply_to_user: str | None = _Short
    mentions: list[str] = Field(default_factory=list, max_length=50)
    emotes: list[tuple[_Pos, _Pos, Annotated[str, Field(max_length=200)]]] = Field(
        default_factory=list, max_length=200)
    badges: dict[str, str] = Field(default_factory=dict, max_length=32)
    first_message: bool = False
    bits: int = Field(default=0, ge=0, le=MAX_BITS)

    @field_validator("ts")
    @classmethod
    def _sane_ts(cls, value: float | datetime | None) -> float | datetime | None:
        if value is None:
            return value
        ts = value.timestamp() if isinstance(value, datetime) else float(value)
        if not math.isfinite(ts) or not MIN_TS <= ts <= MAX_TS:
            raise ValueError(f"ts must be finite epoch seconds in {MIN_TS:.0f}..{MAX_TS:.0f}")
        return value

    @field_validator("text")
    @classmethod
    def _has_visible_text(cls, value: str) -> str:
        if not normalize_text(value)[0]:
            raise ValueError("text is empty once control and invisible characters are removed")
        return value

    @field_validator("emotes")
    @classmethod
    def _ordered_spans(cls, value: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        for start, end, _name in value:
            if start < 0 or end < start:
                raise ValueError("emote spans need 0 <= start <= end")
        return value

    def to_chat_message(self, now: float) -> ChatMessage:
        """The normalised ChatMessage (text cleaned and capped, ``truncated`` set)."""
        clean, truncated = normalize_text(self.text)
        if isinstance(self.ts, datetime):
            ts = self.ts.timestamp()
        else:
            ts = now if self.ts is None else float(self.ts)
        fields: dict[str, Any] = dict(
            text=clean,
            truncated=truncated,
            platform=self.platform.lower(),
            channel=self.channel,
            user=self.user,
            user_id=self.user_id,
            ts=ts,
            tags={k: v for k, v in self.tags.items()},
            kind=self.kind,
            reply_to_id=self.reply_to_id,
            reply_to_user=self.reply_to_user,
            mentions=list(self.mentions),
            emotes=[s for s in self.emotes if s[1] < len(clean)],
            badges=dict(self.badges),
            first_message=self.first_message,
            bits=self.bits,
        )
        if self.id is not None:
            fields["id"] = self.id
        return ChatMessage(**fields)


class WebhookBatch(BaseModel):
    """``{"messages": [...]}``."""

    model_config = ConfigDict(extra="forbid")
    messages: list[WebhookMessage] = Field(min_length=1)


class _BareBatch(RootModel[list[WebhookMessage]]):
    root: list[WebhookMessage] = Field(min_length=1)


def _field_errors(exc: ValidationError, prefix: tuple = ()) -> list[dict[str, str]]:
    return [
        {"loc": ".".join(str(p) for p in (*prefix, *err["loc"])), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def parse_batch(payload: Any) -> list[WebhookMessage]:
    """Validate a decoded JSON body (object with ``messages`` or a bare array).
    Raises ValidationError."""
    if isinstance(payload, list):
        return _BareBatch.model_validate(payload).root
    return WebhookBatch.model_validate(payload).messages


def _bearer_ok(request: web.Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, supplied = header.partition(" ")
    if scheme.lower() != "bearer" or not supplied:
        return False
    return hmac.compare_digest(supplied.strip().encode(), token.encode())


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class RecentIds:
    """The ids of recently accepted messages (LRU, bounded), for idempotent retries."""

    def __init__(self, capacity: int = DEDUP_IDS) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, msg_id: str) -> bool:
        return msg_id in self._ids

    def add(self, ids: list[str]) -> None:
        for msg_id in ids:
            self._ids[msg_id] = None
            self._ids.move_to_end(msg_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


def _is_json(request: web.Request) -> bool:
    return request.content_type == "application/json"


def make_handler(
    engine: Any,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    clock: Callable[[], float] = time.time,
) -> Callable[[web.Request], Any]:
    """The ``POST /api/messages`` handler bound to ``engine``."""
    recent = RecentIds()

    async def handle(request: web.Request) -> web.Response:
        token = getattr(getattr(engine, "config", None), "api_token", None)
        if token and not _bearer_ok(request, token):
            resp = _error(401, "missing or wrong bearer token")
            resp.headers["WWW-Authenticate"] = "Bearer"
            return resp
        if not _is_json(request):
            return _error(415, "the body must be sent as Content-Type: application/json")
        if request.content_length is not None and request.content_length > max_bytes:
            return _error(413, f"body larger than {max_bytes} bytes")
        body = bytearray()
        while True:
            chunk = await request.content.read(64 * 1024)
            if not chunk:
                break
            body.extend(chunk)
            if len(body) > max_bytes:
                return _error(413, f"body larger than {max_bytes} bytes")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, "body is not valid UTF-8 JSON", detail=str(exc)[:200])
        except RecursionError:
            return _error(400, "body is not valid UTF-8 JSON", detail="nested too deeply")
        except ValueError as exc:  # e.g. an integer over Python's digit limit
            return _error(400, "body is not valid UTF-8 JSON", detail=str(exc)[:120])
        if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
            count = len(payload["messages"])
        else:
            count = len(payload) if isinstance(payload, list) else 0
        if count > max_messages:
            return _error(413, f"batch of {count} messages is over the limit of {max_messages}")
        try:
            items = parse_batch(payload)
        except ValidationError as exc:
            fields = _field_errors(exc)
            _count_rejected(engine, len({next((p for p in f["loc"].split(".") if p.isdecimal()), "")
                                         for f in fields}))
            return _error(400, "validation failed", fields=fields)
        except RecursionError:
            return _error(400, "validation failed", fields=[
                {"loc": "messages", "msg": "nested too deeply", "type": "recursion"}])
        now = clock()
        messages = []
        seen_here: set[str] = set()
        for item in items:
            if item.id is not None and (item.id in recent or item.id in seen_here):
                continue  # already accepted (a retry): taking it again would duplicate it
            if item.id is not None:
                seen_here.add(item.id)
            messages.append(item.to_chat_message(now))
        duplicates = len(items) - len(messages)
        try:
            if messages:
                await engine.submit(messages)
        except Exception as exc:  # noqa: BLE001 - the sender must learn the batch was not taken
            _log.warning("webhook: engine refused a batch of %d: %s", len(messages), exc)
            resp = _error(503, "the engine could not take the batch; retry later")
            retry = getattr(exc, "retry_after_s", 1.0)
            resp.headers["Retry-After"] = str(max(1, math.ceil(retry)))
            return resp
        recent.add(list(seen_here))
        body_out: dict[str, int] = {"accepted": len(messages)}
        if duplicates:
            body_out["duplicates"] = duplicates
        return web.json_response(body_out)

    return handle


def _count_rejected(engine: Any, n: int) -> None:
    count = getattr(getattr(engine, "runtime", None), "count_rejected", None)
    if count is not None:
        count("webhook", n)


def register_routes(
    app: web.Application,
    engine: Any,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    clock: Callable[[], float] = time.time,
) -> None:
    """Add ``POST /api/messages`` to ``app``. Auth is enforced here too when
    ``engine.config.api_token`` is set, so the route is safe with or without the dashboard's
    middleware."""
    app.router.add_post(
        "/api/messages", make_handler(engine, max_bytes=max_bytes, max_messages=max_messages, clock=clock)
    )
