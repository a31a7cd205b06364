"""A local stand-in for Twitch's Helix moderation API and /oauth2/validate (aiohttp on loopback).

It checks what Twitch checks for these calls (Client-Id, the bearer token, its scopes, required
query parameters), sends Twitch's rate-limit headers, and can be told to answer 429 or to
revoke the token (401), so the client's handling of both is exercised for real.
"""
from __future__ import annotations

import time

from aiohttp import web

SCOPES = ["moderator:manage:chat_messages", "moderator:manage:banned_users", "chat:read"]


class FakeHelix:
    def __init__(self, *, client_id: str = "cid-123", token: str = "tok-abc", scopes: list[str] | None = None,
                 users: dict[str, str] | None = None, moderator_login: str = "aiko_bot",
                 moderator_id: str = "9001", limit: int = 800) -> None:
        self.client_id, self.token = client_id, token
        self.scopes = list(SCOPES if scopes is None else scopes)
        self.users = {"streamer": "1001", "troll": "2002", moderator_login: moderator_id, **(users or {})}
        self.moderator_login, self.moderator_id = moderator_login, moderator_id
        self.limit = limit
        self.remaining = limit
        self.reset_at = time.time() + 60
        self.requests: list[dict] = []  # every Helix call (not validate): method, path, query, json, t
        self.validations = 0
        self.answer_429 = 0  # answer this many Helix calls with 429 first
        self.retry_after_s = 0.3
        self.revoked = False
        self.deleted: list[tuple[str, str]] = []  # (broadcaster_id, message_id)
        self.timeouts: list[dict] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> "FakeHelix":
        app = web.Application()
        app.router.add_get("/oauth2/validate", self._validate)
        app.router.add_get("/helix/users", self._users)
        app.router.add_delete("/helix/moderation/chat", self._delete)
        app.router.add_post("/helix/moderation/bans", self._ban)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def env(self) -> dict[str, str]:
        return {"TWITCH_CLIENT_ID": self.client_id, "TWITCH_OAUTH_TOKEN": f"oauth:{self.token}",
                "TWITCH_HELIX_URL": f"{self.url}/helix", "TWITCH_VALIDATE_URL": f"{self.url}/oauth2/validate"}

    # -- helpers ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Ratelimit-Limit": str(self.limit), "Ratelimit-Remaining": str(max(0, self.remaining)),
                "Ratelimit-Reset": str(int(self.reset_at)) if self.reset_at >= time.time() + 1 else f"{self.reset_at:.3f}"}

    def _err(self, status: int, message: str, extra: dict | None = None) -> web.Response:
        names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}
        return web.json_response({"error": names.get(status, "Error"), "status": status, "message": message},
                                 status=status, headers={**self._headers(), **(extra or {})})

    async def _check(self, request: web.Request, scope: str | None) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        self.requests.append({"method": request.method, "path": request.path, "query": dict(request.query),
                              "json": body, "t": time.time(), "client_id": request.headers.get("Client-Id"),
                              "auth": request.headers.get("Authorization")})
        if self.answer_429:
            self.answer_429 -= 1
            self.remaining, self.reset_at = 0, time.time() + self.retry_after_s
            return self._err(429, "Too Many Requests")
        if time.time() >= self.reset_at:
            self.remaining, self.reset_at = self.limit, time.time() + 60
        if request.headers.get("Client-Id") != self.client_id:
            return self._err(401, "Client ID and OAuth token do not match")
        if self.revoked or request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._err(401, "Invalid OAuth token")
        if scope and scope not in self.scopes:
            return self._err(401, f"Missing scope: {scope}")
        self.remaining -= 1
        return None

    # -- endpoints -------------------------------------------------------------------------
    async def _validate(self, request: web.Request) -> web.Response:
        self.validations += 1
        if self.revoked or request.headers.get("Authorization") != f"OAuth {self.token}":
            return web.json_response({"status": 401, "message": "invalid access token"}, status=401)
        return web.json_response({"client_id": self.client_id, "login": self.moderator_login, "scopes": self.scopes,
                                  "user_id": self.moderator_id, "expires_in": 5000000})

    async def _users(self, request: web.Request) -> web.Response:
        if (resp := await self._check(request, None)) is not None:
            return resp
        logins = request.query.getall("login", [])
        data = [{"id": self.users[x], "login": x, "display_name": x} for x in logins if x in self.users]
        return web.json_response({"data": data}, headers=self._headers())

    def _moderator_ok(self, request: web.Request) -> web.Response | None:
        q = request.query
        if not q.get("broadcaster_id") or not q.get("moderator_id"):
            return self._err(400, "Missing required parameter")
        if q["moderator_id"] != self.moderator_id:
            return self._err(403, "The user in moderator_id is not one of the broadcaster's moderators")
        return None

    async def _delete(self, request: web.Request) -> web.Response:
        if (resp := await self._check(request, "moderator:manage:chat_messages")) is not None:
            return resp
        if (resp := self._moderator_ok(request)) is not None:
            return resp
        self.deleted.append((request.query["broadcaster_id"], request.query.get("message_id", "")))
        return web.Response(status=204, headers=self._headers())

    async def _ban(self, request: web.Request) -> web.Response:
        if (resp := await self._check(request, "moderator:manage:banned_users")) is not None:
            return resp
        if (resp := self._moderator_ok(request)) is not None:
            return resp
        data = (self.requests[-1]["json"] or {}).get("data") or {}
        if not data.get("user_id"):
            return self._err(400, "Missing user_id")
        self.timeouts.append({"broadcaster_id": request.query["broadcaster_id"], **data})
        end = time.time() + data["duration"] if data.get("duration") else None
        return web.json_response({"data": [{"broadcaster_id": request.query["broadcaster_id"],
                                            "moderator_id": self.moderator_id, "user_id": data["user_id"],
                                            "end_time": end}]}, headers=self._headers())
