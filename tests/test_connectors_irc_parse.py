"""IRCv3 line and tag parsing, and Twitch line -> ChatMessage / ModerationEvent conversion."""
import pytest

from companion.connectors.base import ModerationEvent, ModerationKind, RoomStateEvent, ServerNotice
from companion.connectors.irc_parse import (
    IrcParseError,
    escape_tag_value,
    format_line,
    parse_badges,
    parse_emote_ranges,
    parse_line,
    parse_tags,
    split_frame,
    unescape_tag_value,
)
from companion.connectors.twitch_convert import convert, is_privileged
from companion.messages import ChatMessage, MessageKind

try:
    from tests.twitch_fake_server import clearchat, clearmsg, privmsg, usernotice
except ImportError:  # tests/ on sys.path directly
    from twitch_fake_server import clearchat, clearmsg, privmsg, usernotice


@pytest.mark.parametrize(
    "raw, expected",
    [
        (r"hello\sworld", "hello world"),
        (r"a\:b", "a;b"),
        (r"back\\slash", "back\\slash"),
        (r"cr\rlf\n", "cr\rlf\n"),
        (r"\\s", "\\s"),  # escaped backslash followed by a plain s
        (r"\x", "x"),  # unknown escape: the char itself
        ("trailing\\", "trailing"),  # lone trailing backslash dropped
        ("", ""),
        (r"\:\s\\\r\n", "; \\\r\n"),
    ],
)
def test_unescape_tag_value(raw, expected):
    assert unescape_tag_value(raw) == expected


@pytest.mark.parametrize("value", ["plain", "a b;c\\d\re\nf", "\\s", ";;", " "])
def test_escape_roundtrip(value):
    assert unescape_tag_value(escape_tag_value(value)) == value


def test_parse_tags_rules():
    tags = parse_tags(r"a=1;empty=;novalue;sys=Hello\sthere\:\sfriend;a=2")
    assert tags == {"a": "2", "empty": "", "novalue": "", "sys": "Hello there; friend"}
    with pytest.raises(IrcParseError):
        parse_tags("=x")


def test_parse_privmsg_line_from_twitch_docs():
    line = (
        "@badge-info=;badges=broadcaster/1;client-nonce=459e3142897c7a22b7d275178f2259e0;color=#0000FF;"
        "display-name=lovingt3s;emote-only=1;emotes=62835:0-10;first-msg=0;flags=;"
        "id=885196de-cb67-427a-baa8-82f9b0fcd05f;mod=0;room-id=713936733;subscriber=0;"
        "tmi-sent-ts=1643904084794;turbo=0;user-id=713936733;user-type= "
        ":lovingt3s!lovingt3s@lovingt3s.tmi.twitch.tv PRIVMSG #lovingt3s :bleedPurple"
    )
    msg = parse_line(line + "\r\n")
    assert msg.command == "PRIVMSG"
    assert msg.nick == "lovingt3s" and msg.channel == "lovingt3s"
    assert msg.trailing == "bleedPurple"
    assert msg.tags["display-name"] == "lovingt3s" and msg.tags["badge-info"] == ""
    item = convert(msg)
    assert isinstance(item, ChatMessage)
    assert item.id == "885196de-cb67-427a-baa8-82f9b0fcd05f"
    assert item.platform == "twitch" and item.user == "lovingt3s" and item.user_id == "713936733"
    assert item.emotes == [(0, 10, "bleedPurple")]
    assert item.badges == {"broadcaster": "1"}
    assert item.ts == pytest.approx(1643904084.794)


@pytest.mark.parametrize(
    "line, command, params, source",
    [
        ("PING :tmi.twitch.tv", "PING", ("tmi.twitch.tv",), None),
        (":tmi.twitch.tv 001 bot :Welcome, GLHF!", "001", ("bot", "Welcome, GLHF!"), "tmi.twitch.tv"),
        (":tmi.twitch.tv RECONNECT", "RECONNECT", (), "tmi.twitch.tv"),
        (":bot!bot@bot.tmi.twitch.tv JOIN #chan", "JOIN", ("#chan",), "bot!bot@bot.tmi.twitch.tv"),
        (":a!a@a PRIVMSG #c :hi :) there", "PRIVMSG", ("#c", "hi :) there"), "a!a@a"),
        (":a!a@a PRIVMSG #c :", "PRIVMSG", ("#c", ""), "a!a@a"),
    ],
)
def test_parse_line_shapes(line, command, params, source):
    msg = parse_line(line)
    assert (msg.command, msg.params, msg.source) == (command, params, source)


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "@tags-only", ":prefix-only", "@a=b :src", "!!! not irc", "@=x :s PRIVMSG #c :t", "x" * 20000, "12 x"],
)
def test_malformed_lines_raise(junk):
    with pytest.raises(IrcParseError):
        parse_line(junk)


def test_format_line_refuses_injection():
    assert format_line("PRIVMSG", "#c", "hi there") == "PRIVMSG #c :hi there"
    assert format_line("JOIN", "#c") == "JOIN #c" and format_line("PRIVMSG", "#c", ":)") == "PRIVMSG #c ::)"
    assert format_line("PRIVMSG", "#c", "x", tags={"reply-parent-msg-id": "a b"}, trailing=True) == (
        r"@reply-parent-msg-id=a\sb PRIVMSG #c :x"
    )
    with pytest.raises(ValueError):
        format_line("PRIVMSG", "#c", "hi\r\nPRIVMSG #c :injected")


def test_badges_and_emote_ranges():
    assert parse_badges("broadcaster/1,subscriber/12,") == {"broadcaster": "1", "subscriber": "12"}
    assert parse_emote_ranges("25:0-4,12-16/1902:6-10") == [(0, 4, "25"), (6, 10, "1902"), (12, 16, "25")]
    assert parse_emote_ranges("") == []
    for bad in ("25:4-0", "25", "25:a-b", ":0-1"):
        with pytest.raises(IrcParseError):
            parse_emote_ranges(bad)


def test_split_frame_multiple_lines():
    assert split_frame("PING :a\r\nPING :b\r\n\r\n") == ["PING :a", "PING :b"]


def test_privmsg_full_tags():
    line = privmsg(
        "Chan",
        "alice",
        "Kappa hi @Bob Kappa",
        msg_id="m-1",
        user_id="42",
        display_name="Alice",
        badges="subscriber/12,moderator/1",
        emotes="25:0-4,14-18",
        first_msg=True,
        mod=True,
        extra={
            "reply-parent-msg-id": "p-9",
            "reply-parent-user-login": "bob",
            "reply-parent-display-name": "Bob",
            "reply-parent-msg-body": "hey; you there?",
        },
    )
    m = convert(parse_line(line))
    assert isinstance(m, ChatMessage)
    assert m.channel == "chan" and m.user == "alice" and m.user_id == "42"
    assert m.tags["display-name"] == "Alice" and m.tags["reply-parent-msg-body"] == "hey; you there?"
    assert m.emotes == [(0, 4, "Kappa"), (14, 18, "Kappa")]
    assert m.reply_to_id == "p-9" and m.reply_to_user == "bob"
    assert m.mentions == ["bob"]
    assert m.first_message is True and m.badges == {"subscriber": "12", "moderator": "1"}
    assert m.kind == MessageKind.MESSAGE and m.id == "m-1"


def test_bits_action_and_normalisation_shift_emotes():
    cheer = convert(parse_line(privmsg("c", "bob", "cheer100 nice", bits=100)))
    assert cheer.kind == MessageKind.BITS and cheer.bits == 100
    action = convert(parse_line(privmsg("c", "bob", "\x01ACTION waves Kappa\x01", emotes="25:6-10")))
    assert action.text == "waves Kappa" and action.tags["action"] == "1"
    assert action.emotes == [(6, 10, "Kappa")]
    # A zero-width space before the emote is stripped by normalize_text; the span must follow it.
    shifted = convert(parse_line(privmsg("c", "bob", "\u200bhey Kappa", emotes="25:5-9")))
    assert shifted.text == "hey Kappa" and shifted.emotes == [(4, 8, "Kappa")]
    # A broken emotes tag loses the spans, not the message.
    broken = convert(parse_line(privmsg("c", "bob", "hello", emotes="25:9-1")))
    assert broken.text == "hello" and broken.emotes == []


def test_long_text_truncated_flag():
    m = convert(parse_line(privmsg("c", "bob", "a" * 600)))
    assert m.truncated and len(m.text) == 500


@pytest.mark.parametrize(
    "msg_id, kind",
    [
        ("sub", MessageKind.SUB),
        ("resub", MessageKind.RESUB),
        ("subgift", MessageKind.SUBGIFT),
        ("raid", MessageKind.RAID),
        ("announcement", MessageKind.ANNOUNCEMENT),
        ("bitsbadgetier", MessageKind.SYSTEM),
    ],
)
def test_usernotice_kinds(msg_id, kind):
    m = convert(parse_line(usernotice("chan", msg_id, "ronni", "ronni did a thing", notice_id="n-1")))
    assert isinstance(m, ChatMessage) and m.kind == kind and m.id == "n-1"
    assert m.text == "ronni did a thing" and m.tags["system"] == "1"


def test_resub_keeps_user_text_and_params():
    line = usernotice(
        "dallas",
        "resub",
        "ronni",
        "ronni has subscribed for 6 months!",
        "Great stream -- keep it up!",
        params={"cumulative-months": 6, "sub-plan": "Prime", "sub-plan-name": "Prime"},
    )
    m = convert(parse_line(line))
    assert m.kind == MessageKind.RESUB and m.text == "Great stream -- keep it up!"
    assert m.tags["msg-param-cumulative-months"] == "6"
    assert m.tags["system-msg"] == "ronni has subscribed for 6 months!"


def test_raid_from_docs():
    line = usernotice(
        "othertestchannel",
        "raid",
        "testchannel",
        "15 raiders from TestChannel have joined\\n!",
        params={"displayName": "TestChannel", "login": "testchannel", "viewerCount": 15},
    )
    m = convert(parse_line(line))
    assert m.kind == MessageKind.RAID and m.user == "testchannel"
    assert m.tags["msg-param-viewerCount"] == "15"
    assert m.text == "15 raiders from TestChannel have joined\\n!"  # escaped backslash survives


def test_moderation_events():
    ev = convert(parse_line(clearmsg("dallas", "ronni", "abc-123-def", "HeyGuys")))
    assert isinstance(ev, ModerationEvent)
    assert ev.kind == ModerationKind.CLEARMSG and ev.target_msg_id == "abc-123-def" and ev.channel == "dallas"
    timeout = convert(parse_line(clearchat("dallas", "ronni", duration=350)))
    assert timeout.kind == ModerationKind.CLEARCHAT and timeout.target_user == "ronni" and timeout.duration == 350
    ban = convert(parse_line(clearchat("dallas", "ronni")))
    assert ban.target_user == "ronni" and ban.duration is None
    wipe = convert(parse_line(clearchat("dallas")))
    assert wipe.target_user is None and wipe.target_msg_id is None
    with pytest.raises(IrcParseError):
        convert(parse_line(":tmi.twitch.tv CLEARMSG #dallas :no target"))


def test_roomstate_notice_and_ignored():
    rs = convert(parse_line("@emote-only=0;followers-only=10;r9k=0;room-id=1;slow=30;subs-only=1 :tmi.twitch.tv ROOMSTATE #bar"))
    assert isinstance(rs, RoomStateEvent)
    assert (rs.followers_only, rs.slow, rs.subs_only, rs.emote_only) == (10, 30, True, False)
    partial = convert(parse_line("@room-id=1;slow=5 :tmi.twitch.tv ROOMSTATE #bar"))
    assert partial.slow == 5 and partial.subs_only is None
    notice = convert(parse_line("@msg-id=delete_message_success :tmi.twitch.tv NOTICE #bar :The message from foo is now deleted."))
    assert isinstance(notice, ServerNotice) and notice.msg_id == "delete_message_success"
    assert convert(parse_line(":tmi.twitch.tv 001 bot :Welcome, GLHF!")) is None
    with pytest.raises(IrcParseError):
        convert(parse_line(":a!a@a PRIVMSG nochannel :x"))


def test_privileged():
    assert is_privileged({"mod": "1"})
    assert is_privileged({"badges": "broadcaster/1"})
    assert not is_privileged({"mod": "0", "badges": "subscriber/3"})
