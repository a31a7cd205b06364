"""Per-category levels map to the right actions, with an explanation; the policy validates."""
import json

import pytest

from companion.character.config import CharacterConfig
from companion.moderation import ModerationPolicy
from companion.moderation.features import view_of
from companion.moderation.levels import action_for
from companion.moderation.moderator import Moderator
from companion.records import Toxicity
from tests.moderation_fakes import chat, tox_record


@pytest.mark.parametrize("level,score,action", [
    (0, 0.99, "allow"),  # off
    (1, 0.85, "allow"), (1, 0.92, "hold"), (1, 0.99, "hold"),  # lenient never removes by itself
    (2, 0.80, "hold"), (2, 0.95, "delete"),
    (3, 0.55, "allow"), (3, 0.65, "hold"), (3, 0.85, "delete"), (3, 0.93, "timeout"),
    (4, 0.45, "hold"), (4, 0.70, "delete"), (4, 0.81, "timeout"),
])
def test_level_threshold_table(level, score, action):
    policy = ModerationPolicy(levels={"insult": level})
    assert action_for(policy, "insult", score)[0] == action


def test_each_category_uses_its_own_level():
    policy = ModerationPolicy(levels={"insult": 1, "threat": 4, "sexual": 0, "identity_attack": 3})
    mod = Moderator(policy)
    cases = {
        "insult": ("hold", 0.95),  # level 1: only held
        "threat": ("timeout", 0.85),  # level 4: timeout at 0.80
        "sexual": ("allow", 0.99),  # level 0: off
        "identity_attack": ("delete", 0.85),  # level 3: delete at 0.80
    }
    for i, (cat, (want, score)) in enumerate(cases.items()):
        d = mod.decide(chat("x", user=f"u{i}"), tox_record(**{cat: score}), ts=float(i))
        assert d.action == want, (cat, d)
        if want != "allow":
            assert (d.category, d.score, d.level) == (cat, score, policy.levels[cat])
            assert d.threshold == getattr(policy.thresholds[d.level], want)
            assert cat.replace("_", " ") in d.reason and f"level {d.level}" in d.reason


def test_most_severe_category_wins_and_untargeted_swearing_never_acts():
    policy = ModerationPolicy(levels={"insult": 2, "threat": 3, "profanity": 4})
    mod = Moderator(policy)
    d = mod.decide(chat("x"), tox_record(insult=0.95, threat=0.92), ts=0)
    assert d.action == "timeout" and d.category == "threat"
    # profanity at level 4 acts only when aimed at someone
    assert mod.decide(chat("a", user="b"), tox_record(profanity=0.9, target="none"), ts=0).action == "allow"
    assert mod.decide(chat("a", user="c"), tox_record(profanity=0.9, target="person"), ts=0).action == "timeout"


def test_ban_is_never_an_action():
    policy = ModerationPolicy(levels={c: 4 for c in ("insult", "threat", "identity_attack")})
    mod = Moderator(policy)
    actions = set()
    for i in range(10):
        actions.add(mod.decide(chat("x", user="same"), tox_record(threat=1.0, insult=1.0), ts=float(i)).action)
    assert actions == {"timeout"}
    with pytest.raises(ValueError):
        ModerationPolicy.model_validate({"deny_action": "ban"})


def test_repeat_offender_escalates_along_the_ladder():
    mod = Moderator(ModerationPolicy(levels={"insult": 3}, timeout_s=[30, 300]))
    got = [mod.decide(chat("x", user="troll"), tox_record(insult=0.85), ts=t) for t in (0, 10, 20, 2000)]
    assert [(d.action, d.duration_s) for d in got] == [("delete", None), ("timeout", 30), ("timeout", 300),
                                                       ("delete", None)]  # window 600 s passed
    assert got[1].rule == "repeat" and "2 removed messages" in got[1].reason


def test_fallback_vector_when_categories_are_missing():
    v = view_of(Toxicity(score=0.9, label="hate", flagged=True))
    assert v.derived and v.scores["identity_attack"] == 0.9 and v.scores["insult"] == 0.0
    d = Moderator(ModerationPolicy()).decide(chat("x"), None, ts=0)
    assert d.action == "allow"
    rec = tox_record()
    rec.toxicity = Toxicity(score=0.7, label="offensive", flagged=True)  # no categories: the flag decides
    d = Moderator(ModerationPolicy()).decide(chat("x"), rec, ts=0)
    assert d.action == "delete" and d.rule == "flagged"


def test_flagged_without_a_category_over_threshold_is_held():
    d = Moderator(ModerationPolicy()).decide(chat("x"), tox_record(insult=0.3, flagged=True), ts=0)
    assert d.action == "hold" and d.rule == "flagged"


def test_policy_from_character_json_and_moderation_file(tmp_path):
    (tmp_path / "character.json").write_text(json.dumps({"moderation": {"levels": {"profanity": 2}}}))
    cfg = CharacterConfig.load(tmp_path)
    assert cfg.moderation.levels["profanity"] == 2 and cfg.moderation.levels["threat"] == 4
    f = tmp_path / "mod.json"
    f.write_text(json.dumps({"levels": {"insult": 1}, "thresholds": {"1": {"hold": 0.5}}}))
    merged = ModerationPolicy.from_file(f, base=cfg.moderation)
    assert merged.levels["insult"] == 1 and merged.levels["profanity"] == 2
    assert merged.thresholds[1].hold == 0.5 and merged.thresholds[4].timeout == 0.8
    for bad in ({"levels": {"insult": 5}}, {"levels": {"slurs": 2}}, {"thresholds": {"2": {"hold": 0.9, "delete": 0.5}}},
                {"unknown_key": 1}):
        f.write_text(json.dumps(bad))
        with pytest.raises(ValueError):
            ModerationPolicy.from_file(f)
    f.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ModerationPolicy.from_file(f)


def test_engine_reads_moderation_file_and_refuses_a_bad_one(tmp_path):
    from companion.cli import build_parser
    from companion.engine import ConfigError, Engine, EngineConfig
    from pipelines.noop_analyzer import NoopAnalyzer

    f = tmp_path / "mod.json"
    f.write_text(json.dumps({"levels": {"profanity": 2}, "deny_action": "timeout"}))
    args = build_parser().parse_args(["--moderation", str(f)])
    assert args.moderation == f
    engine = Engine(EngineConfig(data_dir=tmp_path / "d", moderation=f, memory=False, analytics=False,
                                 dashboard=False), analyzer=NoopAnalyzer())
    assert engine.character.moderator is engine.moderation  # one decision per message
    assert engine.moderation.policy.levels["profanity"] == 2 and engine.moderation.policy.deny_action == "timeout"
    f.write_text(json.dumps({"levels": {"profanity": 9}}))
    with pytest.raises(ConfigError, match="profanity"):
        Engine(EngineConfig(data_dir=tmp_path / "e", moderation=f, memory=False, analytics=False, dashboard=False),
               analyzer=NoopAnalyzer())
