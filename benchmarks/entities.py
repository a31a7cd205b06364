"""Entity extraction on hand-labelled chat lines (``data/entity_lines.json``): prints ONE JSON
object with micro precision/recall/F1 over (line, entity) pairs and every miss.

    python -m benchmarks.entities
"""
from __future__ import annotations

import json
from pathlib import Path

from memory_store.entities import EntityExtractor

DATA = Path(__file__).parent / "data" / "entity_lines.json"


def evaluate(ex: EntityExtractor | None = None) -> dict:
    """Micro precision and recall of ``EntityExtractor.names`` against the labels."""
    ex = ex or EntityExtractor()
    lines = json.loads(DATA.read_text())["lines"]
    tp = fp = fn = 0
    unseen = unseen_hit = 0  # gold names the gazetteer does not list: the rules' own recall
    errors = []
    for text, gold in lines:
        got = set(ex.names(text))
        want = set(gold)
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
        for w in want:
            if _key(w) not in ex.exact:
                unseen += 1
                unseen_hit += w in got
        if got != want:
            errors.append({"line": text, "extra": sorted(got - want), "missed": sorted(want - got)})
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return {"benchmark": "entities", "lines": len(lines), "entities": tp + fn,
            "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / max(p + r, 1e-9), 4),
            "not_in_gazetteer": {"entities": unseen, "recall": round(unseen_hit / max(unseen, 1), 4)},
            "errors": errors}


def _key(name: str) -> str:
    from memory_store.entities import _norm

    return _norm(name)


def main() -> int:
    print(json.dumps(evaluate()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
