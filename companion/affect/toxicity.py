"""The record's ``toxicity`` field from the toxicity head's outputs and the phrase rules.

Fields (DESIGN.md record schema):
- ``score``: 1 - P(none) of the 3-class head (hate / offensive / none): how toxic the language is,
  swearing included. Not a moderation decision.
- ``label``: the 3-class argmax (Davidson's classes, hate bias applied).
- ``categories``: insult, identity_attack, harassment, threat, sexual, self_harm, profanity, each
  0..1: the head's sigmoid outputs, raised to ``RULE_SCORE`` where a phrase rule fires (threats and
  self-harm incitement: ``affect.threats``; sexual harassment, profanity, an insult word aimed
  at someone, a harassment phrase (brigading, stalking, doxxing) and a demeaning generalisation
  about an identity group or a slur: ``toxicity_lexicon``).
- ``target``: person / group / none, by rule (``toxicity_lexicon.target_of``), reported only when
  some harm category reaches the targeted threshold; otherwise ``none``.
- ``flagged``: "a moderator would act": a threat, self-harm incitement or sexual-harassment phrase
  (the rules), or targeted harm (target person or group and the largest harm category >=
  ``thresholds.targeted``), or identity_attack >= ``thresholds.identity`` whoever it is aimed at
  (slurs). Profanity is no harm category, so swearing aimed at no one ("this boss is fucking
  impossible") never flags; nor does a learned threat/sexual score without a target ("kill the
  boss", "jump on the box").

System notices (``affect.notices``: subs, gifts, raids, bits arriving as plain lines) and messages
whose ``kind`` is already an event are not chat: their toxicity is none and never flagged.

The thresholds are chosen on the chat dev set by ``choose_thresholds`` (bootstrap rule below) and
stored in the toxicity artifact's config (``thresholds_from_config``; the analyser holds them as
``Analyzer.flag_thresholds``); ``DEFAULT_THRESHOLDS`` is the fallback. Moderation
(``companion.moderation``) reads the per-category scores and target and applies its own
per-category levels; ``HARM`` names the categories that count as harm (profanity does not).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.affect.notices import is_system_notice
from companion.affect.threats import threat_kind
from companion.affect.toxicity_lexicon import (harassment_phrase, identity_attack_phrase, insult_phrase, is_profane,
                                              sexual_harassment, target_of)
from companion.records import TOXICITY_CATEGORIES, TOXICITY_LABELS, Toxicity

# Output layout of the toxicity head (one MLP, several views of the same hidden layer).
LAYOUT = {"label": (0, 3), "categories": (3, 10), "conda": (10, 14), "gametox": (14, 20)}
OUT_DIM = 20
HARM = ("insult", "identity_attack", "harassment", "threat", "sexual", "self_harm")  # profanity is not harm
RULE_SCORE = 0.95  # a phrase rule's category score: above every threshold a level uses
_IDX = {c: i for i, c in enumerate(TOXICITY_CATEGORIES)}
_HARM_IDX = [_IDX[c] for c in HARM]


@dataclass(frozen=True, slots=True)
class FlagThresholds:
    """``targeted``: harm aimed at a person/group; ``identity``: identity_attack whoever the target."""

    targeted: float = 0.5
    identity: float = 0.9

    def to_dict(self) -> dict[str, float]:
        return {"targeted": round(self.targeted, 3), "identity": round(self.identity, 3)}


DEFAULT_THRESHOLDS = FlagThresholds()  # only for a head whose config holds none


def thresholds_from_config(extra: dict) -> FlagThresholds:
    """The dev-chosen thresholds stored in the head's config (``DEFAULT_THRESHOLDS`` without)."""
    d = extra.get("flag_thresholds")
    return FlagThresholds(**d) if d else DEFAULT_THRESHOLDS


@dataclass(frozen=True, slots=True)
class RuleHits:
    """What the phrase rules find in one message."""

    threat: str | None  # "threat" | "self_harm" | None
    sexual: bool
    profane: bool
    notice: bool
    insult: bool = False  # an insult word aimed at someone (raises the insult score, flags through the target path)
    harassment: bool = False  # a harassment phrase (brigading, stalking, doxxing): raises harassment, aimed at a person
    identity: bool = False  # a demeaning generalisation about a group or a slur: raises identity_attack

    @property
    def severe(self) -> bool:
        """A threat, self-harm or sexual-harassment phrase: flags whatever the head says."""
        return self.threat is not None or self.sexual


def rule_hits(text: str) -> RuleHits:
    """Run every phrase rule on ``text`` once."""
    return RuleHits(threat_kind(text), sexual_harassment(text), is_profane(text), is_system_notice(text),
                    insult_phrase(text), harassment_phrase(text), identity_attack_phrase(text))


def with_rules(cats: np.ndarray, hits: RuleHits) -> np.ndarray:
    """Category scores (7,) raised where a rule fired."""
    c = cats.astype(np.float64).copy()
    if hits.threat is not None:
        c[_IDX[hits.threat]] = max(c[_IDX[hits.threat]], RULE_SCORE)
    if hits.sexual:
        c[_IDX["sexual"]] = max(c[_IDX["sexual"]], RULE_SCORE)
    if hits.profane:
        c[_IDX["profanity"]] = max(c[_IDX["profanity"]], RULE_SCORE)
    if hits.insult:
        c[_IDX["insult"]] = max(c[_IDX["insult"]], RULE_SCORE)
    if hits.harassment:
        c[_IDX["harassment"]] = max(c[_IDX["harassment"]], RULE_SCORE)
    if hits.identity:
        c[_IDX["identity_attack"]] = max(c[_IDX["identity_attack"]], RULE_SCORE)
    return c


def decide(cats: np.ndarray, target: str, rule: bool, th: FlagThresholds) -> tuple[str, bool]:
    """(reported target, flagged) from the rule-raised category scores, the rule target and
    whether a severe phrase rule fired."""
    harm = float(cats[_HARM_IDX].max())
    tgt = target if harm >= th.targeted or rule else "none"
    flagged = rule or (tgt != "none" and harm >= th.targeted) or float(cats[_IDX["identity_attack"]]) >= th.identity
    return tgt, bool(flagged)


def not_chat() -> Toxicity:
    """The toxicity of a system notice or an event (sub, raid, bits): not scored as chat."""
    return Toxicity(score=0.0, label="none", flagged=False, categories={c: 0.0 for c in TOXICITY_CATEGORIES},
                    target="none")


def assemble(label_probs: np.ndarray | None, cats: np.ndarray | None, text: str, hits: RuleHits,
             th: FlagThresholds) -> Toxicity:
    """One record's ``Toxicity``. Without a model (``label_probs``/``cats`` None: degraded mode)
    only the rules score: threat, self_harm, sexual and profanity; ``score`` and ``label`` stay None."""
    if hits.notice:
        return not_chat()
    c = with_rules(np.zeros(len(TOXICITY_CATEGORIES)) if cats is None else cats, hits)
    tgt, flagged = decide(c, target_of(text), hits.severe, th)
    cat_d = {name: float(round(float(v), 4)) for name, v in zip(TOXICITY_CATEGORIES, c)}
    if label_probs is None:
        return Toxicity(score=None, label=None, flagged=flagged, categories=cat_d, target=tgt)
    return Toxicity(score=float(round(float(1.0 - label_probs[2]), 4)), label=TOXICITY_LABELS[int(label_probs.argmax())],
                    flagged=flagged, categories=cat_d, target=tgt)


def flags_for(cats: np.ndarray, targeted: np.ndarray, rule: np.ndarray, th: FlagThresholds) -> np.ndarray:
    """Vectorised ``decide`` over (n, 7) rule-raised scores, (n,) bool rule targets and (n,) bool
    severe-rule hits."""
    harm = cats[:, _HARM_IDX].max(1)
    return rule | (targeted & (harm >= th.targeted)) | (cats[:, _IDX["identity_attack"]] >= th.identity)


def choose_thresholds(cats: np.ndarray, targeted: np.ndarray, rule: np.ndarray, y: np.ndarray,
                      unlabelled: tuple[np.ndarray, np.ndarray, np.ndarray], max_false_flag: float = 0.01,
                      n_boot: int = 1000, seed: int = 13) -> tuple[FlagThresholds, dict]:
    """The bootstrap rule for the flag thresholds, on dev.

    ``unlabelled`` is (cats, targeted, rule) of the unlabelled real chat dev lines. For every
    (targeted, identity) pair on a grid, draw ``n_boot`` bootstrap resamples of the labelled
    dev lines (``y`` 1 = a moderator would act) and compute recall and the false-flag rate on each.
    Keep the pairs whose 90th-percentile false-flag rate is <= ``max_false_flag`` and whose flag
    rate on the unlabelled real chat dev lines is <= ``max_false_flag`` as well; among them take the
    one with the highest 10th-percentile recall (ties: lower 90th-percentile false-flag rate, then
    the higher thresholds). If no pair meets the budget, the one that false-flags least. A point that only just meets the budget on dev's exact sample misses it
    on a resample, so it loses to one that holds on most resamples."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    # resample positives and negatives separately, so each resample has both
    Wp = np.stack([np.bincount(rng.integers(0, len(pos), len(pos)), minlength=len(pos)) for _ in range(n_boot)])
    Wn = np.stack([np.bincount(rng.integers(0, len(neg), len(neg)), minlength=len(neg)) for _ in range(n_boot)])
    grid_t = np.round(np.arange(0.2, 0.96, 0.05), 3)
    grid_s = np.append(np.round(np.arange(0.5, 0.99, 0.05), 3), 1.01)  # 1.01: identity only when targeted
    best, best_key, table, fallback = DEFAULT_THRESHOLDS, None, [], []
    for t in grid_t:
        for s in grid_s:
            th = FlagThresholds(float(t), float(s))
            f = flags_for(cats, targeted, rule, th).astype(np.float64)
            rec = (Wp @ f[pos]) / len(pos)
            ffr = (Wn @ f[neg]) / len(neg)
            unl = float(flags_for(*unlabelled, th).mean()) if len(unlabelled[0]) else 0.0
            r10, f90 = float(np.percentile(rec, 10)), float(np.percentile(ffr, 90))
            table.append((float(t), float(s), r10, f90, unl))
            if f90 > max_false_flag or unl > max_false_flag:
                fallback.append(((-max(f90, unl), r10, t, s), th))
                continue
            key = (r10, -f90, t, s)
            if best_key is None or key > best_key:
                best, best_key = th, key
    if best_key is None:  # nothing meets the budget: the least false flagging, then recall
        best = max(fallback, key=lambda kv: kv[0])[1]
    report = {"rule": "max P10 bootstrap recall s.t. P90 false-flag <= %.3f and unlabelled flag rate <= %.3f"
              % (max_false_flag, max_false_flag), "n_boot": n_boot, "chosen": best.to_dict(),
              "dev_recall_p10": None if best_key is None else round(best_key[0], 4),
              "dev_false_flag_p90": None if best_key is None else round(-best_key[1], 4),
              "feasible": best_key is not None}
    return best, report
