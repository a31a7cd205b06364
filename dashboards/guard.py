"""Request guard for every route of the dashboard app, present and future (moderation, overlay,
MCP, inspector): an aiohttp middleware, so a route added later is covered without asking.

Loopback is not a security boundary for a browser: any page the streamer opens can send requests
to ``http://127.0.0.1:8765``. So, even with no token:

- **Host** must be one of the names the server is bound as (loopback names for a loopback bind,
  plus ``allowed_hosts``). A DNS-rebinding page reaches us under *its own* host name and is
  refused (421) before any handler runs, so it can read nothing.
- **Origin**, when a browser sends one, must be the dashboard's own origin or in
  ``allowed_origins`` on every WebSocket upgrade and every state-changing request (POST, PUT,
  PATCH, DELETE): a cross-origin page can neither inject a chat line nor read ``/ws`` (403).
  Requests without ``Origin`` (curl, bots, webhook senders) are not browsers' cross-site requests
  and pass on to the token rules.
- **Content-Type** of every POST/PUT/PATCH must be ``application/json`` (415): the only bodies a
  cross-site form or ``no-cors`` fetch can send without a CORS preflight are ``text/plain``,
  form-encoded and multipart.
- JSON nested deeper than Python can parse is a 400, not a 500.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Iterable
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def _host_name(host_header: str) -> str:
    """``Host`` without the port, lower-case, IPv6 brackets removed."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback_name(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin_key(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, or None when it is not an http(s) origin."""
    parts = urlsplit(origin.strip().lower())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


class RequestGuard:
    """Host / Origin / Content-Type checks for a server bound to ``bind_host``.

    ``allowed_hosts`` adds host names (e.g. the machine's LAN name); ``allowed_origins`` adds
    full origins (``https://overlay.example``) that may post and open WebSockets.
    """

    def __init__(self, bind_host: str, allowed_hosts: Iterable[str] = (),
                 allowed_origins: Iterable[str] = ()) -> None:
        self.bind_host = bind_host.strip().lower().strip("[]")
        self.allowed_hosts = {h.strip().lower().strip("[]") for h in allowed_hosts if h.strip()}
        self.allowed_origins = {k for k in (_origin_key(o) for o in allowed_origins) if k}
        self.any_host = self.bind_host in WILDCARD_BINDS

    def host_ok(self, host_header: str | None) -> bool:
        """Whether ``Host`` names this server (defeats DNS rebinding)."""
        if not host_header:
            return False
        name = _host_name(host_header)
        if name in self.allowed_hosts or name == self.bind_host:
            return True
        if _is_loopback_name(name):
            return True  # a loopback name always means this machine
        # A wildcard bind on a LAN has a token (check_bind); the token is the boundary there.
        return self.any_host

    def origin_ok(self, request: web.Request) -> bool:
        """Whether the request's ``Origin`` (if any) is ours or allowed."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        key = _origin_key(origin)
        if key is None:  # "null" (sandboxed iframes, file://) and anything odd
            return False
        own = f"{request.scheme}://{request.host}".lower()
        return key == own or key in self.allowed_origins

    def middleware(self):
        """The aiohttp middleware enforcing the checks above."""

        @web.middleware
        async def guard(request: web.Request, handler):
            if not self.host_ok(request.headers.get("Host")):
                log.warning("refused a request for Host %.80r (not a name of this server)",
                            request.headers.get("Host"))
                return web.json_response({"error": "unknown Host"}, status=421)
            upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
            if (upgrade or request.method in STATE_CHANGING) and not self.origin_ok(request):
                log.warning("refused a cross-origin %s %s from Origin %.80r", request.method,
                            request.path, request.headers.get("Origin"))
                return web.json_response({"error": "cross-origin request refused"}, status=403)
            if request.method in WITH_BODY and request.content_type != "application/json":
                return web.json_response(
                    {"error": "the body must be sent as Content-Type: application/json"}, status=415)
            try:
                return await handler(request)
            except RecursionError:
                return web.json_response({"error": "JSON nested too deeply"}, status=400)

        return guard
