"""The review queue: hold, then approve or deny through the real HTTP API; persisted across a
restart; every decision in the audit log."""
import json

import aiohttp
import pytest

from companion.moderation import ModerationPolicy, ModerationService
from dashboards import DashboardServer
from test_dashboard_api import FakeEngine
from tests.moderation_fakes import chat, tox_record

pytestmark = pytest.mark.timeout(60)


class RecordingBackend:
    def __init__(self):
        self.calls = []

    async def moderate(self, suggestion):
        self.calls.append((suggestion.action, suggestion.message_id, suggestion.channel, suggestion.duration_s))


def hold_three(service):
    """Three messages held for review (insult at level 1 only ever holds)."""
    out = []
    for i, text in enumerate(["you are kind of dumb", "ur trash at this", "nobody wants you here"]):
        sug = service.suggest(chat(text, user=f"u{i}", msg_id=f"m{i}"), tox_record(text, insult=0.93), ts=float(i))
        assert [s.action for s in sug] == ["hold"]
        out.append(sug[0])
    return out


@pytest.fixture
def policy():
    return ModerationPolicy(levels={"insult": 1})


async def test_queue_http_hold_approve_deny_and_restart(tmp_path, policy):
    engine = FakeEngine(tmp_path, character=False)  # moderation needs no character
    engine.moderation = ModerationService(policy, tmp_path, moderate=True)
    backend = RecordingBackend()
    engine.moderation.register_backend("twitch", backend)
    hold_three(engine.moderation)
    server = DashboardServer(engine, port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            base = server.url
            async with http.get(f"{base}/api/moderation/queue") as r:
                assert r.status == 200
                q = await r.json()
            assert q["pending"] == 3 and [i["message_id"] for i in q["items"]] == ["m0", "m1", "m2"]
            item = q["items"][0]
            d = item["decision"]
            assert (d["action"], d["category"], d["score"], d["threshold"], d["level"]) == ("hold", "insult", 0.93, 0.9, 1)
            assert "insult 0.93" in d["reason"] and item["text"] == "you are kind of dumb"

            ids = {i["message_id"]: i["id"] for i in q["items"]}
            async with http.post(f"{base}/api/moderation/{ids['m0']}", json={"decision": "deny"}) as r:
                assert r.status == 200
                out = await r.json()
            assert out["executed"] is True and out["action"] == "delete"
            assert backend.calls == [("delete", "m0", "chan", None)]
            async with http.post(f"{base}/api/moderation/{ids['m1']}", json={"decision": "approve"}) as r:
                assert (await r.json())["executed"] is False
            assert len(backend.calls) == 1  # approve leaves the message alone

            # Refusals: already decided, not JSON, a bad verdict.
            async with http.post(f"{base}/api/moderation/{ids['m0']}", json={"decision": "deny"}) as r:
                assert r.status == 404
            async with http.post(f"{base}/api/moderation/{ids['m2']}", data="decision=deny",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                assert r.status == 415
            async with http.post(f"{base}/api/moderation/{ids['m2']}", json={"decision": "ban"}) as r:
                assert r.status == 400
            # The dashboard's guard covers these routes: a cross-site page cannot deny for you.
            async with http.post(f"{base}/api/moderation/{ids['m2']}", json={"decision": "deny"},
                                 headers={"Origin": "http://evil.example"}) as r:
                assert r.status == 403
            async with http.post(f"{base}/api/moderation/{ids['m2']}", json={"decision": "deny"},
                                 headers={"Host": "evil.example"}) as r:
                assert r.status == 421
            async with http.get(f"{base}/api/moderation/queue") as r:
                assert [i["message_id"] for i in (await r.json())["items"]] == ["m2"]
    finally:
        await server.stop()
        engine.analytics.close()
        await engine.moderation.close()

    # A restart keeps what is pending, and the two decisions became labelled examples.
    again = ModerationService(policy, tmp_path, moderate=True)
    assert [i.message_id for i in again.queue.items()] == ["m2"]
    cal = again.calibrator.summary()["chan"]
    assert cal["examples"] == 2 and cal["sources"] == {"review_deny": 1, "review_approve": 1}
    audit = [json.loads(line) for line in (tmp_path / "moderation" / "audit.jsonl").read_text().splitlines()]
    events = [a["event"] for a in audit]
    assert events.count("decision") == 3 and events.count("review") == 2 and "executed" in events
    deny = next(a for a in audit if a["event"] == "review" and a["outcome"]["decision"] == "deny")
    assert deny["item"]["decision"]["category"] == "insult" and deny["outcome"]["executed"] is True


async def test_deny_without_moderate_is_logged_not_executed(tmp_path, policy):
    service = ModerationService(policy, tmp_path, moderate=False)
    backend = RecordingBackend()
    service.register_backend("twitch", backend)
    held = hold_three(service)
    item_id = service.queue.items()[0].id
    out = await service.review(item_id, "deny")
    assert out["executed"] is False and "--moderate is off" in out["why"] and backend.calls == []
    assert not await service.execute(held[1])  # holds are never executed


async def test_queue_is_bounded(tmp_path):
    service = ModerationService(ModerationPolicy(levels={"insult": 1}, queue_size=2), tmp_path)
    hold_three(service)
    assert [i.message_id for i in service.queue.items()] == ["m1", "m2"]
    assert service.stats.queue_dropped == 1 and service.queue.dropped == 1


async def test_forgetting_a_viewer_drops_their_held_messages(tmp_path, policy):
    engine = FakeEngine(tmp_path, character=False)
    engine.moderation = ModerationService(policy, tmp_path)
    hold_three(engine.moderation)
    server = DashboardServer(engine, port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.delete(f"{server.url}/api/viewers/twitch:u1") as r:
                assert (await r.json())["forgotten"]["moderation"] == {"held": 1}
            async with http.get(f"{server.url}/api/moderation/queue") as r:
                assert [i["user"] for i in (await r.json())["items"]] == ["u0", "u2"]
    finally:
        await server.stop()
        engine.analytics.close()
    assert "u1" not in (tmp_path / "moderation" / "queue.json").read_text()
