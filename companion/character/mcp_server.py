"""MCP tools for the companion's mood, memories and recommendations.

Tools: ``get_emotional_state``, ``update_emotion``, ``recall_viewer``, ``search_memories``,
``get_recommendations``. :func:`build_server` binds them to a :class:`CharacterEngine`; the
running engine serves them over streamable HTTP at ``/mcp`` (:mod:`dashboards.mcp_http`), on its
live state.

This module's command line is the stdio server MCP clients launch, a thin client of that
endpoint: every ``tools/list`` and ``tools/call`` is forwarded to the running engine::

    python -m companion.character.mcp_server --url http://127.0.0.1:8765/mcp

(``COMPANION_API_TOKEN``, when set, is sent as the bearer token.) With ``--offline --data-dir
DIR`` it instead opens the persisted state of an engine that is *not* running (``update_emotion``
then writes ``<dir>/character/character_state.json``, which a running engine would overwrite).
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any

from companion.character.engine import CharacterEngine
from companion.character.recommender import recall

log = logging.getLogger(__name__)

try:  # mcp >= 2
    from mcp.server.mcpserver import MCPServer as _Server
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as _Server  # type: ignore[no-redef]
    from mcp.server.fastmcp.exceptions import ToolError  # type: ignore[no-redef]


def _to_plain(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {str(k): _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return _to_plain(to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _to_plain(dataclasses.asdict(obj))
    if hasattr(obj, "__dict__"):
        return _to_plain(vars(obj))
    return str(obj)


def build_server(engine: CharacterEngine) -> Any:
    """An MCP server whose tools read and move ``engine``."""
    server = _Server(name="companion-character",
                     instructions=f"Mood, memories and response recommendations of {engine.config.name}.")

    @server.tool()
    def get_emotional_state() -> dict[str, Any]:
        """The companion's current mood: neurochemicals (dopamine, serotonin, cortisol, oxytocin in
        0..1), PAD, facial expression, LLM sampling parameters and conditioning tokens."""
        return engine.mood_state()

    @server.tool()
    def update_emotion(emotion: str | None = None, intensity: float = 0.5, dopamine: float | None = None,
                       serotonin: float | None = None, cortisol: float | None = None,
                       oxytocin: float | None = None, mode: str = "delta") -> dict[str, Any]:
        """Move the companion's mood. ``emotion`` (joy, excitement, gratitude, love, sadness, anger,
        stress, ...) applies a stimulus of ``intensity`` 0..1; chemical values are added
        (mode="delta") or set (mode="set"). Returns the new state; it is persisted."""
        try:
            return engine.update_emotion(emotion, intensity, dopamine=dopamine, serotonin=serotonin,
                                         cortisol=cortisol, oxytocin=oxytocin, mode=mode)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def recall_viewer(viewer_id: str, query: str = "", k: int = 5) -> dict[str, Any]:
        """What the companion knows about a viewer (id like "twitch:alice"): when first/last seen,
        message count, the memory-store profile, and memories (about ``query`` if given)."""
        seen = engine.viewer_seen(viewer_id)
        profile = None
        if engine.memory is not None and hasattr(engine.memory, "viewer_profile"):
            try:
                profile = engine.memory.viewer_profile(viewer_id)
            except Exception as exc:  # noqa: BLE001
                log.debug("viewer_profile failed: %s", exc)
        q = query or (seen.user if seen else viewer_id.split(":", 1)[-1])
        memories = recall(engine.memory, q, viewer_id, max(1, min(int(k), 50)))
        return {
            "viewer_id": viewer_id,
            "known": seen is not None or profile is not None,
            "seen": _to_plain(seen) if seen else None,
            "profile": _to_plain(profile),
            "memories": [_to_plain(m) for m in memories],
        }

    @server.tool()
    def search_memories(query: str, viewer_id: str | None = None, k: int = 5) -> dict[str, Any]:
        """Ranked memory search, optionally for one viewer; each result has its score and parts."""
        if engine.memory is None:
            return {"available": False, "results": [], "reason": "no memory store is open"}
        try:
            hits = engine.memory.search(query, viewer=viewer_id, k=max(1, min(int(k), 50)), reinforce=False)
        except Exception as exc:  # noqa: BLE001
            return {"available": True, "results": [], "error": str(exc)}
        return {"available": True, "results": [_to_plain(h) for h in hits or []]}

    @server.tool()
    def get_recommendations(limit: int = 5) -> dict[str, Any]:
        """The newest response recommendations (newest first): picks with reasons, tone, memories,
        moderation suggestions and the ready prompt context."""
        recs = engine.recent_recommendations(max(1, min(int(limit), 50)))
        best = engine.next_recommendation()
        return {"best": best.to_dict() if best else None, "recommendations": [r.to_dict() for r in recs]}

    return server


def open_memory(data_dir: Path) -> Any:
    """The persisted memory store under ``<data_dir>/memory``, or None when unavailable."""
    path = data_dir / "memory"
    if not path.exists():
        return None
    try:
        from memory_store import MemoryStore
    except ImportError:
        return None
    embed = None
    try:  # the memory store needs the analyser's embedder for text queries
        from companion import Analyzer

        embed = getattr(Analyzer.load(), "embed", None)
    except Exception as exc:  # noqa: BLE001 - memory tools degrade, the rest still works
        log.warning("no embedder for memory search: %s", exc)
    try:
        return MemoryStore(path, embed=embed)
    except TypeError:
        return MemoryStore(path)
    except Exception as exc:  # noqa: BLE001
        log.warning("cannot open memory store at %s: %s", path, exc)
        return None


async def proxy_stdio(url: str, token: str | None = None) -> None:
    """Serve MCP on stdio, forwarding every tool listing and call to the engine at ``url``."""
    import anyio  # noqa: F401 - the SDK's runtime; imported here so --offline needs nothing else
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as http, \
            streamable_http_client(url, http_client=http) as streams, \
            ClientSession(streams[0], streams[1]) as remote:
        await remote.initialize()

        async def list_tools(ctx: Any, params: Any) -> Any:
            return await remote.list_tools()

        async def call_tool(ctx: Any, params: Any) -> Any:
            return await remote.call_tool(params.name, dict(params.arguments or {}))

        server = Server("companion-character", instructions=f"Proxy of the running engine at {url}.",
                        on_list_tools=list_tools, on_call_tool=call_tool)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8765/mcp", help="the running engine's /mcp endpoint")
    ap.add_argument("--offline", action="store_true",
                    help="no running engine: serve the persisted state of --data-dir instead")
    ap.add_argument("--data-dir", type=Path, default=Path("./companion-data"))
    ap.add_argument("--no-memory", action="store_true", help="(--offline) do not open the memory store")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout carries the protocol
    if not args.offline:
        import anyio

        anyio.run(proxy_stdio, args.url, os.environ.get("COMPANION_API_TOKEN") or None)
        return 0
    memory = None if args.no_memory else open_memory(args.data_dir)
    engine = CharacterEngine(args.data_dir / "character", memory=memory)
    build_server(engine).run("stdio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
