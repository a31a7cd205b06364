"""Who may talk to the dashboard: loopback by default, a bearer token for anything else."""
from __future__ import annotations

import hmac
import ipaddress
import socket

from aiohttp import web

# Paths anyone on the bound interface may read: the page itself, its assets and the health check.
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = frozenset({"/", "/healthz", "/favicon.ico"})


class InsecureBindError(RuntimeError):
    """Raised when the server would listen beyond loopback without an API token."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to loopback (``localhost``)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_bind(host: str, api_token: str | None) -> None:
    """Refuse a non-loopback bind without a token, with an error that says how to fix it."""
    if not is_loopback(host) and not api_token:
        raise InsecureBindError(
            f"refusing to serve the dashboard/API on non-loopback host {host!r} without an API token: "
            "set COMPANION_API_TOKEN (every API and WebSocket call must then send 'Authorization: Bearer <token>'), "
            "or bind 127.0.0.1")


def request_token(request: web.Request) -> str | None:
    """The bearer token of a request. Only a WebSocket upgrade may pass it as ``?token=``
    (browsers cannot set headers there); anywhere else a query-string token would end up in
    logs and Referer headers, so it is not accepted. Nothing here logs it."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return request.query.get("token")
    return None


def token_middleware(api_token: str | None):
    """aiohttp middleware enforcing ``api_token`` on every API, metrics and WebSocket path."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if api_token and request.path not in PUBLIC_PATHS and not request.path.startswith(PUBLIC_PREFIXES):
            given = request_token(request)
            if given is None or not hmac.compare_digest(given.encode(), api_token.encode()):
                return web.json_response({"error": "unauthorized: send 'Authorization: Bearer <token>'"},
                                         status=401, headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return middleware


@web.middleware
async def security_headers(request: web.Request, handler):
    """A strict CSP: no inline script, so even a rendering bug cannot run chat-supplied code."""
    resp = await handler(request)
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    return resp
