"""MCP on the live engine: streamable HTTP at /mcp on the real engine, driven by the MCP SDK's
own clients (HTTP directly, and stdio through the thin proxy), behind the dashboard's token and
Origin rules."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.character_stack import post_messages, running_engine, until
from tests.test_character_mcp import TOOLS, is_error, payload

ROOT = Path(__file__).resolve().parents[1]
CH = "#aiko_live"
TOKEN = "s3cret-token-for-tests"


async def test_mcp_http_acts_on_the_live_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_API_TOKEN", TOKEN)
    async with running_engine(tmp_path, analytics=False, api_token=TOKEN) as (engine, url):
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            await post_messages(http, url, [{"platform": "twitch", "channel": CH, "user": "alice_w",
                                             "text": "Aiko my cat is called Miso and she loves boxes",
                                             "id": "a1", "ts": time.time()}])
        await until(lambda: engine.character.next_recommendation() is not None, what="a recommendation")
        await until(lambda: engine.memory.stats().get("memories", 1) >= 1, what="the memory stored")

        # the same token rules as the rest of the API: none -> 401; a foreign Origin -> 403
        async with aiohttp.ClientSession() as anon:
            init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
            hdrs = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
            async with anon.post(f"{url}/mcp", data=json.dumps(init), headers=hdrs) as r:
                assert r.status == 401
            async with anon.post(f"{url}/mcp", data=json.dumps(init),
                                 headers={**hdrs, "Authorization": f"Bearer {TOKEN}",
                                          "Origin": "https://evil.example"}) as r:
                assert r.status == 403

        async with create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as client, \
                streamable_http_client(f"{url}/mcp", http_client=client) as streams, \
                ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            assert TOOLS <= {t.name for t in (await session.list_tools()).tools}
            new = payload(await session.call_tool("update_emotion", {"cortisol": 0.9, "mode": "set"}))
            assert new["neurochemicals"]["cortisol"] == pytest.approx(0.9, abs=1e-3)
            # the running engine itself moved, not a copy
            assert engine.character.mood_state()["neurochemicals"]["cortisol"] == pytest.approx(0.9, abs=0.03)  # it relaxes in real time
            assert is_error(await session.call_tool("update_emotion", {"emotion": "bogus"}))
            recs = payload(await session.call_tool("get_recommendations", {"limit": 3}))
            assert recs["best"]["picks"][0]["message_id"] == "a1"
            found = payload(await session.call_tool("search_memories", {"query": "Miso the cat", "k": 3}))
            assert found["available"] and any("Miso" in h["text"] for h in found["results"])
            viewer = payload(await session.call_tool("recall_viewer", {"viewer_id": "twitch:alice_w"}))
            assert viewer["known"] is True

            # the stdio server is a thin client of the same endpoint
            params = StdioServerParameters(command=sys.executable,
                                           args=["-m", "companion.character.mcp_server", "--url", f"{url}/mcp"],
                                           cwd=str(ROOT), env={**os.environ, "COMPANION_API_TOKEN": TOKEN})
            async with stdio_client(params) as (read, write), ClientSession(read, write) as proxied:
                await proxied.initialize()
                assert TOOLS <= {t.name for t in (await proxied.list_tools()).tools}
                out = payload(await proxied.call_tool("update_emotion", {"dopamine": 0.2, "mode": "set"}))
                assert out["neurochemicals"]["dopamine"] == pytest.approx(0.2, abs=1e-3)
            assert engine.character.mood_state()["neurochemicals"]["dopamine"] == pytest.approx(0.2, abs=0.05)
