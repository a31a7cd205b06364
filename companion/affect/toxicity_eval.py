"""Chat-domain evaluation of the toxicity signal: the hand-written stream-chat test set, the
unlabelled Twitch lines, GameTox test (the seeded split), CONDA valid. ``evaluate`` adds these rows.

Every number goes through the analyser's own assembly (``affect.toxicity.assemble`` on the head
outputs and the phrase rules), so it measures the shipped ``flagged`` / ``categories``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.affect import datasets as ds
from companion.affect import metrics as M
from companion.affect.features_cache import EncoderSpec, cached_features
from companion.affect.heads import AffectHeads
from companion.affect.toxicity import assemble, rule_hits, thresholds_from_config
from companion.affect.train_toxicity import (TWITCH_HELDOUT_PARTS, bags_for, evalset, head_views, twitch_lines,
                                             twitch_part)
from companion.records import TOXICITY_CATEGORIES, Toxicity


def records_for(heads: AffectHeads, feats: np.ndarray, texts: list[str]) -> list[Toxicity]:
    """The analyser's ``toxicity`` for each text (``feats``: the encoder's features)."""
    out = heads.predict(feats, texts=texts)
    th = thresholds_from_config(heads.heads["toxicity"].config["extra"])
    cats = out.toxicity_categories
    return [assemble(out.toxicity[i], None if cats is None else cats[i], t, rule_hits(t), th)
            for i, t in enumerate(texts)]


def chat_set_rows(heads: AffectHeads, name: str, cache: Path, spec: EncoderSpec) -> dict:
    """Targeted recall, ordinary flagged rate, per-category recall and target accuracy on a chat set."""
    rows = evalset(name)
    texts = [r["text"] for r in rows]
    tox = records_for(heads, cached_features(f"{name}_evalset", texts, cache, spec), texts)
    flagged = np.array([t.flagged for t in tox])
    targeted = np.array([r["targeted"] for r in rows])
    out = {"n_targeted": int(targeted.sum()), "n_ordinary": int((~targeted).sum()),
           "targeted_recall": float(flagged[targeted].mean()), "ordinary_flagged": float(flagged[~targeted].mean()),
           "ordinary_flagged_lines": [texts[i] for i in np.flatnonzero(flagged & ~targeted)],
           "missed_lines": [texts[i] for i in np.flatnonzero(~flagged & targeted)]}
    for cat in sorted({r["category"] for r in rows if r["targeted"]}):
        sel = np.array([r["category"] == cat for r in rows])
        top = np.array([max(t.categories, key=t.categories.get) == cat if t.categories else False for t in tox])
        out[f"recall_{cat}"] = float(flagged[sel].mean())
        out[f"top_category_is_{cat}"] = float(top[sel].mean())
    hit = [t.target == r["target"] for t, r in zip(tox, rows) if r["targeted"]]
    out["target_accuracy_on_targeted"] = float(np.mean(hit))
    notices = [t.flagged for t, r in zip(tox, rows) if r["type"] == "notice"]
    out["notices_flagged"] = int(sum(notices))
    return out


def twitch_rows(heads: AffectHeads, data: Path, cache: Path, spec: EncoderSpec, sample: int = 40) -> dict:
    """Flag rate on every unlabelled Twitch line (repeats counted, as they arrived) and on the
    held-out part (never seen in training or threshold choice), with a seeded sample of what is flagged."""
    tw, F = twitch_lines(data, cache, spec)
    tox = records_for(heads, F, tw)
    flag = {t: x.flagged for t, x in zip(tw, tox)}
    lines = ds.twitch_unlabelled(data)
    all_f = np.array([flag[t] for t in lines])
    held = np.array([twitch_part(t) in TWITCH_HELDOUT_PARTS for t in lines])
    flagged_unique = [t for t in tw if flag[t]]
    rng = np.random.default_rng(ds.SEED)
    pick = rng.choice(len(flagged_unique), size=min(sample, len(flagged_unique)), replace=False) if flagged_unique else []
    cats: dict[str, int] = {}
    for t, x in zip(tw, tox):
        if x.flagged:
            top = max(x.categories, key=x.categories.get)
            cats[top] = cats.get(top, 0) + 1
    return {"twitch_unlabelled_flagged": float(all_f.mean()), "twitch_unlabelled_n": len(lines),
            "twitch_heldout_flagged": float(all_f[held].mean()), "twitch_heldout_n": int(held.sum()),
            "twitch_flagged_distinct": len(flagged_unique), "twitch_flagged_top_category": cats,
            "twitch_flagged_sample": [flagged_unique[i] for i in pick]}


def dataset_rows(heads: AffectHeads, data: Path, artifacts: Path, cache: Path, spec: EncoderSpec) -> dict:
    """GameTox test (seeded split): toxic-vs-not F1 and 6-class macro-F1 from the head's GameTox view,
    and toxic-vs-not through the generic ``score``; CONDA valid: 4-intent macro-F1 from its view."""
    out: dict = {}
    tox = heads.heads["toxicity"]
    bias = float(tox.config["extra"].get("hate_bias", 0.0))
    if tox.config["out_dim"] < 20:
        return out
    ids = ds.gametox_split_ids(data, artifacts / "gametox_split.json")
    gt = ds.gametox(data, "test", ids)
    x = heads.norm.forward(_t(cached_features("gametox_test", gt.texts, cache, spec)))
    v = head_views(tox, x, bias, bags_for(tox, gt.texts))
    toxic = gt.y != 0
    # the GameTox dev-chosen threshold on P(toxic) (0.5 for a head trained before it was chosen)
    t = float(tox.config["extra"].get("gametox_toxic_threshold", 0.5))
    out["gametox_test_toxic_f1"] = float(M.f1_score(toxic, 1 - v["gametox"][:, 0] >= t))
    out["gametox_toxic_threshold"] = t
    out["gametox_test_macro_f1_6"] = M.macro_f1(gt.y, v["gametox"].argmax(1))
    out["gametox_test_toxic_f1_generic_score"] = float(M.f1_score(toxic, v["label"][:, 2] < 0.5))
    cd = ds.conda(data, "valid")
    x = heads.norm.forward(_t(cached_features("conda_valid", cd.texts, cache, spec)))
    v = head_views(tox, x, bias, bags_for(tox, cd.texts))
    out["conda_valid_intent_macro_f1"] = M.macro_f1(cd.y, v["conda"].argmax(1))
    out["conda_valid_intent_accuracy"] = float((cd.y == v["conda"].argmax(1)).mean())
    out["conda_valid_toxic_f1_generic_score"] = float(M.f1_score(np.isin(cd.y, (0, 1)), v["label"][:, 2] < 0.5))
    return out


def _t(a: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def evaluate_toxicity(heads: AffectHeads, data: Path, artifacts: Path, cache: Path, spec: EncoderSpec) -> dict:
    """Every chat-domain toxicity row (flat keys for ``evaluate``'s JSON)."""
    out: dict = {}
    for name in ("chat_test", "chat_dev"):
        for k, v in chat_set_rows(heads, name, cache, spec).items():
            out[f"{name}_{k}"] = v
    out.update(twitch_rows(heads, data, cache, spec))
    out.update(dataset_rows(heads, data, artifacts, cache, spec))
    out["toxicity_flag_thresholds"] = thresholds_from_config(heads.heads["toxicity"].config["extra"]).to_dict()
    out["toxicity_categories"] = list(TOXICITY_CATEGORIES)
    return out
