"""A streaming client for any OpenAI-compatible chat-completions endpoint (llama.cpp server,
Ollama, vLLM, LM Studio, OpenAI).

``--llm openai:URL[,model=NAME][,timeout=S][,retries=N]``: ``URL`` is the API base (for example
``http://127.0.0.1:11434/v1`` for Ollama, ``http://127.0.0.1:8080/v1`` for llama.cpp) or the
full ``.../chat/completions`` address. ``OPENAI_API_KEY``, when set, is sent as a bearer token.

The client owns one :class:`aiohttp.ClientSession` (opened lazily, closed by :meth:`close`),
streams with ``"stream": true`` and parses the server-sent events as they arrive. Every call
has explicit timeouts (connect, between chunks, total); a 429 or 5xx answer is retried up to
``retries`` times, waiting ``Retry-After`` when the server gives one (capped) else an
exponential backoff; other 4xx answers fail at once. Nothing is retried once tokens have
started to arrive, so a reply is never stitched from two generations.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from typing import Any, AsyncIterator

import aiohttp

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 30.0


class LLMError(RuntimeError):
    """The endpoint did not produce a reply (after the allowed retries)."""


@dataclass(slots=True)
class LLMSpec:
    """Where and how to call the model."""

    url: str
    model: str = "default"
    api_key: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0  # longest silence between two streamed chunks
    total_timeout_s: float = 60.0
    retries: int = 2
    backoff_s: float = 0.5

    @property
    def endpoint(self) -> str:
        u = self.url.rstrip("/")
        return u if u.endswith("/chat/completions") else f"{u}/chat/completions"

    @classmethod
    def parse(cls, spec: str) -> "LLMSpec":
        """``openai:URL[,model=...][,timeout=S][,retries=N]`` (see the module docstring)."""
        kind, sep, rest = spec.partition(":")
        if kind != "openai" or not sep or not rest:
            raise ValueError("--llm must look like openai:URL[,model=NAME]")
        url, *opts = rest.split(",")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--llm URL must be http(s): {url!r}")
        out = cls(url=url, api_key=os.environ.get("OPENAI_API_KEY") or None)
        for opt in opts:
            key, _, value = opt.partition("=")
            key = key.strip()
            try:
                if key == "model" and value:
                    out.model = value
                elif key == "timeout":
                    out.total_timeout_s = float(value)
                elif key == "retries":
                    out.retries = max(0, int(value))
                else:
                    raise ValueError
            except ValueError:
                raise ValueError(f"bad --llm option {opt!r} (model=NAME, timeout=S, retries=N)") from None
        return out


class OpenAIChatClient:
    """``async for token in client.stream(messages, temperature=...)``; ``await client.close()``."""

    def __init__(self, spec: LLMSpec) -> None:
        self.spec = spec
        self._session: aiohttp.ClientSession | None = None
        self.stats = {"requests": 0, "retries": 0, "rate_limited": 0, "timeouts": 0, "errors": 0}

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.spec.api_key:
            h["Authorization"] = f"Bearer {self.spec.api_key}"
        return h

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            s = self.spec
            timeout = aiohttp.ClientTimeout(total=s.total_timeout_s, sock_connect=s.connect_timeout_s,
                                            sock_read=s.read_timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def stream(self, messages: list[dict[str, str]], **sampling: Any) -> AsyncIterator[str]:
        """Yield the reply's text as it streams in. Raises :class:`LLMError` when no reply came."""
        body = {"model": self.spec.model, "messages": messages, "stream": True,
                **{k: v for k, v in sampling.items() if v is not None}}
        attempt = 0
        while True:
            self.stats["requests"] += 1
            started = False
            try:
                async with self._session_now().post(self.spec.endpoint, data=json.dumps(body),
                                                    headers=self._headers()) as resp:
                    if resp.status == 429 or resp.status >= 500:
                        self.stats["rate_limited" if resp.status == 429 else "errors"] += 1
                        wait = _retry_after(resp.headers.get("Retry-After"))
                        raise _Retryable(f"HTTP {resp.status}", wait)
                    if resp.status != 200:
                        self.stats["errors"] += 1
                        raise LLMError(f"HTTP {resp.status}: {(await resp.text())[:200]}")
                    async for token in _sse_tokens(resp):
                        started = True
                        yield token
                    return
            except _Retryable as exc:
                if attempt >= self.spec.retries:
                    raise LLMError(f"{exc} after {attempt + 1} attempt(s)") from None
                attempt += 1
                self.stats["retries"] += 1
                await asyncio.sleep(exc.wait if exc.wait is not None else self.spec.backoff_s * 2 ** (attempt - 1))
            except asyncio.TimeoutError:
                self.stats["timeouts"] += 1
                if started or attempt >= self.spec.retries:
                    raise LLMError("the model timed out") from None
                attempt += 1
                self.stats["retries"] += 1
            except aiohttp.ClientError as exc:
                self.stats["errors"] += 1
                if started or attempt >= self.spec.retries:
                    raise LLMError(f"connection failed: {exc}") from None
                attempt += 1
                self.stats["retries"] += 1
                await asyncio.sleep(self.spec.backoff_s * 2 ** (attempt - 1))

    async def complete(self, messages: list[dict[str, str]], **sampling: Any) -> str:
        """The whole reply (the stream joined)."""
        return "".join([t async for t in self.stream(messages, **sampling)])


class _Retryable(Exception):
    def __init__(self, msg: str, wait: float | None) -> None:
        super().__init__(msg)
        self.wait = wait


def _retry_after(value: str | None) -> float | None:
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None


async def _sse_tokens(resp: aiohttp.ClientResponse) -> AsyncIterator[str]:
    """The ``choices[0].delta.content`` of each ``data:`` event until ``[DONE]``. A server that
    ignores ``stream`` and answers one JSON object is accepted too."""
    if "text/event-stream" not in resp.headers.get("Content-Type", ""):
        data = await resp.json(content_type=None)
        text = (((data or {}).get("choices") or [{}])[0].get("message") or {}).get("content") or ""
        if text:
            yield text
        return
    async for raw in resp.content:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            log.debug("skipping a malformed SSE event")
            continue
        choice = (event.get("choices") or [{}])[0]
        token = (choice.get("delta") or {}).get("content")
        if token:
            yield token
