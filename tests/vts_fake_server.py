"""A local fake VTube Studio plugin API, built from the documented message formats, for tests."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

HOTKEYS = [
    {"name": "Joy", "type": "ToggleExpression", "description": "", "file": "joy.exp3.json",
     "hotkeyID": "hk-joy", "keyCombination": [], "onScreenButtonID": -1},
    {"name": "Angry face", "type": "ToggleExpression", "description": "", "file": "anger.exp3.json",
     "hotkeyID": "hk-anger", "keyCombination": [], "onScreenButtonID": -1},
    {"name": "Wave", "type": "TriggerAnimation", "description": "", "file": "wave.motion3.json",
     "hotkeyID": "hk-wave", "keyCombination": [], "onScreenButtonID": -1},
]


class FakeVTS:
    """Records every request; ``start()`` binds 127.0.0.1 on an ephemeral port."""

    def __init__(self, grant: bool = True, port: int = 0) -> None:
        self.grant = grant
        self.tokens: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.triggered: list[str] = []
        self.server: Server | None = None
        self.port = port
        self.injected: list[dict[str, float]] = []

    async def start(self) -> "FakeVTS":
        """Bind (again, on the same port after :meth:`stop` when one was bound)."""
        self.server = await serve(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _reply(self, req: dict, message_type: str, data: dict) -> str:
        return json.dumps({"apiName": "VTubeStudioPublicAPI", "apiVersion": "1.0",
                           "timestamp": int(time.time() * 1000), "messageType": message_type,
                           "requestID": req.get("requestID") or uuid.uuid4().hex, "data": data})

    def _error(self, req: dict, error_id: int, message: str) -> str:
        return self._reply(req, "APIError", {"errorID": error_id, "message": message})

    async def _handle(self, ws: ServerConnection) -> None:
        authed = False
        async for raw in ws:
            req = json.loads(raw)
            self.requests.append(req)
            if req.get("apiName") != "VTubeStudioPublicAPI" or req.get("apiVersion") != "1.0":
                await ws.send(self._error(req, 2, "API name or version wrong"))
                continue
            kind, data = req.get("messageType"), req.get("data") or {}
            if kind == "APIStateRequest":
                await ws.send(self._reply(req, "APIStateResponse", {"active": True, "vTubeStudioVersion": "1.28.0",
                                                                    "currentSessionAuthenticated": authed}))
            elif kind == "AuthenticationTokenRequest":
                if not (3 <= len(data.get("pluginName", "")) <= 32 and 3 <= len(data.get("pluginDeveloper", "")) <= 32):
                    await ws.send(self._error(req, 51, "plugin name/developer must be 3-32 characters"))
                elif not self.grant:
                    await ws.send(self._error(req, 50, "User has denied API access for your plugin."))
                else:
                    token = uuid.uuid4().hex
                    self.tokens.add(token)
                    await ws.send(self._reply(req, "AuthenticationTokenResponse", {"authenticationToken": token}))
            elif kind == "AuthenticationRequest":
                authed = data.get("authenticationToken") in self.tokens
                await ws.send(self._reply(req, "AuthenticationResponse", {
                    "authenticated": authed, "reason": "Token valid." if authed else "Token invalid."}))
            elif not authed:
                await ws.send(self._error(req, 8, "Request requires authentication."))
            elif kind == "HotkeysInCurrentModelRequest":
                await ws.send(self._reply(req, "HotkeysInCurrentModelResponse", {
                    "modelLoaded": True, "modelName": "Aiko", "modelID": "model-1", "availableHotkeys": HOTKEYS}))
            elif kind == "HotkeyTriggerRequest":
                hid = data.get("hotkeyID")
                if hid not in {h["hotkeyID"] for h in HOTKEYS}:
                    await ws.send(self._error(req, 104, f"hotkey {hid} not found"))
                else:
                    self.triggered.append(hid)
                    await ws.send(self._reply(req, "HotkeyTriggerResponse", {"hotkeyID": hid}))
            elif kind == "InjectParameterDataRequest":
                values = data.get("parameterValues")
                if not isinstance(values, list) or not all(isinstance(v, dict) and "id" in v and "value" in v
                                                           for v in values):
                    await ws.send(self._error(req, 450, "parameterValues must be a list of {id, value}"))
                else:
                    self.injected.append({v["id"]: float(v["value"]) for v in values})
                    await ws.send(self._reply(req, "InjectParameterDataResponse", {}))
            else:
                await ws.send(self._error(req, 3, f"unknown messageType {kind}"))
