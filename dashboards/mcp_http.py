"""``/mcp``: MCP over streamable HTTP, served by the running engine's dashboard.

The tools are :func:`companion.character.mcp_server.build_server`'s, bound to the live
:class:`CharacterEngine` and memory store, so ``update_emotion`` moves the mood the engine is
using and the memory tools read the store it is writing. The MCP SDK's streamable-HTTP session
manager does the protocol; this module is the small ASGI bridge that hands it aiohttp requests.
The dashboard's middlewares run first, so ``/mcp`` has the same bearer-token, Host and Origin
rules as every other route (the SDK's own DNS-rebinding check is therefore off).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
MCP_KEY: web.AppKey[Any] = web.AppKey("mcp_bridge", object)


class MCPBridge:
    """Owns the MCP server, its session manager's lifetime, and the aiohttp <-> ASGI adapter."""

    def __init__(self, engine: Any) -> None:
        from mcp.server.transport_security import TransportSecuritySettings

        from companion.character.mcp_server import build_server

        self.server = build_server(engine.character)
        self.server.streamable_http_app(
            streamable_http_path="/mcp",
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        self.manager = self.server.session_manager
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # The session manager's task group must be entered and left in one task.
        self._task = asyncio.create_task(self._run(), name="mcp-sessions")
        await asyncio.wait_for(self._ready.wait(), 10)

    async def _run(self) -> None:
        async with self.manager.run():
            self._ready.set()
            await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 5)
            self._task = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One HTTP request through the SDK's streamable-HTTP transport."""
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": request.scheme, "path": request.path, "raw_path": request.raw_path.encode(),
            "query_string": request.query_string.encode(), "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()],
            "server": (request.host.split(":")[0], request.url.port or 80),
            "client": tuple(peer[:2]) if peer else None,
        }
        sent_body = False
        disconnected = asyncio.Event()
        resp: web.StreamResponse | None = None

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal resp
            if message["type"] == "http.response.start":
                resp = web.StreamResponse(status=message["status"])
                for k, v in message.get("headers", []):
                    key = k.decode("latin-1")
                    if key.lower() not in ("content-length", "transfer-encoding"):
                        resp.headers.add(key, v.decode("latin-1"))
                await resp.prepare(request)
            elif message["type"] == "http.response.body" and resp is not None:
                chunk = message.get("body", b"")
                if chunk:
                    await resp.write(chunk)
                if not message.get("more_body", False):
                    await resp.write_eof()

        try:
            await self.manager.handle_request(scope, receive, send)
        except (ConnectionResetError, asyncio.CancelledError):
            disconnected.set()
            raise
        finally:
            disconnected.set()
        return resp if resp is not None else web.Response(status=500, text="MCP transport sent no response")


def register_routes(app: web.Application, engine: Any) -> None:
    """Mount ``/mcp`` (GET, POST, DELETE) when the engine has a character engine and the SDK is there."""
    if getattr(getattr(engine, "character", None), "config", None) is None:
        return  # no character engine (or a stand-in without one): nothing to serve
    try:
        bridge = MCPBridge(engine)
    except ImportError as exc:
        log.info("mcp package not available (%s); /mcp is not served", exc)
        return
    app[MCP_KEY] = bridge

    async def lifecycle(_: web.Application):
        await bridge.start()
        yield
        await bridge.stop()

    app.cleanup_ctx.append(lifecycle)
    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, "/mcp", bridge.handle)
