"""A local OpenAI-compatible chat-completions server (aiohttp, loopback) for the reply-loop tests.

Each request takes the next scripted behaviour from ``script`` (default: stream ``reply``):
``("stream", text)`` streams ``text`` as SSE deltas (``{mem}`` is replaced by the first memory id
offered in the prompt), ``("slow", seconds)`` sends nothing for that long, ``("429", None)``
answers 429 with ``Retry-After: 0``. Every request body is kept in ``requests``.
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web


class FakeLLM:
    def __init__(self, reply: str = "Hi there!") -> None:
        self.reply = reply
        self.script: list[tuple[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None  # when set, a stream waits for it before its last token
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> "FakeLLM":
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        kind, arg = self.script.pop(0) if self.script else ("stream", self.reply)
        if kind == "429":
            return web.json_response({"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "0"})
        if kind == "slow":
            await asyncio.sleep(arg)
            return web.json_response({"choices": [{"message": {"content": "too late"}}]})
        user = " ".join(m.get("content", "") for m in body.get("messages", []))
        mem = re.search(r'<memory id="([^"]+)"', user)
        text = arg.replace("{mem}", mem.group(1) if mem else "none")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        words = text.split(" ")
        for i, w in enumerate(words):
            if i == len(words) - 1 and self.gate is not None:
                await self.gate.wait()
            chunk = {"choices": [{"delta": {"content": w + ("" if i == len(words) - 1 else " ")}}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        return resp
