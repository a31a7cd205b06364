"""Helix moderation against a fake Helix on loopback: endpoints, scopes checked up front, rate
limits (token bucket, Ratelimit headers, the moderator chat window), a 429 and a 401 handled."""
import time

import pytest

from companion.connectors.ratelimit import SlidingWindowLimiter
from companion.connectors.twitch_helix import (REQUIRED_SCOPES, HelixAuthError, HelixClient, HelixModerator,
                                               TokenBucket)
from companion.moderation import ModerationPolicy, ModerationService
from companion.recommendation import ModerationSuggestion
from tests.helix_fake_server import FakeHelix

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def helix():
    server = await FakeHelix().start()
    yield server
    await server.stop()


@pytest.fixture
async def moderator(helix):
    mod = HelixModerator.from_env(helix.env())
    await mod.start()
    yield mod
    await mod.close()


def sug(action, msg_id="msg-1", user="troll", user_id="2002", duration=None, channel="streamer"):
    return ModerationSuggestion(msg_id, user, action, "insult 0.95 >= 0.90", duration, platform="twitch",
                                channel=channel, user_id=user_id)


async def test_delete_and_timeout_hit_the_right_endpoints(helix, moderator):
    assert moderator.client.info.user_id == "9001" and set(REQUIRED_SCOPES) <= set(moderator.client.info.scopes)
    await moderator.moderate(sug("delete"))
    await moderator.moderate(sug("timeout", user_id=None, duration=600))
    assert helix.deleted == [("1001", "msg-1")]
    assert helix.timeouts == [{"broadcaster_id": "1001", "user_id": "2002", "duration": 600,
                               "reason": "insult 0.95 >= 0.90"}]
    calls = [(r["method"], r["path"]) for r in helix.requests]
    assert calls == [("GET", "/helix/users"), ("DELETE", "/helix/moderation/chat"),
                     ("GET", "/helix/users"), ("POST", "/helix/moderation/bans")]  # broadcaster cached
    delete = helix.requests[1]
    assert delete["query"] == {"broadcaster_id": "1001", "moderator_id": "9001", "message_id": "msg-1"}
    assert all(r["client_id"] == "cid-123" and r["auth"] == "Bearer tok-abc" for r in helix.requests)
    assert "tok-abc" not in repr(moderator.client)
    with pytest.raises(ValueError):
        await moderator.moderate(sug("ban"))  # never a ban


async def test_missing_scope_is_refused_up_front(helix):
    helix.scopes = ["moderator:manage:chat_messages"]
    mod = HelixModerator.from_env(helix.env())
    with pytest.raises(HelixAuthError, match="moderator:manage:banned_users"):
        await mod.start()
    await mod.close()
    assert helix.requests == []  # nothing was attempted
    with pytest.raises(HelixAuthError, match="TWITCH_CLIENT_ID"):
        HelixModerator.from_env({})


async def test_429_waits_until_reset_and_retries(helix, moderator):
    helix.answer_429 = 1
    helix.retry_after_s = 0.3
    await moderator.moderate(sug("delete", msg_id="m-429"))
    deletes = [r for r in helix.requests if r["path"] == "/helix/moderation/chat"]
    assert len(deletes) == 1 and helix.deleted == [("1001", "m-429")]
    first, retry = helix.requests[0], helix.requests[1]  # the users lookup got the 429, then retried
    assert first["path"] == retry["path"] == "/helix/users"
    assert retry["t"] - first["t"] >= 0.25  # waited for Ratelimit-Reset
    assert moderator.client.stats.rate_limited == 1


async def test_ratelimit_remaining_zero_waits_for_the_reset(helix, moderator):
    await moderator.moderate(sug("delete", msg_id="a"))
    helix.remaining = 1  # the next answer says 0 remain, reset in 0.4 s
    helix.reset_at = time.time() + 0.4
    await moderator.moderate(sug("delete", msg_id="b"))
    reset = helix.reset_at
    await moderator.moderate(sug("delete", msg_id="c"))
    last = helix.requests[-1]
    assert last["query"]["message_id"] == "c" and last["t"] >= reset - 0.05
    assert [m for _, m in helix.deleted] == ["a", "b", "c"]


async def test_401_stops_acting_with_a_clear_error_and_is_counted(tmp_path, helix):
    service = ModerationService(ModerationPolicy(), tmp_path, moderate=True)
    await service.start([], env=helix.env())
    assert "twitch" in service.backends
    helix.revoked = True
    assert await service.execute(sug("delete", msg_id="x"))  # queued
    await service.drain()
    assert service.stats.auth_errors == 1 and service.stats.executed == 0
    client = service.backends["twitch"].client
    assert client.stats.disabled and client.stats.auth_failures == 1 and helix.validations == 2  # start + re-check
    n = len(helix.requests)
    assert await service.execute(sug("delete", msg_id="y"))
    await service.drain()
    assert len(helix.requests) == n and service.stats.auth_errors == 2  # stopped: nothing more sent
    audit = (tmp_path / "moderation" / "audit.jsonl").read_text()
    assert "execute_failed" in audit and "token refused" in audit
    await service.close()


async def test_token_bucket_and_moderator_chat_window_pace_requests():
    slept = []
    now = [0.0]

    async def fake_sleep(s):
        slept.append(round(s, 3))
        now[0] += s

    bucket = TokenBucket(2, 1.0, clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(3):
        await bucket.take()
    assert slept == [1.0]  # the third token needed one second of refill

    window = SlidingWindowLimiter(2, 30.0, clock=lambda: now[0], sleep=fake_sleep)
    client = HelixClient("cid", __import__("companion.connectors.redact", fromlist=["Secret"]).Secret("t"))
    client.chat_window = window
    client.info = type("I", (), {"user_id": "9"})()

    async def ok(*a, **k):
        return {}

    client.request = ok
    for i in range(3):
        await client.delete_message("1", str(i))
    assert slept[-1] == pytest.approx(30.0, abs=0.01)  # the third action waited for the moderator window
