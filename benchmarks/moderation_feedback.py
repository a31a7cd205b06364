"""Learning a channel's norms from its own moderators: flag precision and recall on GameTox test
before and after 50, 200 and 1,000 moderator actions (through the real analyser).

    python -m benchmarks.moderation_feedback [--stream 8000] [--norm 1,2,3,4,5] [--mod-recall 0.9]

The simulated channel removes every GameTox line whose class is in ``--norm`` (default: all five
toxic classes, including "other offensive", which the default policy mostly allows: untargeted
swearing is profanity, level 0). Lines from the seeded GameTox train split (TOX's saved split,
``companion/affect/artifacts/gametox_split.json``) stream through
:class:`companion.moderation.ModerationService` as one channel, 3 s apart. Its moderators remove a
violating line the bot left standing with probability ``--mod-recall`` (a CLEARMSG), and review
every held line (deny if it violates the norm, else approve); lines left standing 300 s are weak
"acceptable" examples. Each removal and each review is one moderator action. At each checkpoint
the channel's decisions on the whole GameTox test split are scored: flag = any action but allow,
positive = the class is in the norm. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

CHECKPOINTS = (0, 50, 200, 1000)
CHANNEL = "tanks"


def analysed(analyzer, texts: list[str], cache: Path | None, name: str) -> list:
    """``(ToxicityView, features)`` per text through the real analyser; cached as JSON when
    ``cache`` is given (the analysis is most of the run time)."""
    from companion.moderation.features import ToxicityView, record_features, view_of

    path = cache / f"{name}.json" if cache is not None else None
    if path is not None and path.exists():
        rows = json.loads(path.read_text())
        return [(ToxicityView(**v), f) for v, f in rows]
    recs = analyzer().analyze_batch(texts)
    out = [(view_of(r.toxicity), record_features(r)) for r in recs]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([[{k: getattr(v, k) for k in v.__slots__}, f] for v, f in out]))
    return out


def score(service, rows, y_pos, classes) -> dict:
    """Precision/recall/flag rate of the channel's decisions on ``rows`` (view, features)."""
    flags = [service.moderator.judge(CHANNEL, v, f).action != "allow" for v, f in rows]
    tp = sum(f and p for f, p in zip(flags, y_pos))
    fp = sum(f and not p for f, p in zip(flags, y_pos))
    fn = sum((not f) and p for f, p in zip(flags, y_pos))
    per_class = {}
    for c in sorted(set(classes)):
        sel = [f for f, k in zip(flags, classes) if k == c]
        per_class[str(c)] = round(sum(sel) / len(sel), 4)
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "flag_rate": round(sum(flags) / len(flags), 4), "flag_rate_by_class": per_class}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stream", type=int, default=8000, help="train-split lines streamed through the channel")
    p.add_argument("--norm", default="1,2,3,4,5", help="GameTox classes this channel removes")
    p.add_argument("--mod-recall", type=float, default=0.9, help="share of violating lines its moderators catch")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval", choices=["dev", "test"], default="test",
                   help="the split scored at each checkpoint (tune on dev, report test)")
    p.add_argument("--cache", type=Path, help="keep the analysed splits here (JSON) to rerun without the analyser")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a calibration setting, e.g. --set act_above=0.6")
    a = p.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    from companion.affect import datasets as ds
    from companion.analyzer import Analyzer
    from companion.connectors.base import ModerationEvent, ModerationKind
    from companion.messages import ChatMessage
    from companion.moderation import ModerationPolicy, ModerationService

    norm = {int(x) for x in a.norm.split(",") if x.strip()}
    data = ds.default_data_dir()
    split_path = Path(ds.__file__).parent / "artifacts" / "gametox_split.json"
    ids = ds.gametox_split_ids(data, split_path if split_path.exists() else None)
    train, test = ds.gametox(data, "train", ids), ds.gametox(data, a.eval, ids)
    rng = random.Random(a.seed)
    order = rng.sample(range(len(train.texts)), min(a.stream, len(train.texts)))

    started = time.perf_counter()
    loaded: list = []

    def analyzer():
        if not loaded:
            loaded.append(Analyzer.load())
        return loaded[0]

    test_views = analysed(analyzer, test.texts, a.cache, a.eval)
    stream_rows = analysed(analyzer, [train.texts[i] for i in order], a.cache, f"train-{a.seed}-{len(order)}")
    analysed_s = time.perf_counter() - started
    test_pos = [int(y) in norm for y in test.y]
    settings = {}
    for kv in a.set:
        key, _, value = kv.partition("=")
        settings[key] = json.loads(value)

    out: dict = {"norm_classes": sorted(norm), "gametox_labels": list(ds.GAMETOX_LABELS) if hasattr(ds, "GAMETOX_LABELS")
                 else None, "split_seed": ids.get("seed"), "stream_lines": len(order), "test_lines": len(test.texts),
                 "eval_split": a.eval, "test_positive_rate": round(sum(test_pos) / len(test_pos), 4), "mod_recall": a.mod_recall,
                 "analysis_s": round(analysed_s, 1), "checkpoints": {}}
    with tempfile.TemporaryDirectory() as tmp:
        policy = ModerationPolicy.model_validate({"calibration": settings})
        out["policy_levels"] = policy.levels
        out["calibration_settings"] = policy.calibration.model_dump()
        service = ModerationService(policy, Path(tmp), moderate=False)
        actions = {"clearmsg": 0, "review_deny": 0, "review_approve": 0}
        pending = list(CHECKPOINTS)
        out["checkpoints"]["0"] = {**score(service, test_views, test_pos, test.y.tolist()), "actions": 0}
        pending.pop(0)
        ts = 1_700_000_000.0
        import asyncio

        async def stream() -> None:
            nonlocal ts
            for i, (idx, (view, feats)) in enumerate(zip(order, stream_rows)):
                if not pending:
                    return
                ts += 3.0
                violates = int(train.y[idx]) in norm
                msg = ChatMessage(text=train.texts[idx], platform="twitch", channel=CHANNEL, user=f"u{idx % 997}",
                                  id=f"s{i}", ts=ts)
                sugs = service.suggest_features(msg, view, feats, ts)
                acted = {s.action for s in sugs}
                if "hold" in acted:
                    item = next(it for it in service.queue.items() if it.message_id == msg.id)
                    await service.review(item.id, "deny" if violates else "approve")
                    actions["review_deny" if violates else "review_approve"] += 1
                elif violates and not acted & {"delete", "timeout"} and rng.random() < a.mod_recall:
                    service.observe(ModerationEvent(platform="twitch", channel=CHANNEL, kind=ModerationKind.CLEARMSG,
                                                    target_msg_id=msg.id, ts=ts))
                    actions["clearmsg"] += 1
                done = sum(actions.values())
                if pending and done >= pending[0]:
                    out["checkpoints"][str(pending[0])] = {
                        **score(service, test_views, test_pos, test.y.tolist()), "actions": done,
                        "stream_lines_seen": i + 1, "examples": service.stats.examples}
                    pending.pop(0)

        asyncio.run(stream())
        out["actions"] = actions
        out["unreached_checkpoints"] = pending
        cal = service.calibrator.summary().get(CHANNEL, {})
        out["calibration"] = {k: cal.get(k) for k in ("examples", "removed", "kept", "weights", "intercept")}
        out["audit_entries"] = service.audit.written
    out["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
