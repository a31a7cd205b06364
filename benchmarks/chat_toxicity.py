"""How the shipped toxicity signal behaves on chat, through the real analyser (``Analyzer.load``).

    python -m benchmarks.chat_toxicity [--n 2048] [--twitch]

Prints one JSON object:
- ``chat_test`` / ``chat_dev``: the hand-written stream-chat sets (``companion/affect/evalsets``):
  targeted recall, ordinary lines flagged, per-category recall, what is missed / false-flagged;
- ``benign_flagged``: share of the benign synthetic chat lines (``benchmarks.chat_corpus``, seeds 5
  and 7) with ``toxicity.flagged``;
- ``insults``: ten hand-written chat insults and threats, flagged or not, with category and target;
- ``demo_flagged``: the lines of the bundled demo chat that are flagged;
- with ``--twitch``: the flag rate on the 68k unlabelled Twitch lines of ``../shared/data``.
"""
from __future__ import annotations

import argparse
import json

# Hand-written, aimed at a person the way chat insults are; no slurs (those are Davidson's hate).
INSULTS = [
    "you are an idiot",
    "shut up you moron",
    "nobody likes you loser",
    "kill yourself",
    "you're a worthless idiot, nobody wants you here",
    "go back to where you came from",
    "ur mom",
    "you suck at this game, uninstall trash",
    "what a pathetic streamer lmao",
    "i know where you live",
]


def chat_set(analyzer, name: str) -> dict:
    """Targeted recall and ordinary flagged rate of one committed chat set, through the analyser."""
    from companion.affect.train_toxicity import evalset
    from companion.messages import ChatMessage

    rows = evalset(name)
    recs = [e.record for e in analyzer.analyze_messages([ChatMessage(text=r["text"]) for r in rows])]
    tgt = [(r, x) for r, x in zip(rows, recs) if r["targeted"]]
    ordi = [(r, x) for r, x in zip(rows, recs) if not r["targeted"]]
    out = {"targeted_recall": round(sum(x.toxicity.flagged for _, x in tgt) / len(tgt), 4),
           "ordinary_flagged": round(sum(x.toxicity.flagged for _, x in ordi) / len(ordi), 4),
           "n_targeted": len(tgt), "n_ordinary": len(ordi)}
    for cat in sorted({r["category"] for r, _ in tgt}):
        sel = [x for r, x in tgt if r["category"] == cat]
        out[f"recall_{cat}"] = round(sum(x.toxicity.flagged for x in sel) / len(sel), 4)
    out["missed"] = [r["text"] for r, x in tgt if not x.toxicity.flagged]
    out["false_flags"] = [r["text"] for r, x in ordi if x.toxicity.flagged]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--twitch", action="store_true", help="also the 68k unlabelled Twitch lines (minutes)")
    a = p.parse_args()

    from benchmarks.chat_corpus import chat_messages
    from companion.analyzer import Analyzer
    from companion.cli import DEMO_CHAT

    analyzer = Analyzer.load()
    out: dict = {"flag_thresholds": analyzer.flag_thresholds.to_dict(), "n": a.n}
    for name in ("chat_test", "chat_dev"):
        out[name] = chat_set(analyzer, name)
    out["benign_flagged"] = {}
    for seed in (5, 7):
        recs = analyzer.analyze_batch(chat_messages(a.n, seed=seed))
        out["benign_flagged"][f"seed{seed}"] = round(sum(r.toxicity.flagged for r in recs) / len(recs), 4)
    recs = analyzer.analyze_batch(INSULTS)
    out["insults"] = {r.text: {"flagged": r.toxicity.flagged, "target": r.toxicity.target,
                               "top": max(r.toxicity.categories, key=r.toxicity.categories.get),
                               "score": r.toxicity.score} for r in recs}
    out["insults_flagged"] = f"{sum(r.toxicity.flagged for r in recs)}/{len(recs)}"
    texts = [json.loads(line)["text"] for line in DEMO_CHAT.read_text(encoding="utf-8").splitlines() if line.strip()]
    out["demo_lines"] = len(texts)
    out["demo_flagged"] = [r.text for r in analyzer.analyze_batch(texts) if r.toxicity.flagged]
    if a.twitch:
        from companion.affect import datasets as ds

        lines = ds.twitch_unlabelled(ds.default_data_dir())
        flagged = [r.text for r in analyzer.analyze_batch(lines) if r.toxicity.flagged]
        out["twitch_unlabelled_flagged"] = round(len(flagged) / len(lines), 4)
        out["twitch_unlabelled_n"] = len(lines)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
