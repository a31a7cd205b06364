"""VTube Studio output: show the companion's expression on the avatar via the public plugin API.

Protocol (DenchiSoft/VTubeStudio README): JSON messages over WebSocket (default
``ws://127.0.0.1:8001``), each ``{"apiName": "VTubeStudioPublicAPI", "apiVersion": "1.0",
"requestID", "messageType", "data"}``; errors come back as ``messageType: "APIError"`` with
``data.errorID`` and ``data.message``.

1. ``AuthenticationTokenRequest`` {pluginName, pluginDeveloper} -> ``authenticationToken``
   (VTS asks the user once; the token is cached in ``token_path``);
2. ``AuthenticationRequest`` {pluginName, pluginDeveloper, authenticationToken} -> ``authenticated``;
3. ``HotkeysInCurrentModelRequest`` -> ``availableHotkeys`` [{name, type, file, hotkeyID, ...}];
4. ``HotkeyTriggerRequest`` {hotkeyID}.

An expression maps to a hotkey by the ``expression_hotkeys`` table (expression -> hotkey name),
else to the first hotkey whose name or file contains the expression label. ``ToggleExpression``
hotkeys are toggled off again when the expression changes.
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path
from typing import Any, AsyncIterable

from websockets.asyncio.client import ClientConnection, connect

log = logging.getLogger(__name__)

API_NAME = "VTubeStudioPublicAPI"
API_VERSION = "1.0"
DEFAULT_URL = "ws://127.0.0.1:8001"


class VTSError(RuntimeError):
    """An ``APIError`` reply (or a malformed one)."""

    def __init__(self, error_id: int | None, message: str) -> None:
        super().__init__(f"VTube Studio error {error_id}: {message}")
        self.error_id = error_id


class VTubeStudioClient:
    """One plugin session with VTube Studio."""

    def __init__(self, url: str = DEFAULT_URL, plugin_name: str = "Companion Character",
                 plugin_developer: str = "companion", token_path: Path | None = None,
                 expression_hotkeys: dict[str, str] | None = None, timeout_s: float = 10.0) -> None:
        self.url = url
        self.plugin_name = plugin_name
        self.plugin_developer = plugin_developer
        self.token_path = Path(token_path) if token_path else None
        self.expression_hotkeys = {k.lower(): v for k, v in (expression_hotkeys or {}).items()}
        self.timeout_s = timeout_s
        self._ws: ClientConnection | None = None
        self._lock = asyncio.Lock()
        self._hotkeys: list[dict[str, Any]] | None = None
        self.expression: str | None = None
        self._active_toggle: str | None = None  # hotkeyID of the expression toggled on

    async def __aenter__(self) -> "VTubeStudioClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self._ws = await asyncio.wait_for(connect(self.url, max_size=2**22), self.timeout_s)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def request(self, message_type: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return the reply's ``data``; raises :class:`VTSError` on ``APIError``."""
        if self._ws is None:
            raise RuntimeError("not connected")
        rid = uuid.uuid4().hex[:16]
        msg = {"apiName": API_NAME, "apiVersion": API_VERSION, "requestID": rid,
               "messageType": message_type, "data": data or {}}
        async with self._lock:
            await self._ws.send(json.dumps(msg))
            while True:
                raw = await asyncio.wait_for(self._ws.recv(), self.timeout_s)
                try:
                    reply = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise VTSError(None, f"non-JSON reply: {exc}") from exc
                if reply.get("requestID") == rid:
                    break  # anything else is an event or a stale reply
        if reply.get("messageType") == "APIError":
            d = reply.get("data") or {}
            raise VTSError(d.get("errorID"), d.get("message", "unknown error"))
        expected = message_type.removesuffix("Request") + "Response"
        if reply.get("messageType") != expected:
            raise VTSError(None, f"expected {expected}, got {reply.get('messageType')}")
        return reply.get("data") or {}

    def _cached_token(self) -> str | None:
        if self.token_path and self.token_path.is_file():
            try:
                return json.loads(self.token_path.read_text()).get("token")
            except (OSError, ValueError):
                return None
        return None

    def _store_token(self, token: str) -> None:
        if self.token_path:
            self.token_path.parent.mkdir(parents=True, exist_ok=True)
            self.token_path.write_text(json.dumps({"token": token, "plugin": self.plugin_name}))

    async def authenticate(self) -> bool:
        """Authenticate the session, requesting (and caching) a token when there is none or the
        cached one is refused."""
        ident = {"pluginName": self.plugin_name, "pluginDeveloper": self.plugin_developer}
        token = self._cached_token()
        for attempt in range(2):
            if token is None:
                token = (await self.request("AuthenticationTokenRequest", ident)).get("authenticationToken")
                if not token:
                    raise VTSError(None, "no authenticationToken in reply")
                self._store_token(token)
            data = await self.request("AuthenticationRequest", {**ident, "authenticationToken": token})
            if data.get("authenticated"):
                return True
            token = None  # revoked or stale: ask for a new one once
        return False

    async def hotkeys(self, refresh: bool = False) -> list[dict[str, Any]]:
        """Hotkeys of the loaded model (cached until ``refresh``)."""
        if self._hotkeys is None or refresh:
            data = await self.request("HotkeysInCurrentModelRequest", {})
            self._hotkeys = list(data.get("availableHotkeys") or [])
        return self._hotkeys

    def hotkey_for(self, expression: str, hotkeys: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The hotkey that shows ``expression``, or None."""
        label = expression.lower()
        wanted = self.expression_hotkeys.get(label)
        for hk in hotkeys:
            if wanted is not None and hk.get("name", "").lower() == wanted.lower():
                return hk
        if wanted is not None:
            return None
        for hk in hotkeys:
            if label in hk.get("name", "").lower() or label in Path(hk.get("file", "")).stem.lower():
                return hk
        return None

    async def trigger(self, hotkey_id: str) -> None:
        await self.request("HotkeyTriggerRequest", {"hotkeyID": hotkey_id})

    async def show_expression(self, expression: str) -> str | None:
        """Trigger the hotkey for ``expression`` when it changed; returns the hotkeyID triggered."""
        if expression == self.expression:
            return None
        self.expression = expression
        if self._active_toggle is not None:
            await self.trigger(self._active_toggle)  # toggle the previous expression off
            self._active_toggle = None
        hk = self.hotkey_for(expression, await self.hotkeys())
        if hk is None:
            return None
        await self.trigger(hk["hotkeyID"])
        if hk.get("type") == "ToggleExpression":
            self._active_toggle = hk["hotkeyID"]
        return hk["hotkeyID"]

    async def follow(self, moods: AsyncIterable[dict[str, Any]]) -> None:
        """Mirror every mood snapshot's ``expression`` (e.g. ``bus.subscribe("mood")``) until it ends."""
        async for mood in moods:
            label = mood.get("expression") if isinstance(mood, dict) else None
            if label:
                try:
                    await self.show_expression(label)
                except VTSError as exc:
                    log.warning("VTube Studio: %s", exc)
