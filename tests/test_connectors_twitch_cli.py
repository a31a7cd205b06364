"""End to end: ``run_companion.py --source twitch:chan`` against the local fake Twitch server.

Runs the real CLI in a subprocess (lexicon-only, so no model load) with ``TWITCH_IRC_URL`` pointing
at :class:`FakeTwitchServer`, and checks the records, PONG, reconnect + rejoin, junk counting,
events, and that CLEARMSG makes the engine forget the message.
"""
import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

try:
    from tests.twitch_fake_server import FakeTwitchServer, clearmsg, privmsg, usernotice
except ImportError:  # tests/ on sys.path directly
    from twitch_fake_server import FakeTwitchServer, clearmsg, privmsg, usernotice

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(240)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def wait_until(cond, timeout: float) -> None:
    async def _poll() -> None:
        while not cond():
            await asyncio.sleep(0.1)

    await asyncio.wait_for(_poll(), timeout)


async def test_cli_twitch_end_to_end(tmp_path):
    server = await FakeTwitchServer().start()
    out = tmp_path / "records.jsonl"
    err_path = tmp_path / "stderr.log"
    port = free_port()
    env = {**os.environ, "TWITCH_IRC_URL": server.url, "HF_HUB_OFFLINE": "1"}
    env.pop("TWITCH_OAUTH_TOKEN", None)
    with err_path.open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run_companion.py"), "--source", "twitch:chan", "--out", str(out),
            "--data-dir", str(tmp_path / "data"), "--lexicon-only", "--port", str(port),
            cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=err,
        )
    try:
        await server.wait_joined("chan", timeout=180)
        await server.send_frame([
            privmsg("chan", "alice", "I love this stream, my cat is called Mochi", msg_id="m-1", user_id="11",
                    badges="subscriber/3", emotes=""),
            "PING :tmi.twitch.tv",
            "%%% junk line",
            usernotice("chan", "sub", "carol", "carol subscribed at Tier 1.", notice_id="n-sub"),
            usernotice("chan", "raid", "dave", "5 raiders from dave have joined!", notice_id="n-raid"),
            privmsg("chan", "bob", "hello Kappa", msg_id="m-2", emotes="25:6-10"),
        ])
        await server.wait_for_line("PONG :tmi.twitch.tv", timeout=30)
        await wait_until(lambda: len(read_records(out)) >= 4, 120)

        await server.send_line(":tmi.twitch.tv RECONNECT")
        await server.wait_joined("chan", count=2, timeout=60)
        await server.send_line(privmsg("chan", "erin", "back after reconnect", msg_id="m-3"))
        await server.drop()
        await server.wait_joined("chan", count=3, timeout=60)
        await server.send_line(privmsg("chan", "fay", "back after a dropped socket", msg_id="m-4"))
        await wait_until(lambda: len(read_records(out)) >= 6, 120)

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/api/state") as resp:
                state = await resp.json()
        twitch_stats = state["sources"]["twitch"]
        assert twitch_stats["malformed"] == 1 and twitch_stats["reconnects"] == 2

        records = {r["id"]: r for r in read_records(out)}
        assert set(records) == {"m-1", "m-2", "n-sub", "n-raid", "m-3", "m-4"}
        assert records["m-1"]["platform"] == "twitch" and records["m-1"]["channel"] == "chan"
        assert records["m-1"]["user"] == "alice"
        assert records["m-2"]["text"] == "hello Kappa"

        stored = records["m-1"].get("memory", {}).get("stored")
        await server.send_line(clearmsg("chan", "alice", "m-1", "I love this stream"))
        await wait_until(lambda: "CLEARMSG m-1" in err_path.read_text(), 30)
        if stored:
            assert "CLEARMSG m-1: forgot True" in err_path.read_text()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except asyncio.TimeoutError:
                proc.kill()
        await server.stop()
    assert proc.returncode == 0, err_path.read_text()[-3000:]
