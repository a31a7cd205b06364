"""Moderator actions (CLEARMSG, CLEARCHAT, bans, Discord deletions, review decisions) become
per-channel labelled examples; they change that channel's calibration (and only that channel's),
the decision says so, and it all persists across a restart."""
import pytest

from companion.connectors.base import ModerationEvent, ModerationKind
from companion.moderation import ModerationPolicy, ModerationService
from tests.moderation_fakes import chat, tox_record


def swear(i, channel, ts, user=None):
    """Untargeted profanity: the default policy allows it (profanity is level 0)."""
    return (chat("this fucking boss man", user=user or f"s{i}", channel=channel, msg_id=f"{channel}-p{i}", ts=ts),
            tox_record(profanity=0.9, target="none"))


def clean(i, channel, ts):
    return (chat("nice run", user=f"c{i}", channel=channel, msg_id=f"{channel}-c{i}", ts=ts),
            tox_record(target="none"))


def clearmsg(channel, msg_id, platform="twitch"):
    return ModerationEvent(platform=platform, channel=channel, kind=ModerationKind.CLEARMSG, target_msg_id=msg_id)


def train_strict_channel(service, n=60):
    """The 'strict' channel's moderators delete every swear; clean lines stay up."""
    for i in range(n):
        ts = i * 10.0
        for msg, rec in (swear(i, "strict", ts), clean(i, "strict", ts + 1)):
            service.suggest(msg, rec, ts)
        assert service.observe(clearmsg("strict", f"strict-p{i}")) == 1


def test_moderators_change_the_channel_calibration_and_it_persists(tmp_path):
    policy = ModerationPolicy()
    service = ModerationService(policy, tmp_path)
    probe_msg, probe_rec = swear(999, "strict", 10_000.0)
    assert service.moderator.decide(probe_msg, probe_rec, 10_000.0).action == "allow"  # the default
    train_strict_channel(service)

    cal = service.calibrator.summary()["strict"]
    assert cal["ready"] and cal["sources"]["clearmsg"] == 60 and cal["sources"]["implicit"] >= 20
    d = service.moderator.decide(probe_msg, probe_rec, 10_000.0)
    assert d.action == "delete" and d.rule == "calibration"
    assert d.calibration.changed and d.calibration.base_action == "allow" and d.calibration.p_removed >= 0.5
    assert "this channel's moderators remove" in d.reason
    # A clean line is still allowed there, and the other channel keeps the default.
    c_msg, c_rec = clean(999, "strict", 10_000.0)
    assert service.moderator.decide(c_msg, c_rec, 10_000.0).action == "allow"
    o_msg, o_rec = swear(999, "other", 10_000.0)
    assert service.moderator.decide(o_msg, o_rec, 10_000.0).action == "allow"

    # The channel's own threshold for profanity now exists (the policy has none: level 0).
    thresholds = service.calibrator.channel_thresholds("strict", target="none")
    assert thresholds["profanity"] is not None and thresholds["profanity"] <= 0.9
    assert service.calibrator.channel_thresholds("other") == {}
    assert "act_thresholds" in service.state()["calibration"]["strict"]

    # Restart: the examples in --data-dir rebuild the same calibration.
    again = ModerationService(policy, tmp_path)
    assert again.calibrator.summary()["strict"] == service.calibrator.summary()["strict"]
    d2 = again.moderator.decide(probe_msg, probe_rec, 10_000.0)
    assert d2.action == "delete" and d2.calibration.p_removed == d.calibration.p_removed


def test_clearchat_ban_and_discord_deletions_are_labels(tmp_path):
    service = ModerationService(ModerationPolicy(), tmp_path)
    for i in range(5):
        msg, rec = swear(i, "c", float(i), user="repeat")
        msg.user_id = "77"
        service.suggest(msg, rec, float(i))
    timeout = ModerationEvent(platform="twitch", channel="c", kind=ModerationKind.CLEARCHAT, target_user="repeat",
                              target_user_id="77", duration=600)
    assert service.observe(timeout) == 3  # the user's latest messages
    ban = ModerationEvent(platform="twitch", channel="c", kind=ModerationKind.CLEARCHAT, target_user="repeat")
    assert service.observe(ban) == 0  # already labelled
    whole_chat = ModerationEvent(platform="twitch", channel="c", kind=ModerationKind.CLEARCHAT)
    assert service.observe(whole_chat) == 0  # a /clear says nothing about one message
    dmsg, drec = swear(9, "300", 9.0)
    dmsg.platform = "discord"
    service.suggest(dmsg, drec, 9.0)
    assert service.observe(clearmsg("300", dmsg.id, platform="discord")) == 1
    sources = {ch: s["sources"] for ch, s in service.calibrator.summary().items()}
    assert sources == {"c": {"clearchat": 3}, "300": {"discord_delete": 1}}
    assert service.calibrator.summary()["300"]["removed"] == 0.5  # authors delete their own messages too
    assert service.observe(clearmsg("c", "never-seen")) == 0


async def test_reviewers_approving_relaxes_the_channel(tmp_path):
    """A channel whose reviewers approve every held insult (and remove threats) stops having
    insults held."""
    policy = ModerationPolicy(levels={"insult": 1})
    service = ModerationService(policy, tmp_path)
    for i in range(50):
        service.suggest(chat("ur bad lol", user=f"u{i}", channel="chill", msg_id=f"h{i}", ts=float(i)),
                        tox_record(insult=0.95), float(i))
        held = next((item for item in service.queue.items() if item.message_id == f"h{i}"), None)
        if held is not None:  # once calibrated, the channel's insults are no longer held
            await service.review(held.id, "approve")
        service.suggest(chat("i will hurt you", user=f"t{i}", channel="chill", msg_id=f"thr{i}", ts=float(i)),
                        tox_record(threat=0.9), float(i))
        assert service.observe(clearmsg("chill", f"thr{i}")) == 1
    approved = service.calibrator.summary()["chill"]["sources"]["review_approve"]
    assert 20 <= approved < 50  # the later ones were let through without a reviewer
    d = service.moderator.decide(chat("ur bad lol", user="new", channel="chill"), tox_record(insult=0.95), 100.0)
    assert d.action == "allow" and d.rule == "calibration" and d.calibration.base_action == "hold"
    assert "leave messages like this" in d.reason
    threat = service.moderator.decide(chat("i will hurt you", user="x", channel="chill"), tox_record(threat=0.9), 100.0)
    assert threat.action == "timeout"  # timeouts are never relaxed
    elsewhere = service.moderator.decide(chat("ur bad lol", user="new", channel="else"), tox_record(insult=0.95), 100.0)
    assert elsewhere.action == "hold"
    await service.close()


def test_calibration_off_leaves_decisions_alone(tmp_path):
    service = ModerationService(ModerationPolicy.model_validate({"calibration": {"enabled": False}}), tmp_path)
    train_strict_channel(service, n=30)
    msg, rec = swear(999, "strict", 10_000.0)
    assert service.moderator.decide(msg, rec, 10_000.0).action == "allow"


@pytest.mark.parametrize("n", [5])
def test_too_few_examples_do_not_calibrate(tmp_path, n):
    service = ModerationService(ModerationPolicy(), tmp_path)
    train_strict_channel(service, n=n)
    msg, rec = swear(999, "strict", 10_000.0)
    d = service.moderator.decide(msg, rec, 10_000.0)
    assert d.action == "allow" and d.calibration is None
