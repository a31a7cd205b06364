"""Tune the relevance floor a memory needs to be attached to a recommendation, on a labelled set.

    python -m benchmarks.character_memory_floor [--fixture PATH]

``tests/fixtures/character_memory_relevance.jsonl`` holds cases: a viewer's memories (facts
and chat filler, each labelled relevant or not to the case's query) and a query message; a third
of the queries have no relevant memory at all. Cases are split dev/test. Per split, every case's
memories go into one real :class:`memory_store.MemoryStore` (embedded by the shipped encoder),
then each query runs through the character engine's own :func:`recall` (viewer's memories,
then anyone's, ``k`` = the config's ``memories_k``). A memory is relevant to a case when its text
is one the case labels relevant (another viewer's identical fact counts too).

For each (floor, lexical bonus) on a grid, the benchmark counts attached memories, precision,
recall (cases with a relevant memory that got one) and the cases that got *only irrelevant*
memories. The pair is chosen on dev by F0.5 (precision weighted: no memory beats an irrelevant
one), ties to the smaller bonus and floor, and reported on test next to floor 0 (everything
attached, the old behaviour) and to the configured values. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from companion.character import CharacterConfig
from companion.character.recommender import recall, relevance
from companion.messages import ChatMessage

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "character_memory_relevance.jsonl"
GRID = [round(0.01 * i, 2) for i in range(0, 91)]
BONUSES = [0.0, 0.1, 0.2, 0.3]
T0 = 1_700_000_000.0


def load_cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def candidates(cases: list[dict[str, Any]], analyzer: Any, k: int, data_dir: Path, name: str) -> list[dict[str, Any]]:
    """Every case's recalled memories at floor 0, with their relevance and label."""
    from memory_store import MemoryStore

    store = MemoryStore(data_dir, embed=analyzer.embed, clock=lambda: T0 + 3600)
    try:
        msgs = [ChatMessage(text=m["text"], platform="twitch", channel="#c", user=c["viewer"], ts=T0 + i)
                for i, (c, m) in enumerate((c, m) for c in cases for m in c["memories"])]
        events = analyzer.analyze_messages(msgs)
        for ev in events:
            ev.record.memory.importance = max(ev.record.memory.importance or 0.0, 0.6)
        store.remember(events)
        queries = analyzer.analyze_messages([ChatMessage(text=c["query"], platform="twitch", channel="#c",
                                                         user=c["viewer"], ts=T0 + 3000) for c in cases])
        out = []
        for c, q in zip(cases, queries):
            wanted = {m["text"] for m in c["memories"] if m["relevant"]}
            got = recall(store, c["query"], q.message.viewer_key, k, exclude_text=c["query"], vector=q.embedding,
                         name=name)
            out.append({"id": c["id"], "has_relevant": bool(wanted),
                        "hits": [(relevance(m), relevance(m, 1.0) > relevance(m), m.text in wanted) for m in got]})
        return out
    finally:
        store.close()


def metrics(rows: list[dict[str, Any]], floor: float, bonus: float) -> dict[str, Any]:
    attached = relevant = irrelevant_only = silent_when_none = none_cases = found = with_rel = 0
    for r in rows:
        kept = [is_rel for rel, lexical, is_rel in r["hits"] if rel + (bonus if lexical else 0.0) >= floor]
        attached += len(kept)
        relevant += sum(kept)
        irrelevant_only += int(bool(kept) and not any(kept))
        if r["has_relevant"]:
            with_rel += 1
            found += int(any(kept))
        else:
            none_cases += 1
            silent_when_none += int(not kept)
    p = relevant / attached if attached else 1.0
    rc = found / with_rel if with_rel else 1.0
    f05 = (1.25 * p * rc / (0.25 * p + rc)) if (p + rc) > 0 else 0.0
    return {"floor": floor, "lexical_bonus": bonus, "attached": attached, "precision": round(p, 4), "recall": round(rc, 4),
            "f0.5": round(f05, 4), "cases_with_only_irrelevant_memories": irrelevant_only,
            "silent_when_nothing_fits": f"{silent_when_none}/{none_cases}", "cases": len(rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", type=Path, default=FIXTURE)
    args = ap.parse_args(argv)
    from companion.analyzer import Analyzer

    analyzer = Analyzer.load(character_names=["Aiko"])
    cfg = CharacterConfig.from_dict()
    cases = load_cases(args.fixture)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for split in ("dev", "test"):
            part = [c for c in cases if c["split"] == split]
            rows[split] = candidates(part, analyzer, cfg.memories_k, Path(tmp) / split, cfg.name)
    dev = [metrics(rows["dev"], f, b) for b in BONUSES for f in GRID]
    best = max(dev, key=lambda m: (m["f0.5"], -m["lexical_bonus"], -m["floor"]))
    fb = (best["floor"], best["lexical_bonus"])
    conf = (cfg.memory_relevance_floor, cfg.memory_lexical_bonus)
    out = {
        "benchmark": "character_memory_floor", "fixture": str(args.fixture.name),
        "chosen_on_dev": {"floor": fb[0], "lexical_bonus": fb[1]},
        "configured": {"floor": conf[0], "lexical_bonus": conf[1]},
        "dev": {"chosen": best, "floor_0": metrics(rows["dev"], 0.0, 0.0)},
        "test": {"chosen": metrics(rows["test"], *fb), "floor_0": metrics(rows["test"], 0.0, 0.0),
                 "configured": metrics(rows["test"], *conf)},
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
