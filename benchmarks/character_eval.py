"""Scripted evaluation of the character engine on a chat replay whose right answers are known.

    python -m benchmarks.character_eval [--fixture PATH] [--records hand|analyzer|auto]

Replays ``tests/fixtures/character_eval.jsonl`` one message at a time through
:class:`CharacterEngine` (clock = message time) and prints one JSON object:

* ``picks``: recall of the must-pick messages (direct question, first-timer, sub, raid, callback
  question), precision over labelled messages, and how many must-never-pick messages (toxic,
  injection, spam) were picked;
* ``memory``: whether the fact said earlier is recalled for the callback question, with a
  keyword store always, and with the real ``memory_store.MemoryStore`` when it is importable
  (else ``skipped`` with the reason);
* ``moderation``: suggestions fire on the toxic message, and nowhere unexpected;
* ``injection_flagged``: the injection attempt is flagged/withheld in the prompt context.

Records are hand-built from each line's ``analysis`` (``hand``) or produced by
``companion.Analyzer`` (``analyzer``); ``auto`` runs hand and, when the analyser loads, analyzer too.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from companion.character import CharacterConfig, CharacterEngine
from companion.messages import ChatMessage, MessageKind
from companion.records import GOEMOTIONS_LABELS, AnalysisRecord, Ekman, Emotions, MemoryInfo, Sentiment, Toxicity
from pipelines.event import Event

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "character_eval.jsonl"
KEYWORD_CONFIG = CharacterConfig.from_dict({"memory_relevance_floor": 0.0, "memory_lexical_bonus": 0.0})


class KeywordMemory:
    """A minimal stand-in store: word-overlap search per viewer (same calls as MemoryStore). Its
    scores are word Jaccard, not cosine, so the engine runs with no relevance floor over it
    (:data:`KEYWORD_CONFIG`); the tuned floor is exercised with the real store."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []

    def remember(self, ev: Event) -> None:
        self.items.append((ev.message.id, ev.message.viewer_key, ev.message.text))

    def search(self, q: str, viewer: str | None = None, k: int = 5, reinforce: bool = False,
               vector: Any = None) -> list[Any]:
        from types import SimpleNamespace

        words = {w.strip("?.!,'").lower() for w in q.split()}
        out = []
        for mid, who, text in self.items:
            if viewer is not None and who != viewer:
                continue
            other = {w.strip("?.!,'").lower() for w in text.split()}
            s = len(words & other) / max(1, len(words | other))
            if s > 0:
                out.append(SimpleNamespace(id=mid, text=text, score=s, parts={"relevance": s}))
        return sorted(out, key=lambda h: h.score, reverse=True)[:k]

    def viewer_profile(self, viewer: str) -> None:
        return None


def load_fixture(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: bad JSON ({exc})")
    return rows


def to_message(row: dict[str, Any]) -> ChatMessage:
    return ChatMessage(text=row["text"], platform=row.get("platform", "twitch"), channel=row.get("channel", "c"),
                       user=row.get("user", "anonymous"), ts=float(row["ts"]), id=row["id"],
                       kind=MessageKind(row.get("kind", "message")), first_message=bool(row.get("first_message")),
                       bits=int(row.get("bits", 0)))


def hand_record(msg: ChatMessage, a: dict[str, Any]) -> AnalysisRecord:
    emotions = a.get("emotions") or {}
    s = float(a.get("sentiment", 0.0))
    tox = float(a.get("toxicity", 0.0))
    rec = AnalysisRecord(id=msg.id, ts=msg.ts, platform=msg.platform, channel=msg.channel, user=msg.user,
                         text=msg.text, kind=msg.kind.value, injection=bool(a.get("injection", False)))
    rec.sentiment = Sentiment(label="positive" if s > 0.2 else "negative" if s < -0.2 else "neutral", score=s)
    rec.emotions = Emotions(labels=[k for k, v in emotions.items() if v >= 0.5],
                            scores={k: float(emotions.get(k, 0.0)) for k in GOEMOTIONS_LABELS})
    ek = a.get("ekman")
    rec.ekman = Ekman(label=ek or "neutral", scores={ek: 0.9} if ek else {"neutral": 0.8})
    flagged = bool(a.get("flagged", False))
    rec.toxicity = Toxicity(score=tox, label="offensive" if flagged else "none", flagged=flagged)
    rec.memory = MemoryInfo(importance=a.get("importance"))
    return rec


def open_real_memory(tmp: Path, analyzer: Any) -> tuple[Any, Any, str]:
    """(store, remember_stage, reason) for the real memory store, or (None, None, why not)."""
    try:
        from memory_store import MemoryStore
        from memory_store.stage import RememberStage
    except ImportError as exc:
        return None, None, f"memory_store not importable: {exc}"
    if analyzer is None:
        return None, None, "the real store needs the analyser's embedder, which did not load"
    try:
        store = MemoryStore(tmp / "memory", embed=analyzer.embed)
        return store, RememberStage(store), ""
    except Exception as exc:  # noqa: BLE001 - report, don't crash the benchmark
        return None, None, f"MemoryStore failed to open: {exc}"


def replay(rows: list[dict[str, Any]], events: list[Event], memory: Any, remember: Any,
           config: CharacterConfig | None = None) -> dict[str, Any]:
    """Run the replay through a fresh engine; return the metrics."""
    import asyncio

    clock_t = [float(rows[0]["ts"])]
    with tempfile.TemporaryDirectory() as d:
        ch = CharacterEngine(Path(d), memory=memory, clock=lambda: clock_t[0], config=config)
        recs = []
        t0 = time.perf_counter()

        async def run() -> None:
            for row, ev in zip(rows, events):
                clock_t[0] = float(row["ts"])
                if remember is not None:  # the pipeline's remember stage runs before the character
                    await remember.process([ev])
                elif memory is not None:
                    memory.remember(ev)
                recs.extend(await ch.process([ev]))
        asyncio.run(run())
        per_msg_ms = (time.perf_counter() - t0) * 1000 / len(rows)
    picked = {p.message_id for r in recs for p in r.picks}
    should = {r["id"] for r in rows if r["expect"].get("pick") is True}
    never = {r["id"] for r in rows if r["expect"].get("pick") is False}
    labelled_picks = picked & (should | never)
    moderated = {m.message_id for r in recs for m in r.moderation}
    must_moderate = {r["id"] for r in rows if r["expect"].get("moderate")}
    flagged = {f for r in recs for f in r.prompt.get("flagged", [])}
    must_flag = {r["id"] for r in rows if r["expect"].get("flag_injection")}
    memory_checks = []
    for row in rows:
        want = row["expect"].get("recall")
        if not want:
            continue
        rec = next((r for r in recs if r.picks and r.picks[0].message_id == row["id"]), None)
        mems = rec.memories if rec else []
        rank = next((i + 1 for i, m in enumerate(mems) if want.lower() in m.text.lower()), None)
        memory_checks.append({"message": row["id"], "want": want, "recalled": rank is not None, "rank": rank,
                              "score": mems[rank - 1].score if rank else None,
                              "top": mems[0].text if mems else None})
    return {
        "recommendations": len(recs),
        "picks": {
            "must_pick": sorted(should), "picked": sorted(picked),
            "recall": round(len(should & picked) / len(should), 4) if should else None,
            "precision": round(len(should & labelled_picks) / len(labelled_picks), 4) if labelled_picks else None,
            "forbidden_picked": sorted(never & picked),
            "unlabelled_picked": sorted(picked - should - never),
            "missed": sorted(should - picked),
        },
        "moderation": {"fired_on": sorted(moderated), "expected": sorted(must_moderate),
                       "hit": must_moderate <= moderated, "unexpected": sorted(moderated - must_moderate)},
        "injection_flagged": {"flagged": sorted(flagged), "hit": must_flag <= flagged},
        "memory": memory_checks,
        "ms_per_message": round(per_msg_ms, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Scripted character-engine evaluation; prints JSON.")
    ap.add_argument("--fixture", type=Path, default=FIXTURE)
    ap.add_argument("--records", choices=("hand", "analyzer", "auto"), default="auto")
    args = ap.parse_args(argv)
    rows = load_fixture(args.fixture)
    out: dict[str, Any] = {"fixture": str(args.fixture.name), "messages": len(rows), "runs": {}}
    analyzer = None
    if args.records in ("analyzer", "auto"):
        try:
            import torch

            torch.set_num_threads(1)
            from companion import Analyzer

            analyzer = Analyzer.load()
        except Exception as exc:  # noqa: BLE001
            out["analyzer"] = f"not loaded: {type(exc).__name__}: {exc}"
            if args.records == "analyzer":
                print(json.dumps(out, indent=2))
                return 1
    modes = []
    if args.records in ("hand", "auto"):
        modes.append("hand")
    if analyzer is not None:
        modes.append("analyzer")
    for mode in modes:
        msgs = [to_message(r) for r in rows]
        if mode == "hand":
            events = [Event(m, hand_record(m, r.get("analysis", {}))) for m, r in zip(msgs, rows)]
        else:
            events = analyzer.analyze_messages(msgs, deep=True)
        run = replay(rows, events, KeywordMemory(), None, KEYWORD_CONFIG)
        run["memory_backend"] = "keyword"
        with tempfile.TemporaryDirectory() as d:
            store, stage, why = open_real_memory(Path(d), analyzer if mode == "analyzer" else analyzer)
            if store is None:
                run["memory_store"] = {"skipped": why}
            else:
                try:
                    real = replay(rows, events, store, stage)
                    run["memory_store"] = {"memory": real["memory"], "picks_recall": real["picks"]["recall"]}
                finally:
                    close = getattr(store, "close", None)
                    if callable(close):
                        close()
        out["runs"][mode] = run
    ok = all(r["picks"]["recall"] == 1.0 and not r["picks"]["forbidden_picked"] and r["moderation"]["hit"]
             and r["injection_flagged"]["hit"] and all(m["recalled"] for m in r["memory"])
             for r in out["runs"].values())
    out["all_expectations_met"] = ok
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
