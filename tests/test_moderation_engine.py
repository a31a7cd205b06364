"""``--moderate`` acting end to end on the real engine: the CLI in a subprocess reads Twitch chat
from the fake IRC server, decides, and deletes + times out through the fake Helix; a human
moderator's CLEARMSG becomes a labelled example; without ``--moderate`` nothing is sent."""
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.helix_fake_server import FakeHelix
from tests.test_connectors_twitch_cli import free_port, read_records, wait_until
from tests.twitch_fake_server import FakeTwitchServer, clearmsg, privmsg

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(300)


async def run_cli(tmp_path, helix, irc, *extra):
    out = tmp_path / "records.jsonl"
    err_path = tmp_path / "stderr.log"
    port = free_port()
    env = {**os.environ, **helix.env(), "TWITCH_IRC_URL": irc.url, "TWITCH_NICK": "aiko_bot", "HF_HUB_OFFLINE": "1"}
    with err_path.open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run_companion.py"), "--source", "twitch:chan", "--out", str(out),
            "--data-dir", str(tmp_path / "data"), "--lexicon-only", "--port", str(port), *extra,
            cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=err)
    return proc, out, err_path, port


async def stop(proc, err_path):
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except asyncio.TimeoutError:
            proc.kill()
    assert proc.returncode == 0, err_path.read_text()[-3000:]


@pytest.fixture
async def servers():
    helix = await FakeHelix(users={"chan": "1001"}).start()
    irc = await FakeTwitchServer(expected_token="oauth:tok-abc").start()
    yield helix, irc
    await irc.stop()
    await helix.stop()


async def test_moderate_deletes_and_times_out_through_helix(tmp_path, servers):
    helix, irc = servers
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"levels": {"insult": 3}, "timeout_s": [120, 600]}))
    proc, out, err_path, port = await run_cli(tmp_path, helix, irc, "--moderate", "--moderation", str(policy))
    try:
        await irc.wait_joined("chan", timeout=180)
        assert helix.validations == 1  # the token and its scopes were checked before reading chat
        await irc.send_frame([
            privmsg("chan", "alice", "what a great run, gl on the boss", msg_id="m-ok", user_id="11"),
            privmsg("chan", "troll", "you are a worthless idiot", msg_id="m-tox", user_id="2002"),
            privmsg("chan", "bob", "this boss is so annoying lol", msg_id="m-ok2", user_id="12"),
        ])
        await wait_until(lambda: helix.deleted and helix.timeouts, 120)
        assert helix.deleted == [("1001", "m-tox")]
        (timeout,) = helix.timeouts
        assert timeout["user_id"] == "2002" and timeout["duration"] == 120 and "insult" in timeout["reason"]
        await wait_until(lambda: len(read_records(out)) >= 3, 60)

        # Our own delete echoing back is not a label; a human moderator's deletion is.
        await irc.send_frame([clearmsg("chan", "troll", "m-tox", "you are a worthless idiot"),
                              clearmsg("chan", "bob", "m-ok2", "this boss is so annoying lol")])
        await wait_until(lambda: "CLEARMSG m-ok2" in err_path.read_text(), 30)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/api/state") as resp:
                mod = (await resp.json())["moderation"]
        assert mod["moderate"] and mod["backends"] == ["twitch"]
        assert mod["stats"]["executed"] == 2 and mod["stats"]["auth_errors"] == 0
        assert mod["calibration"]["chan"]["sources"] == {"clearmsg": 1}
    finally:
        await stop(proc, err_path)
    audit = [json.loads(x) for x in (tmp_path / "data" / "moderation" / "audit.jsonl").read_text().splitlines()]
    executed = [(a["action"], a["message_id"]) for a in audit if a["event"] == "executed"]
    assert sorted(executed) == [("delete", "m-tox"), ("timeout", "m-tox")]
    decision = next(a for a in audit if a["event"] == "decision")["decision"]
    assert decision["category"] == "insult" and decision["level"] == 3 and decision["threshold"] == 0.9


@pytest.mark.slow  # the same guarantee is covered in-process by test_moderation_queue and the character tests
async def test_without_moderate_nothing_is_sent(tmp_path, servers):
    helix, irc = servers
    proc, out, err_path, port = await run_cli(tmp_path, helix, irc)
    try:
        await irc.wait_joined("chan", timeout=180)
        await irc.send_line(privmsg("chan", "troll", "you are a worthless idiot", msg_id="m-tox", user_id="2002"))
        await wait_until(lambda: len(read_records(out)) >= 1, 120)
        await asyncio.sleep(1.0)
    finally:
        await stop(proc, err_path)
    assert helix.requests == [] and helix.validations == 0
    audit = [json.loads(x) for x in (tmp_path / "data" / "moderation" / "audit.jsonl").read_text().splitlines()]
    assert [(a["event"], a["moderate"], a["decision"]["action"]) for a in audit] == [("decision", False, "timeout")]
