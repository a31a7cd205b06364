"""Issue 13, data loss from one bad value: every hostile number, digit and name at the edges
(replay, stdin, webhook, Twitch IRC) costs at most its own message, counted with a reason."""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from companion.connectors.irc_parse import IrcParseError, parse_emote_ranges, parse_line
from companion.connectors.replay import ReplaySource, StdinSource
from companion.connectors.twitch_convert import privmsg_to_message
from companion.connectors.webhook import register_routes
from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from companion.text import clean_name
from pipelines.sink import JsonlSink

HOSTILE_LINES = {
    51: '{"text": "cheer", "bits": Infinity}',
    52: '{"text": "when", "ts": NaN}',
    53: '{"text": "far", "ts": 1e400}',
    54: '{"text": "huge", "bits": ' + "9" * 5000 + "}",
    55: '{"text": "lots", "bits": ' + str(10**100) + "}",
    56: "[" * 100_000 + "]" * 100_000,
    57: '{"text": "tagged", "tags": {"x": 1e999}}',
    58: '{"text": "minus", "ts": -5}',
}


def _hostile_file(path: Path) -> Path:
    lines = [json.dumps({"text": f"line {i}", "user": f"u{i}", "ts": 1_700_000_000 + i})
             for i in range(1, 101)]
    for lineno, raw in HOSTILE_LINES.items():
        lines[lineno - 1] = raw
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_replay_bad_number_costs_one_line_not_the_rest(tmp_path: Path) -> None:
    src = ReplaySource(_hostile_file(tmp_path / "chat.jsonl"))
    got = [m async for m in src]
    assert len(got) == 100 - len(HOSTILE_LINES)
    assert got[-1].text == "line 100"  # the file was read to its end
    assert sorted(b.line for b in src.bad_lines) == sorted(HOSTILE_LINES)
    assert src.stats.malformed == len(HOSTILE_LINES)
    assert all(b.reason for b in src.bad_lines)


async def test_stdin_bad_number_costs_one_line() -> None:
    lines = [b'{"text": "a"}', b'{"text": "b", "bits": Infinity}',
             b'{"text": "c", "bits": ' + b"9" * 5000 + b"}", b'{"a": ' * 50_000, b"plain text",
             b'{"text": "d", "ts": 1e400}', b'{"text": "e"}']
    src = StdinSource(io.BytesIO(b"\n".join(lines) + b"\n"))
    got = [m.text async for m in src]
    assert got == ["a", "plain text", "e"]
    assert [b.line for b in src.bad_lines] == [2, 3, 4, 6]


def test_irc_unicode_digits_are_not_numbers() -> None:
    for bad in ("25:0-²", "25:١-٣", "25:0-99999999999999999999"):
        with pytest.raises(IrcParseError):
            parse_emote_ranges(bad)
    assert parse_emote_ranges("25:0-4") == [(0, 4, "25")]


def test_broken_emotes_tag_costs_only_the_spans() -> None:
    line = ("@emotes=25:0-²;tmi-sent-ts=١٢٣;user-id=1;display-name=\u202eEvil;id=m1 "
            ":evil\u202e!evil@evil PRIVMSG #chan :Kappa hello")
    msg = privmsg_to_message(parse_line(line), clock=lambda: 1234.0)
    assert msg.text == "Kappa hello" and msg.emotes == []
    assert msg.ts == 1234.0  # a non-ASCII tmi-sent-ts falls back to the clock
    assert "\u202e" not in msg.user and msg.tags["display-name"] == "Evil"


def test_names_lose_bidi_and_control_characters() -> None:
    assert clean_name("ab\u202ecd\u2066") == "abcd"
    assert clean_name("line\nbreak\x00") == "line break"
    m = ChatMessage(text="hi", user="\u202e\u202e", channel="\x00")
    assert m.user == "anonymous" and m.channel == "default"


def test_out_is_strict_json_and_appends(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    rec = AnalysisRecord.for_message(ChatMessage(text="x", tags={"v": math.inf, "w": math.nan}))
    sink = JsonlSink(out)
    sink.write([rec])
    sink.close()
    out.write_text(out.read_text() + '{"half": ', encoding="utf-8")  # a kill mid-line
    again = JsonlSink(out)  # a restart must append, never truncate
    again.write([AnalysisRecord.for_message(ChatMessage(text="y"))])
    again.close()
    lines = out.read_text().splitlines()
    assert len(lines) == 3

    def strict(name: str):
        raise ValueError(f"non-standard JSON {name}")

    first = json.loads(lines[0], parse_constant=strict)
    assert first["text"] == "x"
    assert json.loads(lines[2], parse_constant=strict)["text"] == "y"


class _Engine:
    config = None

    def __init__(self) -> None:
        self.batches: list[list[ChatMessage]] = []

    async def submit(self, messages: list[ChatMessage]) -> None:
        self.batches.append(messages)


@pytest.fixture
async def webhook():
    engine = _Engine()
    app = web.Application()
    register_routes(app, engine)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    yield engine, client
    await client.close()


@pytest.mark.parametrize("body, loc", [
    ('{"messages": [{"text": "a", "ts": NaN}]}', "messages.0.ts"),
    ('{"messages": [{"text": "a", "ts": Infinity}]}', "messages.0.ts"),
    ('{"messages": [{"text": "a", "ts": 1e400}]}', "messages.0.ts"),
    ('{"messages": [{"text": "a", "ts": 1e300}]}', "messages.0.ts"),
    ('{"messages": [{"text": "a", "bits": Infinity}]}', "messages.0.bits"),
    ('{"messages": [{"text": "a", "bits": ' + str(10**100) + "}]}", "messages.0.bits"),
    ('{"messages": [{"text": "a", "tags": {"x": NaN}}]}', "messages.0.tags"),
    ('{"messages": [{"text": "a", "emotes": [[0, ' + str(10**30) + ', "a"]]}]}', "messages.0.emotes"),
])
async def test_webhook_refuses_non_finite_and_huge_numbers(webhook, body, loc) -> None:
    engine, client = webhook
    resp = await client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    fields = (await resp.json())["fields"]
    assert any(f["loc"].startswith(loc) for f in fields)
    assert engine.batches == []


@pytest.mark.parametrize("body", [
    '{"messages": [{"text": "a", "bits": ' + "9" * 5000 + "}]}",
    "[" * 100_000 + "]" * 100_000,
    '{"messages": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}",
])
async def test_webhook_digit_limit_and_deep_nesting_are_4xx(webhook, body) -> None:
    engine, client = webhook
    resp = await client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert engine.batches == []


async def test_webhook_needs_json_content_type(webhook) -> None:
    engine, client = webhook
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        resp = await client.post("/api/messages", data='{"messages": [{"text": "hi"}]}',
                                 headers={"Content-Type": ctype})
        assert resp.status == 415
    assert engine.batches == []


async def test_webhook_retried_batch_is_not_duplicated(webhook) -> None:
    engine, client = webhook
    batch = {"messages": [{"text": f"m{i}", "id": f"id-{i}"} for i in range(5)]}
    first = await client.post("/api/messages", json=batch)
    assert first.status == 200 and (await first.json())["accepted"] == 5
    again = await client.post("/api/messages", json=batch)
    assert await again.json() == {"accepted": 0, "duplicates": 5}
    assert sum(len(b) for b in engine.batches) == 5
