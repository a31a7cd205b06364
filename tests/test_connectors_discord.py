"""Discord: discord.py's own objects built from gateway payload JSON; only HTTP is faked.

The REST API is a loopback aiohttp server standing in for discord.com (``Route.BASE`` points at
it), so discord.py's real HTTP client, rate-limit handling and payload building are exercised.
"""
import asyncio
import itertools
import json
from pathlib import Path

import discord
import discord.http
import pytest
from aiohttp import web

from companion.connectors.base import ModerationEvent, ModerationKind, SendBlocked, SendDisabled, SendError, Source
from companion.connectors.discord_bot import DiscordSource
from companion.connectors.discord_convert import discord_to_message, replace_custom_emoji
from companion.messages import ChatMessage, MessageKind

pytestmark = pytest.mark.timeout(60)
PAYLOADS = json.loads((Path(__file__).parent / "fixtures" / "connectors_discord_gateway.json").read_text())
CHANNEL = "300000000000000001"
TOKEN = "test-bot-token.abc"


def _json(body, status: int = 200, headers: dict | None = None) -> web.Response:
    """Discord answers with exactly ``application/json`` (no charset), which discord.py checks."""
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


class FakeDiscordREST:
    """Just enough of Discord's REST API for login, fetch_channel and create-message."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.rate_limit_next = 0  # answer this many create-message calls with 429 first
        self._ids = itertools.count(710000000000000001)
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._app)
        app.router.add_get("/api/v10/channels/{cid}", self._channel)
        app.router.add_post("/api/v10/channels/{cid}/messages", self._create_message)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}/api/v10"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _record(self, request: web.Request) -> dict:
        body = await request.json() if request.can_read_body else None
        entry = {"method": request.method, "path": request.path, "json": body, "auth": request.headers.get("Authorization")}
        self.requests.append(entry)
        return entry

    async def _me(self, request):
        await self._record(request)
        return _json(PAYLOADS["bot_user"])

    async def _app(self, request):
        await self._record(request)
        return _json(PAYLOADS["application"])

    async def _channel(self, request):
        await self._record(request)
        return _json({"message": "Unknown Channel", "code": 10003}, status=404)

    async def _create_message(self, request):
        entry = await self._record(request)
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            headers = {
                "Via": "1.1 google",
                "Retry-After": "1",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": "0.05",
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "user",
            }
            body = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
            return _json(body, status=429, headers=headers)
        body = entry["json"]
        return _json(
            {
                "id": str(next(self._ids)), "channel_id": request.match_info["cid"], "author": PAYLOADS["bot_user"],
                "content": body["content"], "timestamp": "2024-06-01T12:01:00.000000+00:00", "edited_timestamp": None,
                "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                "embeds": [], "pinned": False, "type": 19 if body.get("message_reference") else 0, "flags": 0,
            },
            headers={"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "1",
                     "X-RateLimit-Bucket": "fake-bucket"},
        )

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]


async def wait_until(cond, timeout: float = 5.0) -> None:
    async def _poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(_poll(), timeout)


@pytest.fixture
async def rest(monkeypatch):
    server = FakeDiscordREST()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.base)
    yield server
    await server.stop()


@pytest.fixture
async def source(rest):
    src = DiscordSource(TOKEN, reply=True, autostart=False)
    await src.client.login(TOKEN)  # real discord.py login against the loopback REST API
    src.client._connection.parse_guild_create(PAYLOADS["GUILD_CREATE"])
    items: list = []

    async def consume() -> None:
        async for item in src:
            items.append(item)

    task = asyncio.create_task(consume())
    src.items = items  # the test reads what the iterator yielded
    yield src
    await src.close()
    await asyncio.wait_for(task, 5)


async def test_login_used_token_and_source_protocol(source, rest):
    assert isinstance(source, Source)
    assert rest.requests[0]["path"] == "/api/v10/users/@me" and rest.requests[0]["auth"] == f"Bot {TOKEN}"
    assert TOKEN not in repr(source)
    assert source.client.get_channel(int(CHANNEL)).name == "stream-chat"


async def test_gateway_messages_become_chat_messages(source):
    state = source.client._connection
    for key in ("MESSAGE_CREATE_plain", "MESSAGE_CREATE_reply", "MESSAGE_CREATE_no_content_intent",
                "MESSAGE_CREATE_other_bot", "MESSAGE_CREATE_dm"):
        state.parse_message_create(PAYLOADS[key])
    await wait_until(lambda: len(source.items) == 3)
    plain, reply, dm = source.items
    assert all(isinstance(m, ChatMessage) for m in source.items)

    assert plain.id == "700000000000000001" and plain.platform == "discord" and plain.channel == CHANNEL
    assert plain.user == "viewer_vic" and plain.user_id == "600000000000000002"
    assert plain.tags["display-name"] == "Vic" and plain.tags["guild-name"] == "Cozy Stream"
    assert plain.tags["channel-name"] == "stream-chat"
    # clean_content renders the mention; the custom emoji becomes its name with a span.
    assert plain.text == "hello @Streamer that was pog amazing"
    assert plain.emotes == [(25, 27, "pog")] and plain.text[25:28] == "pog"
    assert plain.mentions == ["streamer"]
    assert plain.ts == discord.utils.snowflake_time(int(plain.id)).timestamp()  # Discord time is in the id
    assert plain.badges == {} and plain.kind == MessageKind.MESSAGE

    assert reply.reply_to_id == "700000000000000001" and reply.reply_to_user == "viewer_vic"
    assert reply.badges == {"moderator": "1"}  # Mods role has Manage Messages
    assert reply.tags["display-name"] == "Mia (mod)" and reply.mentions == ["viewer_vic"]

    assert dm.tags["dm"] == "1" and dm.channel == "310000000000000001" and "guild-id" not in dm.tags

    stats = source.stats
    assert (stats.received, stats.parsed, stats.ignored) == (5, 3, 2)  # empty (no intent) + other bot


async def test_deletes_and_bans_become_moderation_events(source):
    state = source.client._connection
    state.parse_message_delete(PAYLOADS["MESSAGE_DELETE"])
    state.parse_message_delete_bulk(PAYLOADS["MESSAGE_DELETE_BULK"])
    state.parse_guild_ban_add(PAYLOADS["GUILD_BAN_ADD"])
    await wait_until(lambda: len(source.items) == 4)
    assert all(isinstance(e, ModerationEvent) for e in source.items)
    deleted = sorted(e.target_msg_id for e in source.items if e.kind == ModerationKind.CLEARMSG)
    assert deleted == ["700000000000000001", "700000000000000002", "700000000000000009"]
    ban = next(e for e in source.items if e.kind == ModerationKind.CLEARCHAT)
    assert (ban.channel, ban.target_user, ban.target_user_id) == (CHANNEL, "viewer_vic", "600000000000000002")


async def test_send_reply_payload(source, rest):
    sent = await source.send(CHANNEL, "thanks @everyone and <@600000000000000002>!", reply_to_id="700000000000000002")
    assert len(sent) == 1 and isinstance(sent[0], discord.Message)
    (post,) = rest.posts()
    assert post["path"] == f"/api/v10/channels/{CHANNEL}/messages"
    assert post["auth"] == f"Bot {TOKEN}"
    body = post["json"]
    assert body["content"] == "thanks @everyone and <@600000000000000002>!"
    assert body["allowed_mentions"]["parse"] == []  # nobody gets pinged by the bot
    assert int(body["message_reference"]["message_id"]) == 700000000000000002
    assert body["message_reference"]["fail_if_not_exists"] is False
    assert source.stats.sent == 1


async def test_send_retries_after_429_and_splits_long_text(source, rest):
    rest.rate_limit_next = 1
    await source.send(CHANNEL, "first try gets a 429")
    posts = rest.posts()
    assert len(posts) == 2 and posts[0]["json"] == posts[1]["json"]  # discord.py waited and retried

    long_text = " ".join(["word"] * 1000)  # 4999 chars -> three messages under Discord's 2000 limit
    await source.send(CHANNEL, long_text, reply_to_id="700000000000000001")
    chunks = rest.posts()[2:]
    assert len(chunks) == 3 and all(len(p["json"]["content"]) <= 2000 for p in chunks)
    assert " ".join(p["json"]["content"] for p in chunks) == long_text
    assert "message_reference" in chunks[0]["json"] and "message_reference" not in chunks[1]["json"]


async def test_send_refusals(source, rest):
    with pytest.raises(SendBlocked):
        await source.send(CHANNEL, "you are terrible", guard=lambda t: "toxicity 0.97" if "terrible" in t else None)
    with pytest.raises(SendError):
        await source.send("310000000000000099", "to an unknown channel")  # fetch_channel -> 404
    with pytest.raises(SendError):
        await source.send("not-a-channel-id", "hi")
    with pytest.raises(ValueError):
        await source.send(CHANNEL, "   \u200b ")
    assert rest.posts() == []
    assert source.stats.send_blocked == 1 and source.stats.send_failed == 1
    quiet = DiscordSource(TOKEN, reply=False, autostart=False)
    with pytest.raises(SendDisabled):
        await quiet.send(CHANNEL, "hi")


def test_from_env_and_custom_emoji():
    with pytest.raises(ValueError, match="DISCORD_TOKEN"):
        DiscordSource.from_env(env={})
    src = DiscordSource.from_env(env={"DISCORD_TOKEN": "x", "DISCORD_CHANNEL_IDS": "1, 2"}, autostart=False)
    assert src.channel_ids == {1, 2} and src.client.intents.message_content
    with pytest.raises(ValueError):
        DiscordSource.from_env(env={"DISCORD_TOKEN": "x", "DISCORD_CHANNEL_IDS": "general"})
    text, spans = replace_custom_emoji("a <a:dance:123456789012345678> b <:pog:123456789012345679>")
    assert text == "a dance b pog" and spans == [(2, 6, "dance"), (10, 12, "pog")]


async def test_convert_without_cache_state(rest):
    """A message in an uncached channel still converts (PartialMessageable, no guild object)."""
    src = DiscordSource(TOKEN, autostart=False)
    await src.client.login(TOKEN)
    state = src.client._connection
    payload = dict(PAYLOADS["MESSAGE_CREATE_plain"], channel_id="399999999999999999")
    message = discord.Message(state=state, channel=state._get_guild_channel(payload)[0], data=payload)
    m = discord_to_message(message)
    assert m.channel == "399999999999999999" and m.text.startswith("hello")
    await src.close()
