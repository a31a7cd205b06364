"""How the shipped toxicity signal behaves on chat (not on Davidson's tweets).

    python -m benchmarks.chat_toxicity [--n 2048]

Prints one JSON object:
- ``benign_flagged``: share of benign synthetic chat lines (``benchmarks.chat_corpus``, seeds 5 and
  7) with ``toxicity.flagged``, at the shipped ``TOXICITY_FLAG`` and at 0.8;
- ``insults``: which of ten hand-written chat insults and threats are flagged;
- ``demo_flagged``: the lines of the bundled demo chat that are flagged.
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2048)
    a = p.parse_args()

    from benchmarks.chat_corpus import chat_messages
    from companion.analyzer import TOXICITY_FLAG, Analyzer
    from companion.cli import DEMO_CHAT

    analyzer = Analyzer.load()
    out: dict = {"toxicity_flag": TOXICITY_FLAG, "n": a.n, "benign_flagged": {}}
    for seed in (5, 7):
        recs = analyzer.analyze_batch(chat_messages(a.n, seed=seed))
        out["benign_flagged"][f"seed{seed}"] = {
            "shipped": round(sum(r.toxicity.flagged for r in recs) / len(recs), 4),
            "at_0.8": round(sum(r.toxicity.score >= 0.8 or r.toxicity.label == "hate" for r in recs) / len(recs), 4),
        }
    recs = analyzer.analyze_batch(INSULTS)
    out["insults"] = {r.text: {"flagged": r.toxicity.flagged, "label": r.toxicity.label, "score": r.toxicity.score}
                      for r in recs}
    out["insults_flagged"] = f"{sum(r.toxicity.flagged for r in recs)}/{len(recs)}"
    texts = [json.loads(line)["text"] for line in DEMO_CHAT.read_text(encoding="utf-8").splitlines() if line.strip()]
    out["demo_lines"] = len(texts)
    out["demo_flagged"] = [r.text for r in analyzer.analyze_batch(texts) if r.toxicity.flagged]
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
