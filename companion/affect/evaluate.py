"""Evaluate every head on every official test split and write metrics.json (floors beside values).

    python -m companion.affect.evaluate --data ../shared/data --out metrics.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from companion.affect import datasets as ds
from companion.affect import metrics as M
from companion.affect.features_cache import DEFAULT_CACHE, EncoderSpec, all_splits, cached_features
from companion.affect.ensemble import score_lexicons
from companion.affect.heads import AffectHeads, ekman_probs, pad_input, reads_lexicon
from companion.affect.lexicons import EmojiScorer, EmoteScorer, VaderScorer
from companion.affect.modules import SavedModule
from companion.affect.trm import TRMRefiner

ARTIFACTS = Path(__file__).parent / "artifacts"

FLOORS = {
    "goemotions28_macro_f1": 0.44, "ekman7_macro_f1": 0.58,
    "emobank_r_valence": 0.70, "emobank_r_arousal": 0.45, "emobank_r_dominance": 0.35,
    "meld_emotion_weighted_f1_context": 0.58, "meld_sentiment_weighted_f1_context": 0.66,
    "davidson_macro_f1": 0.72, "davidson_hate_recall": 0.50, "davidson_hate_precision": 0.40,
    "intimacy_r_test": 0.60, "politeness_r_in_domain": 0.55,
    "chat_test_targeted_recall": 0.80, "gametox_test_toxic_f1": 0.80,
    "meld_ekman_label_weighted_f1": 0.55, "twitch_sentiment_test_macro_f1": 0.70,
}
# metrics that must stay at or under their ceiling (false-flag rates)
CEILINGS = {"chat_test_ordinary_flagged": 0.01, "twitch_unlabelled_flagged": 0.01}


def hope_faith_love(ys: list[np.ndarray], cs: list[np.ndarray] | None, y: np.ndarray) -> dict:
    """The seed's metrics: Hope = 1 - MAE, Faith = sqrt(mean confidence), Love = exp(-MSE) * (1 - variance
    of the answer across refinement steps)."""
    final = ys[-1]
    mae = float(np.abs(final - y).mean())
    mse = float(((final - y) ** 2).mean())
    var = float(np.stack(ys).var(0).mean()) if len(ys) > 1 else 0.0
    return {"hope": 1 - mae, "faith": (float(np.sqrt(np.mean(cs[-1]))) if cs else None),
            "love": float(np.exp(-mse) * (1 - var)), "mae": mae}


def pad_metrics(pred: np.ndarray, y: np.ndarray, median: np.ndarray) -> dict:
    out = {f"r_{n}": M.pearson(pred[:, j], y[:, j]) for j, n in enumerate(("valence", "arousal", "dominance"))}
    for j, n in enumerate(("valence", "arousal", "dominance")):
        out[f"mae_{n}"] = float(np.abs(pred[:, j] - y[:, j]).mean())
        out[f"mae_median_baseline_{n}"] = float(np.abs(median[j] - y[:, j]).mean())
    return out


def evaluate(data: Path, artifacts: Path, cache: Path, spec: EncoderSpec) -> dict:
    from companion.affect.train import gather, meld_windows

    splits = all_splits(data, artifacts)
    need = [k for k in splits if not k.endswith("_train") or k.startswith("emobank")]
    F = {k: cached_features(k, splits[k].texts, cache, spec) for k in need}
    heads = AffectHeads.load(artifacts)
    out: dict = {}
    with torch.inference_mode():
        # GoEmotions 28 / Ekman 7 (multi-label, dev-tuned thresholds)
        pr = heads.predict(F["goemotions_test"])
        go = ds.goemotions(data, "test")
        th = np.asarray(heads.heads["emotions"].config["extra"]["thresholds"])
        out["goemotions28_macro_f1"] = M.multilabel_macro_f1(pr.emotions, go.y, th)
        ek = ds.ekman(data, "test")
        th_e = np.asarray(heads.heads["ekman"].config["extra"]["thresholds"])
        out["ekman7_macro_f1"] = M.multilabel_macro_f1(pr.ekman, ek.y, th_e)
        # sentiment head alone on GoEmotions-derived test sentiment
        out["goemotions_sentiment_head_macro_f1"] = M.macro_f1(ds.goemotions_sentiment(go), pr.sentiment.argmax(1))

        # EmoBank through the pad field (the shipped TRM, K chosen on dev) + ablation
        eb = splits["emobank_test"].y
        median = np.median(splits["emobank_train"].y, axis=0)
        xn = heads.norm(torch.from_numpy(F["emobank_test"]))
        h = heads.heads
        emo = torch.sigmoid(h["emotions"](xn))
        lex = None
        if reads_lexicon(heads.pad):
            lex = torch.from_numpy(score_lexicons(splits["emobank_test"].texts, VaderScorer(),
                                                  EmojiScorer.load(artifacts / "emoji_sentiment.json"), EmoteScorer()))
        x = pad_input(xn, emo, torch.softmax(h["sentiment"](xn), 1), ekman_probs(torch.sigmoid(h["ekman"](xn)), emo), lex)
        ys, cs = heads.pad(x)
        ys, cs = [t.numpy() for t in ys], [t.numpy() for t in cs]
        shipped = out["emobank_pad_trm"] = {
            **pad_metrics(ys[-1], eb, median), **hope_faith_love(ys, cs, eb),
            "steps": len(ys), "params": sum(p.numel() for p in heads.pad.parameters())}
        for k in range(1, len(ys)):
            shipped[f"mean_r_at_step_{k}"] = float(np.mean([M.pearson(ys[k - 1][:, j], eb[:, j]) for j in range(3)]))
        for name in ("pad_trm_k1", "pad_trm_k5", "pad_linear"):
            path = artifacts / "ablation" / name
            if path.exists():
                m = SavedModule.load(path)
                if isinstance(m, TRMRefiner):
                    a, c = m(x)
                    a, c = [t.numpy() for t in a], [t.numpy() for t in c]
                else:
                    a, c = [m(x).numpy()], None
                out[f"emobank_{name}"] = {**pad_metrics(a[-1], eb, median), **hope_faith_love(a, c, eb),
                                          "params": sum(p.numel() for p in m.parameters())}
        for j, n in enumerate(("valence", "arousal", "dominance")):
            out[f"emobank_r_{n}"] = shipped[f"r_{n}"]
        out["emobank_mae_below_median_baseline"] = all(
            shipped[f"mae_{n}"] < shipped[f"mae_median_baseline_{n}"]
            for n in ("valence", "arousal", "dominance"))

        # MELD with context (the shipped tracker) and without (window 1)
        me = splits["meld_test"]
        aux = heads.predict(F["meld_test"]).aux()
        trackers = {"context": heads.mood}
        if (artifacts / "ablation" / "mood_w1").exists():
            trackers["no_context"] = SavedModule.load(artifacts / "ablation" / "mood_w1")
        for tag, mt in trackers.items():
            idx, same, padf = meld_windows(me, mt.config["window"])
            xf = heads.norm(torch.from_numpy(gather(F["meld_test"], idx)))
            e, s = mt(xf, torch.from_numpy(gather(aux, idx)), torch.from_numpy(same), torch.from_numpy(padf))
            out[f"meld_emotion_weighted_f1_{tag}"] = M.weighted_f1(me.y[:, 0], e.argmax(1).numpy())
            out[f"meld_sentiment_weighted_f1_{tag}"] = M.weighted_f1(me.y[:, 1], s.argmax(1).numpy())
        out["meld_sentiment_head_weighted_f1_no_context"] = M.weighted_f1(me.y[:, 1], heads.predict(F["meld_test"]).sentiment.argmax(1))
        # Chat-domain sentiment (Twitch-Sentiment test split) and MELD through ekman.label
        from companion.affect.sentiment_eval import meld_ekman_rows, twitch_rows

        out.update(meld_ekman_rows(heads, F["meld_test"], me.y[:, 0]))
        out.update(twitch_rows(heads, data, artifacts, cache, spec))

        # Davidson
        dv = splits["davidson_test"].y
        pred = heads.predict(F["davidson_test"]).toxicity.argmax(1)
        out["davidson_macro_f1"] = M.macro_f1(dv, pred)
        out["davidson_weighted_f1"] = M.weighted_f1(dv, pred)
        out["davidson_hate_precision"], out["davidson_hate_recall"] = M.class_pr(dv, pred, 0)

        # Chat-domain toxicity: hand-written stream chat, the Twitch lines, GameTox, CONDA
        from companion.affect.toxicity_eval import evaluate_toxicity

        out.update(evaluate_toxicity(heads, data, artifacts, cache, spec))

        # Intimacy and politeness
        out["intimacy_r_test"] = M.pearson(heads.predict(F["intimacy_test"]).intimacy, splits["intimacy_test"].y)
        out["intimacy_r_external"] = M.pearson(heads.predict(F["intimacy_external"]).intimacy, splits["intimacy_external"].y)
        out["politeness_r_in_domain"] = M.pearson(heads.predict(F["politeness-wiki_test"]).politeness,
                                                  splits["politeness-wiki_test"].y)
        out["politeness_r_cross_domain_stack_exchange"] = M.pearson(
            heads.predict(F["politeness-se_all"]).politeness, splits["politeness-se_all"].y)
    return out


def with_floors(m: dict) -> dict:
    """{metric: {value, floor, pass}} for floored metrics; other entries as they are."""
    res = {}
    for k, v in m.items():
        if k in FLOORS:
            res[k] = {"value": round(v, 4), "floor": FLOORS[k], "pass": bool(v >= FLOORS[k])}
        elif k in CEILINGS:
            res[k] = {"value": round(v, 4), "ceiling": CEILINGS[k], "pass": bool(v <= CEILINGS[k])}
        else:
            res[k] = v
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--out", type=Path, default=Path("metrics.json"))
    p.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help="feature cache shared with training; missing splits are encoded")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", default="bf16", help="encoder precision (bf16, what Analyzer.load ships | fp32 | int8)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    a.cache.mkdir(parents=True, exist_ok=True)
    from companion.affect.lora import artifact_adapter

    t = time.time()
    spec = EncoderSpec(artifact_adapter(a.artifacts), a.precision)
    m = evaluate(a.data, a.artifacts, a.cache, spec)
    m["encoder"] = spec.tag
    m["encoder_precision"] = a.precision
    m["eval_seconds"] = round(time.time() - t, 1)
    res = with_floors(m)
    a.out.write_text(json.dumps(res, indent=1))
    for k, v in res.items():
        if isinstance(v, dict) and "floor" in v:
            print(f"{k:42s} {v['value']:.4f}  floor {v['floor']:.2f}  {'PASS' if v['pass'] else 'FAIL'}")
        elif isinstance(v, dict) and "ceiling" in v:
            print(f"{k:42s} {v['value']:.4f}  ceiling {v['ceiling']:.2f}  {'PASS' if v['pass'] else 'FAIL'}")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
