"""The MCP server end to end with the SDK's own clients: stdio subprocess and in-process."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from companion.character import CharacterEngine
from companion.character.mcp_server import build_server
from tests.character_fakes import FakeMemory, Profile, event

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"get_emotional_state", "update_emotion", "recall_viewer", "search_memories", "get_recommendations"}


def is_error(result) -> bool:
    # mcp 2.x names it is_error, 1.x isError
    return bool(getattr(result, "is_error", getattr(result, "isError", False)))


def payload(result) -> dict:
    assert not is_error(result), result
    sc = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    if sc:
        return sc["result"] if set(sc) == {"result"} else sc
    return json.loads(result.content[0].text)


async def test_stdio_server_end_to_end(tmp_path):
    # a previous run left mood, a viewer and a recommendation in the data dir
    ch = CharacterEngine(tmp_path / "character")
    ch.process_batch([event("Aiko what is your favourite song?", user="alice")])
    ch.update_emotion("joy", 0.8)
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "companion.character.mcp_server", "--offline", "--data-dir", str(tmp_path)],
                                   cwd=str(ROOT), env={"HF_HUB_OFFLINE": "1"})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            assert TOOLS <= {t.name for t in tools.tools}

            state = payload(await session.call_tool("get_emotional_state", {}))
            assert state["neurochemicals"]["dopamine"] > ch.config.neurochem.baseline["dopamine"]
            assert state["conditioning"].startswith("<DA=")

            new = payload(await session.call_tool("update_emotion", {"cortisol": 0.9, "mode": "set"}))
            assert new["neurochemicals"]["cortisol"] == pytest.approx(0.9, abs=1e-3)
            bad = await session.call_tool("update_emotion", {"emotion": "bogus"})
            assert is_error(bad)

            recs = payload(await session.call_tool("get_recommendations", {"limit": 3}))
            assert recs["best"]["picks"][0]["user"] == "alice"
            assert recs["best"]["prompt"]["messages"][0]["role"] == "system"

            viewer = payload(await session.call_tool("recall_viewer", {"viewer_id": "twitch:alice"}))
            assert viewer["known"] and viewer["seen"]["count"] == 1
            unknown = payload(await session.call_tool("recall_viewer", {"viewer_id": "twitch:nobody"}))
            assert not unknown["known"]

            mem = payload(await session.call_tool("search_memories", {"query": "song"}))
            assert mem["available"] is False
    # update_emotion persisted through the MCP server
    again = CharacterEngine(tmp_path / "character")
    assert again.mood_state()["neurochemicals"]["cortisol"] > 0.5


async def test_in_process_memory_tools(tmp_path):
    from mcp import Client

    mem = FakeMemory()
    mem.add("twitch:bob", "my dog is called Biscuit")
    mem.add("twitch:bob", "I live in Lisbon")
    mem.add("twitch:eve", "my dog is called Rex")
    mem.profiles["twitch:bob"] = Profile(message_count=42, relationship="regular")
    ch = CharacterEngine(tmp_path, memory=mem)
    ch.process_batch([event("hi Aiko", user="bob")])
    async with Client(build_server(ch)) as client:
        found = payload(await client.call_tool("search_memories", {"query": "dog called", "viewer_id": "twitch:bob"}))
        assert [r["text"] for r in found["results"]] == ["my dog is called Biscuit"]
        assert found["results"][0]["score"] > 0
        viewer = payload(await client.call_tool("recall_viewer", {"viewer_id": "twitch:bob", "query": "where do I live"}))
        assert viewer["profile"]["relationship"] == "regular"
        assert viewer["memories"][0]["text"] == "I live in Lisbon"
