"""Twitch moderation through the Helix API: delete a chat message, time a user out.

Scopes the user access token needs (checked up front with ``GET /oauth2/validate``):
``moderator:manage:chat_messages`` (delete) and ``moderator:manage:banned_users`` (timeout). The
token's user must be a moderator (or the broadcaster) of each channel.

Environment: ``TWITCH_CLIENT_ID``, ``TWITCH_OAUTH_TOKEN`` (the same token as chat; an ``oauth:``
prefix is accepted), ``TWITCH_HELIX_URL`` and ``TWITCH_VALIDATE_URL`` (tests point them at a
loopback server).

Rate limits: a local token bucket (Helix allows 800 points a minute per client and user), the
``Ratelimit-Remaining``/``Ratelimit-Reset`` headers (wait for the reset when none remain), a 429
waits until ``Ratelimit-Reset`` and retries, and moderation actions share Twitch's moderator chat
window (100 per 30 s). A 401 re-validates the token once; if that fails the client stops acting
and every later call raises :class:`HelixAuthError` (counted in :attr:`HelixClient.stats`).
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable, Mapping

import aiohttp

from .ratelimit import TWITCH_CHAT_LIMIT_PRIVILEGED, TWITCH_CHAT_WINDOW_S, SlidingWindowLimiter
from .redact import Secret

log = logging.getLogger(__name__)

DEFAULT_HELIX_URL = "https://api.twitch.tv/helix"
DEFAULT_VALIDATE_URL = "https://id.twitch.tv/oauth2/validate"
SCOPE_DELETE = "moderator:manage:chat_messages"
SCOPE_TIMEOUT = "moderator:manage:banned_users"
REQUIRED_SCOPES = (SCOPE_DELETE, SCOPE_TIMEOUT)
HELIX_POINTS_PER_MINUTE = 800
MAX_TIMEOUT_S = 1_209_600  # Twitch's longest timeout (2 weeks)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class HelixError(RuntimeError):
    """A Helix call failed (status and Twitch's message in the text)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HelixAuthError(HelixError):
    """The token is invalid, expired or lacks a scope: moderation stops until it is fixed."""


@dataclass(slots=True)
class TokenInfo:
    login: str
    user_id: str
    client_id: str
    scopes: list[str]
    expires_in: int


@dataclass(slots=True)
class HelixStats:
    requests: int = 0
    deleted: int = 0
    timed_out: int = 0
    rate_limited: int = 0  # 429 answers
    waited_s: float = 0.0  # time spent waiting for any limit
    auth_failures: int = 0
    errors: int = 0
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenBucket:
    """``capacity`` tokens refilled at ``rate`` per second; :meth:`take` waits for one."""

    def __init__(self, capacity: float, rate: float, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep):
        self.capacity, self.rate = float(capacity), float(rate)
        self.tokens = float(capacity)
        self._clock, self._sleep = clock, sleep
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def drain_to(self, remaining: float) -> None:
        """Trust the server's count when it is lower than ours."""
        self._refill()
        self.tokens = min(self.tokens, float(remaining))

    async def take(self) -> float:
        waited = 0.0
        async with self._lock:
            while True:
                self._refill()
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return waited
                need = (1.0 - self.tokens) / self.rate
                await self._sleep(need)
                waited += need


@dataclass
class HelixClient:
    """A small async Helix client with its own aiohttp session. Use :meth:`start` first (it
    validates the token and its scopes), :meth:`close` at the end."""

    client_id: str
    token: Secret
    base_url: str = DEFAULT_HELIX_URL
    validate_url: str = DEFAULT_VALIDATE_URL
    required_scopes: tuple[str, ...] = REQUIRED_SCOPES
    max_retries: int = 3
    clock: Clock = time.time  # Ratelimit-Reset is epoch seconds
    sleep: Sleep = asyncio.sleep
    stats: HelixStats = field(default_factory=HelixStats)
    info: TokenInfo | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self.bucket = TokenBucket(HELIX_POINTS_PER_MINUTE, HELIX_POINTS_PER_MINUTE / 60.0, sleep=self.sleep)
        self.chat_window = SlidingWindowLimiter(TWITCH_CHAT_LIMIT_PRIVILEGED, TWITCH_CHAT_WINDOW_S, sleep=self.sleep)
        self._users: dict[str, str] = {}
        self._blocked_until = 0.0  # epoch seconds: no request before (Ratelimit-Remaining hit 0)

    def __repr__(self) -> str:
        return f"HelixClient(base_url={self.base_url!r}, client_id={self.client_id!r}, token=***)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kw: Any) -> "HelixClient":
        """``TWITCH_CLIENT_ID`` and ``TWITCH_OAUTH_TOKEN`` (required); the URLs are overridable."""
        env = os.environ if env is None else env
        client_id = env.get("TWITCH_CLIENT_ID", "").strip()
        token = env.get("TWITCH_OAUTH_TOKEN", "").strip()
        if not client_id or not token:
            raise HelixAuthError("Twitch moderation needs TWITCH_CLIENT_ID and TWITCH_OAUTH_TOKEN (a user token "
                                 f"with {' and '.join(REQUIRED_SCOPES)})")
        if token.lower().startswith("oauth:"):
            token = token[6:]
        return cls(client_id, Secret(token),
                   base_url=env.get("TWITCH_HELIX_URL", "").strip() or DEFAULT_HELIX_URL,
                   validate_url=env.get("TWITCH_VALIDATE_URL", "").strip() or DEFAULT_VALIDATE_URL, **kw)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> TokenInfo:
        """Open the session and validate the token; raises :class:`HelixAuthError` when the
        token is refused or lacks a required scope."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return await self.validate()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _fail_auth(self, message: str, status: int | None = 401) -> HelixAuthError:
        self.stats.auth_failures += 1
        self.stats.disabled = True
        log.error("twitch helix: %s; moderation on Twitch is stopped", message)
        return HelixAuthError(message, status)

    async def validate(self) -> TokenInfo:
        """``GET /oauth2/validate``: who the token is, its client id and scopes."""
        assert self._session is not None, "call start() first"
        headers = {"Authorization": f"OAuth {self.token.reveal()}"}
        async with self._session.get(self.validate_url, headers=headers) as resp:
            body = await _json_or_empty(resp)
            if resp.status == 401:
                raise self._fail_auth(f"token refused by /oauth2/validate ({body.get('message', 'invalid token')})")
            if resp.status != 200:
                raise HelixError(f"/oauth2/validate answered {resp.status}", resp.status)
        info = TokenInfo(login=body.get("login", ""), user_id=str(body.get("user_id", "")),
                         client_id=body.get("client_id", ""), scopes=list(body.get("scopes") or []),
                         expires_in=int(body.get("expires_in") or 0))
        missing = [s for s in self.required_scopes if s not in info.scopes]
        if missing:
            raise self._fail_auth(f"token lacks scope(s) {', '.join(missing)} (has: {', '.join(info.scopes) or 'none'})",
                                  status=None)
        if info.client_id and info.client_id != self.client_id:
            raise self._fail_auth(f"token belongs to client id {info.client_id}, not TWITCH_CLIENT_ID", status=None)
        self.info = info
        self.stats.disabled = False
        return info

    # -- requests --------------------------------------------------------------------------
    async def _wait_limits(self) -> None:
        waited = await self.bucket.take()
        now = self.clock()
        if self._blocked_until > now:
            waited += self._blocked_until - now
            await self.sleep(self._blocked_until - now)
        self.stats.waited_s += waited

    def _note_headers(self, resp: aiohttp.ClientResponse) -> float | None:
        remaining = resp.headers.get("Ratelimit-Remaining")
        reset = resp.headers.get("Ratelimit-Reset")
        reset_at = float(reset) if reset and reset.replace(".", "", 1).isdigit() else None
        if remaining is not None and remaining.isdigit():
            self.bucket.drain_to(int(remaining))
            if int(remaining) == 0 and reset_at is not None:
                self._blocked_until = max(self._blocked_until, reset_at)
        return reset_at

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                      json: Any = None) -> dict[str, Any]:
        """One Helix call with the limits, 429 retries and the 401 rule; the JSON body (or {})."""
        if self.stats.disabled:
            raise HelixAuthError("Twitch moderation is stopped: the token was refused earlier (fix it and restart)")
        assert self._session is not None, "call start() first"
        revalidated = False
        for attempt in range(self.max_retries + 1):
            await self._wait_limits()
            headers = {"Client-Id": self.client_id, "Authorization": f"Bearer {self.token.reveal()}"}
            self.stats.requests += 1
            async with self._session.request(method, self.base_url + path, params=params, json=json,
                                             headers=headers) as resp:
                reset_at = self._note_headers(resp)
                body = await _json_or_empty(resp)
                status = resp.status
            if status == 429 and attempt < self.max_retries:
                self.stats.rate_limited += 1
                wait = max(0.0, (reset_at if reset_at is not None else self.clock() + 1.0) - self.clock())
                log.warning("twitch helix: 429 on %s %s; retrying in %.2fs", method, path, wait)
                self.stats.waited_s += wait
                await self.sleep(wait)
                continue
            if status == 401:
                if not revalidated:
                    revalidated = True
                    await self.validate()  # raises HelixAuthError (and disables) when the token is dead
                    continue
                raise self._fail_auth(f"{method} {path} refused with 401 after a successful validate "
                                      f"({body.get('message', '')})")
            if status >= 400:
                self.stats.errors += 1
                raise HelixError(f"{method} {path} answered {status}: {body.get('message', '')}", status)
            return body
        self.stats.errors += 1
        raise HelixError(f"{method} {path}: still rate limited after {self.max_retries} retries", 429)

    async def user_id(self, login: str) -> str:
        """``GET /users?login=``, cached."""
        login = login.lower().lstrip("#")
        if login not in self._users:
            body = await self.request("GET", "/users", params={"login": login})
            data = body.get("data") or []
            if not data:
                raise HelixError(f"no Twitch user {login!r}", 404)
            self._users[login] = str(data[0]["id"])
        return self._users[login]

    async def delete_message(self, broadcaster_id: str, message_id: str) -> None:
        """``DELETE /moderation/chat`` (scope moderator:manage:chat_messages)."""
        await self.chat_window.acquire()
        await self.request("DELETE", "/moderation/chat", params={
            "broadcaster_id": broadcaster_id, "moderator_id": self._moderator_id(), "message_id": message_id})
        self.stats.deleted += 1

    async def timeout(self, broadcaster_id: str, user_id: str, duration_s: int, reason: str) -> None:
        """``POST /moderation/bans`` with a duration: a timeout, never a ban (scope
        moderator:manage:banned_users)."""
        duration = max(1, min(int(duration_s), MAX_TIMEOUT_S))
        await self.chat_window.acquire()
        await self.request("POST", "/moderation/bans", params={
            "broadcaster_id": broadcaster_id, "moderator_id": self._moderator_id()},
            json={"data": {"user_id": user_id, "duration": duration, "reason": reason[:500]}})
        self.stats.timed_out += 1

    def _moderator_id(self) -> str:
        if self.info is None:
            raise HelixAuthError("token not validated: call start() first")
        return self.info.user_id


class HelixModerator:
    """The moderation backend for Twitch: turns a suggestion into Helix calls. The channel
    (broadcaster) and, when the message lacks it, the user are looked up by login."""

    name = "twitch-helix"

    def __init__(self, client: HelixClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "HelixModerator":
        return cls(HelixClient.from_env(env))

    async def start(self) -> TokenInfo:
        return await self.client.start()

    async def close(self) -> None:
        await self.client.close()

    async def moderate(self, suggestion: Any) -> None:
        """Execute a ``delete`` or ``timeout`` :class:`~companion.recommendation.ModerationSuggestion`."""
        broadcaster = await self.client.user_id(suggestion.channel)
        if suggestion.action == "delete":
            await self.client.delete_message(broadcaster, suggestion.message_id)
        elif suggestion.action == "timeout":
            user_id = suggestion.user_id or await self.client.user_id(suggestion.user)
            await self.client.timeout(broadcaster, user_id, suggestion.duration_s or 600, suggestion.reason)
        else:
            raise ValueError(f"Twitch moderation does not do {suggestion.action!r}")


async def _json_or_empty(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    if resp.status == 204:
        return {}
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return body if isinstance(body, dict) else {}
