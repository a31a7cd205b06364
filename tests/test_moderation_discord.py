"""Discord moderation: delete the message and time the member out through discord.py's real HTTP
client against a loopback stand-in for discord.com (as in test_connectors_discord)."""
from datetime import datetime, timedelta, timezone

import discord
import discord.http
import pytest
from aiohttp import web

from companion.connectors.base import SendError
from companion.connectors.discord_bot import DiscordSource
from companion.moderation import ModerationPolicy, ModerationService
from companion.recommendation import ModerationSuggestion
from test_connectors_discord import CHANNEL, PAYLOADS, TOKEN, FakeDiscordREST, _json

pytestmark = pytest.mark.timeout(60)
GUILD = "200000000000000001"
VIC = "600000000000000002"


class FakeDiscordModeration(FakeDiscordREST):
    """Adds message deletion and member fetch/edit (timeouts) to the fake REST API."""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._app)
        app.router.add_get("/api/v10/channels/{cid}", self._channel)
        app.router.add_delete("/api/v10/channels/{cid}/messages/{mid}", self._delete_message)
        app.router.add_get("/api/v10/guilds/{gid}/members/{uid}", self._member)
        app.router.add_patch("/api/v10/guilds/{gid}/members/{uid}", self._edit_member)
        self.missing_messages: set[str] = set()
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/v10"

    def _member_payload(self, uid: str, until: str | None = None) -> dict:
        return {"user": {"id": uid, "username": "viewer_vic", "discriminator": "0", "global_name": "Vic", "avatar": None},
                "nick": None, "roles": [], "joined_at": "2023-03-01T00:00:00.000000+00:00", "deaf": False, "mute": False,
                "flags": 0, "communication_disabled_until": until}

    async def _delete_message(self, request):
        entry = await self._record(request)
        entry["reason"] = request.headers.get("X-Audit-Log-Reason")
        if request.match_info["mid"] in self.missing_messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return web.Response(status=204)

    async def _member(self, request):
        await self._record(request)
        return _json(self._member_payload(request.match_info["uid"]))

    async def _edit_member(self, request):
        entry = await self._record(request)
        entry["reason"] = request.headers.get("X-Audit-Log-Reason")
        return _json(self._member_payload(request.match_info["uid"], entry["json"]["communication_disabled_until"]))


@pytest.fixture
async def rest(monkeypatch):
    server = FakeDiscordModeration()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.base)
    yield server
    await server.stop()


@pytest.fixture
async def source(rest):
    src = DiscordSource(TOKEN, autostart=False)
    await src.client.login(TOKEN)
    src.client._connection.parse_guild_create(PAYLOADS["GUILD_CREATE"])
    yield src
    await src.close()


def sug(action, duration=None, msg_id="700000000000000001", channel=CHANNEL):
    return ModerationSuggestion(msg_id, "viewer_vic", action, "harassment 0.93 >= 0.90, level 3", duration,
                                platform="discord", channel=channel, user_id=VIC)


async def test_delete_and_timeout_through_the_service(tmp_path, source, rest):
    service = ModerationService(ModerationPolicy(), tmp_path, moderate=True)
    await service.start([("discord", source)])
    assert service.backends["discord"] is source
    before = datetime.now(timezone.utc)
    assert await service.execute(sug("delete"))
    assert await service.execute(sug("timeout", duration=600))
    await service.drain()
    assert service.stats.executed == 2 and service.stats.failed == 0
    deletes = [r for r in rest.requests if r["method"] == "DELETE"]
    assert [d["path"] for d in deletes] == [f"/api/v10/channels/{CHANNEL}/messages/700000000000000001"]
    patch = next(r for r in rest.requests if r["method"] == "PATCH")
    assert patch["path"] == f"/api/v10/guilds/{GUILD}/members/{VIC}"
    until = datetime.fromisoformat(patch["json"]["communication_disabled_until"])
    assert timedelta(seconds=590) <= until - before <= timedelta(seconds=620)
    assert "harassment" in (patch["reason"] or "")  # the reason reaches Discord's audit log
    assert all(r["auth"] == f"Bot {TOKEN}" for r in rest.requests)
    await service.close()


async def test_timeout_is_capped_and_refusals_raise(source, rest):
    await source.moderate(sug("timeout", duration=90 * 24 * 3600))
    patch = next(r for r in rest.requests if r["method"] == "PATCH")
    until = datetime.fromisoformat(patch["json"]["communication_disabled_until"])
    assert until - datetime.now(timezone.utc) <= timedelta(days=28, seconds=5)
    rest.missing_messages.add("700000000000000009")
    with pytest.raises(SendError, match="404"):
        await source.moderate(sug("delete", msg_id="700000000000000009"))
    with pytest.raises(SendError):
        await source.moderate(sug("ban"))
    with pytest.raises(SendError):
        await source.moderate(sug("delete", channel="not-a-number"))
