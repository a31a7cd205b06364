"""TwitchIRCClient end to end against the local fake Twitch IRC WebSocket server."""
import asyncio
import logging

import pytest

from companion.connectors.backoff import Backoff
from companion.connectors.base import (
    ModerationEvent,
    ModerationKind,
    RoomStateEvent,
    SendBlocked,
    SendDisabled,
    ServerNotice,
    Source,
)
from companion.connectors.outgoing import split_message
from companion.connectors.twitch_irc import TwitchAuthError, TwitchConfig, TwitchIRCClient
from companion.messages import ChatMessage, MessageKind

try:
    from tests.twitch_fake_server import FakeTwitchServer, clearchat, clearmsg, privmsg, usernotice
except ImportError:  # tests/ on sys.path directly
    from twitch_fake_server import FakeTwitchServer, clearchat, clearmsg, privmsg, usernotice

pytestmark = pytest.mark.timeout(60)


async def wait_until(cond, timeout: float = 10.0) -> None:
    async def _poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(_poll(), timeout)


class Harness:
    """A client reading from a fake server, with everything it yields collected."""

    def __init__(self, server: FakeTwitchServer, client: TwitchIRCClient) -> None:
        self.server = server
        self.client = client
        self.items: list = []
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        try:
            async for item in self.client:
                self.items.append(item)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            self.error = exc

    def messages(self) -> list[ChatMessage]:
        return [i for i in self.items if isinstance(i, ChatMessage)]

    async def close(self) -> None:
        await self.client.close()
        await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def server():
    srv = FakeTwitchServer(expected_token="oauth:s3cr3tt0ken", moderator_in={"modchan"})
    await srv.start()
    yield srv
    await srv.stop()


def make_client(server, channels=("chan",), *, env=None, reply=False, **kw) -> TwitchIRCClient:
    env = {"TWITCH_IRC_URL": server.url, **(env or {})}
    config = TwitchConfig.from_env(list(channels), reply=reply, env=env)
    return TwitchIRCClient(config, backoff=Backoff(base=0.01, cap=0.05), **kw)


async def test_reads_tags_events_moderation_ping_and_junk(server):
    client = make_client(server)
    assert isinstance(client, Source)
    h = Harness(server, client)
    await server.wait_joined("chan")
    assert client.nick.startswith("justinfan")
    assert "CAP REQ :twitch.tv/tags twitch.tv/commands" in server.received
    assert not any(line.startswith("PASS") for line in server.received)

    junk = ["%%% this is not irc", "@only-tags", ":prefix-only", "@=bad :x PRIVMSG #chan :y"]
    lines = [
        privmsg("chan", "alice", "hello Kappa", msg_id="m-1", user_id="11", emotes="25:6-10", badges="subscriber/6"),
        "PING :tmi.twitch.tv",
        junk[0],
        privmsg("chan", "bob", "@alice hi", msg_id="m-2", extra={"reply-parent-msg-id": "m-1", "reply-parent-user-login": "alice"}),
        junk[1],
        usernotice("chan", "sub", "carol", "carol subscribed at Tier 1.", notice_id="n-sub", params={"sub-plan": 1000}),
        usernotice("chan", "raid", "dave", "15 raiders from Dave have joined!", notice_id="n-raid", params={"viewerCount": 15}),
        junk[2],
        clearmsg("chan", "alice", "m-1", "hello Kappa"),
        clearchat("chan", "bob", duration=600),
        junk[3],
        privmsg("chan", "erin", "last one", msg_id="m-3"),
    ]
    await server.send_frame(lines[:6])  # several lines in one frame, as Twitch does
    for line in lines[6:]:
        await server.send_line(line)
    await wait_until(lambda: any(isinstance(i, ChatMessage) and i.id == "m-3" for i in h.items))
    pongs = await server.wait_for_line("PONG")
    assert pongs == ["PONG :tmi.twitch.tv"]

    msgs = h.messages()
    by_id = {m.id: m for m in msgs}
    assert [m.id for m in msgs] == ["m-1", "m-2", "n-sub", "n-raid", "m-3"]
    alice = by_id["m-1"]
    assert (alice.platform, alice.channel, alice.user, alice.user_id) == ("twitch", "chan", "alice", "11")
    assert alice.emotes == [(6, 10, "Kappa")] and alice.badges == {"subscriber": "6"}
    assert alice.tags["display-name"] == "alice"
    assert by_id["m-2"].reply_to_id == "m-1" and by_id["m-2"].mentions == ["alice"]
    assert by_id["n-sub"].kind == MessageKind.SUB and by_id["n-sub"].is_event
    assert by_id["n-raid"].kind == MessageKind.RAID and by_id["n-raid"].tags["msg-param-viewerCount"] == "15"

    mods = [i for i in h.items if isinstance(i, ModerationEvent)]
    assert [(m.kind, m.target_msg_id, m.target_user, m.duration) for m in mods] == [
        (ModerationKind.CLEARMSG, "m-1", "alice", None),
        (ModerationKind.CLEARCHAT, None, "bob", 600),
    ]
    assert any(isinstance(i, RoomStateEvent) for i in h.items)  # sent by the server on JOIN

    stats = client.stats
    assert stats.malformed == len(junk)
    assert stats.parsed == 5 and stats.pings == 1
    assert stats.received == stats.parsed + stats.notices + stats.malformed + stats.ignored + stats.pings
    await h.close()
    assert h.error is None and h.task.done()


async def test_reconnect_after_reconnect_command_and_dropped_socket(server):
    client = make_client(server, channels=("chan", "other"))
    h = Harness(server, client)
    await server.wait_joined("chan")
    await server.wait_joined("other")
    await server.send_line(privmsg("chan", "alice", "before", msg_id="a"))
    await wait_until(lambda: len(h.messages()) == 1)

    await server.send_line(":tmi.twitch.tv RECONNECT")
    await server.wait_joined("chan", count=2)
    await server.wait_joined("other", count=2)
    await wait_until(lambda: len(server.connections) == 1)
    await server.send_line(privmsg("other", "bob", "after reconnect", msg_id="b"))
    await wait_until(lambda: len(h.messages()) == 2)

    await server.drop()
    await server.wait_joined("chan", count=3)
    await server.wait_joined("other", count=3)
    await server.send_line(privmsg("chan", "carol", "after drop", msg_id="c"))
    await wait_until(lambda: len(h.messages()) == 3)

    assert [m.id for m in h.messages()] == ["a", "b", "c"]
    assert server.connection_count == 3
    assert client.stats.reconnects == 2 and client.stats.connects == 3
    assert client.joined == {"chan", "other"}
    await h.close()
    assert h.error is None


async def test_reconnects_when_server_is_down_at_first(server):
    port = server.port
    await server.stop()
    client = make_client(server)
    h = Harness(server, client)
    await wait_until(lambda: client._backoff.attempt >= 2)  # refused at least twice
    restarted = await FakeTwitchServer(port=port).start()  # the same address comes back
    try:
        await restarted.wait_joined("chan")
        await restarted.send_line(privmsg("chan", "a", "up again", msg_id="u"))
        await wait_until(lambda: len(h.messages()) == 1)
    finally:
        await h.close()
        await restarted.stop()


async def test_hung_login_is_retried():
    server = await FakeTwitchServer(welcome=False).start()
    try:
        config = TwitchConfig(channels=["chan"], url=server.url)
        client = TwitchIRCClient(config, backoff=Backoff(base=0.01, cap=0.05), login_timeout_s=0.2)
        h = Harness(server, client)
        await server.wait_for(lambda s: s.connection_count >= 2)
        assert server.joins == []  # never joined without a welcome
        await h.close()
    finally:
        await server.stop()


async def test_authenticated_login_send_and_token_never_logged(server, caplog):
    caplog.set_level(logging.DEBUG)
    env = {"TWITCH_OAUTH_TOKEN": "s3cr3tt0ken", "TWITCH_NICK": "MyBot"}
    client = make_client(server, env=env, reply=True)
    h = Harness(server, client)
    await server.wait_joined("chan")
    assert "PASS oauth:s3cr3tt0ken" in server.received and "NICK mybot" in server.received

    await client.send("#Chan", "hello there", reply_to_id="m-1")
    await client.send("chan", "line one\r\nPRIVMSG #other :injected")
    with pytest.raises(SendBlocked) as blocked:
        await client.send("chan", "you are awful", guard=lambda text: "toxic" if "awful" in text else None)
    assert blocked.value.reason == "toxic"
    await client.send("chan", "/ban somebody")

    sent = await server.wait_for_line("@reply-parent-msg-id=m-1 PRIVMSG")
    assert sent == ["@reply-parent-msg-id=m-1 PRIVMSG #chan :hello there"]
    privmsgs = [line for line in server.received if line.startswith("PRIVMSG")]
    assert privmsgs == ["PRIVMSG #chan :line one PRIVMSG #other :injected", "PRIVMSG #chan :ban somebody"]
    assert client.stats.sent == 3 and client.stats.send_blocked == 1

    await h.close()
    client_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("twitch_fake_server"))
    assert "PASS ***" in client_logs  # the PASS line was logged, redacted
    assert "oauth:***" in client_logs  # the WebSocket library's frame log, redacted
    assert "s3cr3tt0ken" not in client_logs
    assert "s3cr3tt0ken" not in repr(client) and "s3cr3tt0ken" not in repr(client.config)
    assert "s3cr3tt0ken" not in str(client.stats.to_dict())


async def test_from_env_on_the_client(server):
    client = TwitchIRCClient.from_env(["Chan"], env={"TWITCH_IRC_URL": server.url}, backoff=Backoff(base=0.01))
    assert client.config.url == server.url and client.config.channels == ["chan"] and client.config.anonymous
    default = TwitchIRCClient.from_env(["chan"], env={})
    assert default.config.url == "wss://irc-ws.chat.twitch.tv:443" and not default.config.reply


async def test_send_disabled_without_reply_or_when_anonymous(server):
    quiet = make_client(server, env={"TWITCH_OAUTH_TOKEN": "s3cr3tt0ken", "TWITCH_NICK": "bot"})
    with pytest.raises(SendDisabled):
        await quiet.send("chan", "hi")
    anonymous = make_client(server, reply=True)
    with pytest.raises(SendDisabled):
        await anonymous.send("chan", "hi")
    with pytest.raises(ValueError):
        TwitchConfig.from_env(["chan"], env={"TWITCH_OAUTH_TOKEN": "x"})
    with pytest.raises(ValueError):
        TwitchConfig(channels=["bad channel!"])


async def test_bad_token_stops_with_auth_error(server):
    client = make_client(server, env={"TWITCH_OAUTH_TOKEN": "wrong", "TWITCH_NICK": "bot"})
    h = Harness(server, client)
    await asyncio.wait_for(h.task, 10)
    assert isinstance(h.error, TwitchAuthError)
    assert any(isinstance(i, ServerNotice) and "authentication failed" in i.text for i in h.items)
    assert server.connection_count == 1  # no retry loop against a refused login
    await client.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.parametrize("channel, expected_waits", [("chan", 2), ("modchan", 0)])
async def test_send_burst_rate_limited_queued_not_dropped(server, channel, expected_waits):
    clock = FakeClock()
    env = {"TWITCH_OAUTH_TOKEN": "s3cr3tt0ken", "TWITCH_NICK": "bot"}
    client = make_client(server, channels=(channel,), env=env, reply=True, monotonic=clock, sleep=clock.sleep)
    h = Harness(server, client)
    await server.wait_joined(channel)
    # Moderator status arrives in USERSTATE after JOIN; wait for it to be seen.
    if channel == "modchan":
        await wait_until(lambda: "modchan" in client.privileged)
    futures = [await client.send(channel, f"msg {i}", wait=False) for i in range(45)]
    await asyncio.wait_for(asyncio.gather(*futures), 10)
    lines = await server.wait_for_line(f"PRIVMSG #{channel}", count=45)
    assert lines == [f"PRIVMSG #{channel} :msg {i}" for i in range(45)]
    chat_waits = [s for s in clock.slept if s > 1]  # join-limiter waits are not expected either
    assert len(chat_waits) == expected_waits
    if expected_waits:
        assert clock.now >= 60.0  # 45 messages at 20 per 30 s span three windows
    await h.close()


async def test_pending_sends_fail_loudly_on_close(server):
    env = {"TWITCH_OAUTH_TOKEN": "s3cr3tt0ken", "TWITCH_NICK": "bot"}
    client = make_client(server, channels=("chan",), env=env, reply=True)
    # Never started reading, so the channel is never joined and the send stays queued.
    future = await client.send("chan", "stuck", wait=False)
    await client.close()
    with pytest.raises(Exception, match="closed before"):
        await future
    assert client.stats.send_failed == 1


def test_split_message():
    text = ("word " * 150).strip()
    chunks = split_message(text, 500)
    assert all(len(c) <= 500 for c in chunks) and " ".join(chunks) == text
    assert split_message("x" * 1200, 500) == ["x" * 500, "x" * 500, "x" * 200]
