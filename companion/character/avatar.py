"""The live engine drives a VTube Studio avatar (``--vts ws://127.0.0.1:8001``).

Every mood snapshot the character engine publishes (bus topic ``mood``) carries the shown
expression. The driver maps it, from the ``vts`` section of ``character.json``, to

* a hotkey (``hotkeys``: expression -> hotkey name; else the first hotkey whose name or file
  contains the expression, see :class:`VTubeStudioClient`), and/or
* injected parameter values (``parameters``: expression -> {parameter id: value}), re-sent every
  ``inject_every_s`` because VTube Studio lets an injected value go after about a second.

The plugin's auth token is persisted in ``<data-dir>/character/vts_token.json`` (VTube Studio
asks the user once). A dropped connection is retried with exponential backoff (``retry_s`` up to
``retry_max_s``); on reconnect the cached token is used and the current expression re-shown.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from companion.character.vtube_studio import VTSError, VTubeStudioClient

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AvatarConfig:
    """The ``vts`` section of ``character.json``."""

    hotkeys: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, dict[str, float]] = field(default_factory=dict)
    plugin_name: str = "Companion Character"
    plugin_developer: str = "companion"
    inject_every_s: float = 0.5
    retry_s: float = 1.0
    retry_max_s: float = 30.0


class AvatarDriver:
    """Mirrors the companion's expression onto VTube Studio until :meth:`stop`."""

    def __init__(self, url: str, bus: Any, token_path: Path, config: AvatarConfig | None = None) -> None:
        self.url = url
        self.bus = bus
        self.token_path = Path(token_path)
        self.config = config or AvatarConfig()
        self.expression: str | None = None
        self.connected = asyncio.Event()
        self.stats = {"connects": 0, "disconnects": 0, "hotkeys": 0, "injections": 0, "errors": 0}
        self._task: asyncio.Task | None = None
        self._changed = asyncio.Event()

    @classmethod
    def from_engine(cls, engine: Any, url: str) -> "AvatarDriver":
        """The driver for a running :class:`companion.engine.Engine` (its bus and character config)."""
        character = engine.character
        raw = dict(getattr(character.config, "vts", {}) or {})
        return cls(url, engine.bus, Path(character.data_dir) / "vts_token.json", AvatarConfig(**raw))

    async def start(self) -> None:
        """Follow the mood in the background (connecting and reconnecting on its own)."""
        self._task = asyncio.create_task(self._run(), name="vts-avatar")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        moods = self.bus.subscribe("mood", maxsize=16)
        watcher = asyncio.create_task(self._watch(moods))
        delay = self.config.retry_s
        try:
            while True:
                try:
                    await self._session()
                    delay = self.config.retry_s
                except (OSError, VTSError, asyncio.TimeoutError, RuntimeError) as exc:
                    self.stats["errors"] += 1
                    log.warning("VTube Studio at %s: %s; retrying in %.1f s", self.url, exc, delay)
                except Exception as exc:  # noqa: BLE001 - websockets' ConnectionClosed and friends
                    self.stats["errors"] += 1
                    log.warning("VTube Studio connection lost (%s); retrying in %.1f s", type(exc).__name__, delay)
                self.connected.clear()
                await asyncio.sleep(delay)
                delay = min(self.config.retry_max_s, delay * 2)
        finally:
            watcher.cancel()
            moods.close()

    async def _watch(self, moods: Any) -> None:
        async for mood in moods:
            label = mood.get("expression") if isinstance(mood, dict) else None
            if label and label != self.expression:
                self.expression = label
                self._changed.set()

    async def _session(self) -> None:
        cfg = self.config
        client = VTubeStudioClient(self.url, plugin_name=cfg.plugin_name, plugin_developer=cfg.plugin_developer,
                                   token_path=self.token_path, expression_hotkeys=cfg.hotkeys)
        await client.connect()
        try:
            if not await client.authenticate():
                raise VTSError(None, "authentication refused")
            self.stats["connects"] += 1
            self.connected.set()
            shown: str | None = None
            while True:
                if self.expression is not None and self.expression != shown:
                    shown = self.expression
                    if cfg.hotkeys or not cfg.parameters:
                        if await client.show_expression(shown) is not None:
                            self.stats["hotkeys"] += 1
                values = cfg.parameters.get(shown or "", {})
                if values:
                    await client.request("InjectParameterDataRequest", {
                        "faceFound": False, "mode": "set",
                        "parameterValues": [{"id": k, "value": float(v)} for k, v in values.items()]})
                    self.stats["injections"] += 1
                self._changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), cfg.inject_every_s)
        finally:
            self.stats["disconnects"] += 1
            await client.close()
