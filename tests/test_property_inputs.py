"""Property-based tests (hypothesis) of every input edge: the IRC parser and converter, the
replay and stdin readers, the webhook models and text normalisation. No exception escapes, and
every input is either a message or a counted bad line.

A few hundred cases per property in the default run; ``-m slow`` runs 20,000 per property.
"""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from companion.connectors.irc_parse import IrcParseError, escape_tag_value, parse_line
from companion.connectors.replay import BadLine, StdinSource, _iter_csv, _iter_jsonl
from companion.connectors.twitch_convert import TwitchConvertError, convert
from companion.connectors.webhook import parse_batch
from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from companion.text import MAX_CHARS, clean_name, normalize_text
from pipelines.sink import record_json

FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))

# Characters that break naive parsers: Unicode digits, bidi, controls, separators, surrogates.
_NASTY = "0123456789²³١٢٣٤٥৫٦߀-:,/;=\\ @#!.\u202e\u2066\u200b\x00\x01\r\n\t\x7f\ufeff\U0001f600"
nasty_text = st.text(alphabet=st.sampled_from(_NASTY) | st.characters(), max_size=60)

# JSON values including the non-standard NaN/Infinity and integers over the digit limit.
json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(max_size=30) | st.integers(min_value=10**50, max_value=10**60))
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=12)
FIELDS = ["text", "ts", "user", "channel", "platform", "bits", "kind", "tags", "id", "user_id",
          "mentions", "emotes", "badges", "first_message", "reply_to_id"]
message_objects = st.dictionaries(st.sampled_from(FIELDS), json_values | nasty_text, max_size=8)

TAG_KEYS = ["emotes", "tmi-sent-ts", "bits", "badges", "id", "display-name", "first-msg", "login",
            "msg-id", "system-msg", "user-id", "reply-parent-msg-id", "ban-duration",
            "target-msg-id", "slow", "followers-only"]


@st.composite
def irc_lines(draw) -> str:
    tags = draw(st.dictionaries(st.sampled_from(TAG_KEYS), nasty_text, max_size=6))
    tag_part = ";".join(f"{k}={escape_tag_value(v)}" for k, v in tags.items())
    command = draw(st.sampled_from(["PRIVMSG", "USERNOTICE", "CLEARCHAT", "CLEARMSG", "ROOMSTATE",
                                    "NOTICE", "PING", "001", "JOIN"]))
    nick = draw(st.text(alphabet="abcxyz_09\u202e", min_size=0, max_size=8))
    channel = draw(st.sampled_from(["#chan", "#", "chan", ""]))
    text = draw(nasty_text).replace("\r", "").replace("\n", "").replace("\x00", "")
    line = f"@{tag_part} " if tags else ""
    line += f":{nick}!{nick}@{nick}.tmi.twitch.tv " if nick else ""
    return line + f"{command} {channel} :{text}"


def _irc_property(line: str) -> None:
    try:
        msg = parse_line(line)
    except IrcParseError:
        return  # counted as malformed by the client
    try:
        item = convert(msg, clock=lambda: 1_700_000_000.0)
    except TwitchConvertError:
        return  # counted as malformed
    if isinstance(item, ChatMessage):
        assert math.isfinite(item.ts)
        assert "\u202e" not in item.user and "\u202e" not in item.channel
        for start, end, name in item.emotes:
            assert 0 <= start <= end < len(item.text) and item.text[start:end + 1] == name
        record_json(AnalysisRecord.for_message(item).to_dict())


def _jsonl_property(lines: list[bytes]) -> None:
    data = b"\n".join(lines)
    items = list(_iter_jsonl(data, "replay"))
    non_blank = [ln for ln in data.split(b"\n") if ln.strip()]
    assert len(items) == len(non_blank)  # every line is a message or a counted bad line
    for lineno, item in items:
        assert isinstance(item, (ChatMessage, BadLine))
        if isinstance(item, ChatMessage):
            assert math.isfinite(item.ts) and 0 <= item.bits <= 10_000_000
            json.loads(record_json(AnalysisRecord.for_message(item).to_dict()))
        else:
            assert item.line == lineno and item.reason


def _stdin_property(raw: bytes) -> None:
    item = StdinSource(stream=None)._parse(1, raw)
    if raw.strip():
        assert isinstance(item, (ChatMessage, BadLine))
    else:
        assert item is None


def _csv_property(rows: list[list[str]]) -> None:
    data = "\n".join(",".join(r) for r in [["text", "user", "ts"], *rows]).encode("utf-8", "surrogatepass")
    for _, item in _iter_csv(data, "replay"):
        assert isinstance(item, (ChatMessage, BadLine))


def _webhook_property(payload) -> None:
    try:
        items = parse_batch(payload)
    except ValidationError:
        return  # a 400 naming the fields
    for item in items:
        msg = item.to_chat_message(1_700_000_000.0)
        assert math.isfinite(msg.ts) and msg.text
        json.loads(record_json(AnalysisRecord.for_message(msg).to_dict()))


def _text_property(text: str) -> None:
    clean, truncated = normalize_text(text)
    assert len(clean) <= MAX_CHARS and isinstance(truncated, bool)
    assert not any(c in clean for c in "\x00\r\n\u202e\u2066\ufeff\u200b")
    name = clean_name(text)
    assert len(name) <= 64 and not any(c in name for c in "\x00\n\u202e\u2067")


jsonl_lines = st.lists(st.one_of(message_objects.map(lambda o: json.dumps(o).encode()),
                                 st.binary(max_size=40), nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass"))),
                       max_size=6)
csv_rows = st.lists(st.lists(nasty_text, min_size=0, max_size=4), max_size=5)
webhook_payloads = st.one_of(st.lists(message_objects, max_size=4),
                             st.fixed_dictionaries({"messages": st.lists(message_objects, max_size=4)}),
                             json_values)
stdin_raw = st.one_of(st.binary(max_size=60), message_objects.map(lambda o: json.dumps(o).encode()))
PROPERTIES = [(_irc_property, irc_lines()), (_jsonl_property, jsonl_lines), (_stdin_property, stdin_raw),
              (_csv_property, csv_rows), (_webhook_property, webhook_payloads), (_text_property, nasty_text)]
IDS = [p.__name__.strip("_") for p, _ in PROPERTIES]


@pytest.mark.parametrize("prop, strategy", PROPERTIES, ids=IDS)
def test_input_property(prop, strategy) -> None:
    FAST(given(strategy)(prop))()


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("prop, strategy", PROPERTIES, ids=IDS)
def test_input_property_20k(prop, strategy) -> None:
    SLOW(given(strategy)(prop))()
