"""What the running engine drives besides the pipeline: the LLM reply loop (``--llm``) and the
VTube Studio avatar (``--vts``). Built and started by :meth:`companion.engine.Engine.run`."""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class CharacterAttachments:
    """Starts and stops the optional reply loop and avatar driver for one engine."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.reply_loop: Any = None
        self.avatar: Any = None

    async def start(self) -> None:
        """Build what the engine's config asks for (nothing without a character engine)."""
        cfg, character = self.engine.config, getattr(self.engine, "character", None)
        if character is None:
            return
        llm = getattr(cfg, "llm", None)
        if llm:
            from companion.character.llm_client import LLMSpec, OpenAIChatClient
            from companion.character.reply_loop import ReplyConfig, ReplyLoop

            spec = LLMSpec.parse(llm)
            rc = ReplyConfig(**getattr(character.config, "reply", {}) or {})
            self.reply_loop = ReplyLoop(self.engine, character, OpenAIChatClient(spec), rc)
            self.reply_loop.start()
            log.info("reply loop on %s (model %s)", spec.endpoint, spec.model)
        vts = getattr(cfg, "vts", None)
        if vts:
            from companion.character.avatar import AvatarDriver

            self.avatar = AvatarDriver.from_engine(self.engine, vts)
            await self.avatar.start()

    async def stop(self) -> None:
        """Stop both (safe to call when nothing started)."""
        for part in (self.reply_loop, self.avatar):
            if part is not None:
                try:
                    await part.stop()
                except Exception:  # noqa: BLE001 - shutdown must reach every part
                    log.exception("failed to stop %s", type(part).__name__)
        self.reply_loop = self.avatar = None
