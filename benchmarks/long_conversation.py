"""Long-conversation memory benchmark: prints ONE JSON object.

Hand-written multi-session conversations between regular viewers (``data/long_conversations.json``:
6 channels, 5-6 sessions each over 2-3 months of simulated time, evidence turns labelled) are
replayed as live chat into a real :class:`MemoryStore` (default config: tiers, decay, pruning and
episodes all on), mixed with other chatters' filler. Three weeks after the last session every
question is asked within its channel through ``MemoryStore.search`` (what
``GET /api/memories/search?q=..&channel=..`` calls), with the analyser's shipped encoder.

Reported per split (dev: the fusion weights were chosen on it; test: held out) and overall:
  evidence_hit_at_10  a question counts when any of its evidence turns is in the top 10
  evidence_recall_at_10  mean fraction of a question's evidence turns in the top 10
for ``exact_dense_all_turns`` (cosine over every turn, nothing forgotten, no re-ranking),
``store_dense`` (the store's dense-only search) and ``store_hybrid`` (dense + BM25 + graph).

    python -m benchmarks.long_conversation [--filler 120] [--seed 0] [--weeks-later 3]
    python -m benchmarks.long_conversation --tune   # the fusion-weight grid, scored on dev
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from memory_store import MemoryConfig, MemoryStore

DATA = Path(__file__).parent / "data" / "long_conversations.json"
DAY = 86400.0
CHATTERS = [f"{a}{b}" for a in ("pixel", "moss", "echo", "lumen", "taro", "vex", "quill", "nova")
            for b in ("_fox", "bean", "77")]


@dataclass(slots=True)
class Turn:
    ts: float
    user: str
    text: str
    msg_id: str
    channel: str


def script(data: dict, filler_per_session: int, seed: int) -> tuple[list[Turn], list[dict]]:
    """Every chat line of every conversation in time order, and the questions."""
    rng = random.Random(seed)
    turns: list[Turn] = []
    questions: list[dict] = []
    for ci, conv in enumerate(data["conversations"]):
        ch = conv["channel"]
        t0 = datetime.fromisoformat(conv["start"].replace("Z", "+00:00")).timestamp()
        last = t0
        for si, sess in enumerate(conv["sessions"]):
            start = t0 + sess["day"] * DAY
            duration = 3 * 3600.0
            scripted = sess["turns"]
            n = len(scripted) + filler_per_session
            # Scripted turns keep their order, at random places in a three-hour stream.
            slots = sorted(rng.sample(range(n), len(scripted)))
            it = iter(scripted)
            for j in range(n):
                ts = start + duration * (j + rng.random() * 0.5) / n
                if j in slots:
                    t = next(it)
                    mid = f"{ch}:{t[2]}" if len(t) > 2 else f"{ch}:s{si}t{j}"
                    turns.append(Turn(ts, t[0], t[1], mid, ch))
                else:
                    who = (rng.choice(conv["speakers"]) if rng.random() < 0.15 else rng.choice(CHATTERS))
                    turns.append(Turn(ts, who, rng.choice(data["filler"]), f"{ch}:f{si}.{j}", ch))
                last = max(last, ts)
        for q in conv["questions"]:
            questions.append({"q": q["q"], "channel": ch, "split": conv["split"],
                              "evidence": [f"{ch}:{e}" for e in q["evidence"]]})
    turns.sort(key=lambda t: t.ts)
    return turns, questions


def replay(turns: list[Turn], embed, path: Path, cfg: MemoryConfig) -> tuple[MemoryStore, list]:
    from companion.messages import ChatMessage
    from companion.records import AnalysisRecord
    from pipelines.event import Event

    texts = sorted({t.text for t in turns})
    vec_of = dict(zip(texts, embed(texts)))
    clock = [turns[0].ts]
    store = MemoryStore(path, embed=embed, clock=lambda: clock[0], config=cfg)
    batch: list = []
    for t in turns:
        clock[0] = t.ts
        msg = ChatMessage(text=t.text, platform="replay", channel=t.channel, user=t.user, ts=t.ts)
        msg.id = t.msg_id
        batch.append(Event(msg, AnalysisRecord(id=msg.id, ts=t.ts, text=t.text), vec_of[t.text]))
        if len(batch) == 16:
            store.remember(batch)
            batch = []
    if batch:
        store.remember(batch)
    return store, clock


def _score(found: list[set[str]], questions: list[dict]) -> dict:
    hit = [bool(f & set(q["evidence"])) for f, q in zip(found, questions)]
    rec = [len(f & set(q["evidence"])) / len(q["evidence"]) for f, q in zip(found, questions)]
    return {"evidence_hit_at_10": round(float(np.mean(hit)), 4),
            "evidence_recall_at_10": round(float(np.mean(rec)), 4), "questions": len(questions)}


def run(filler: int, seed: int, weeks_later: float, cfg: MemoryConfig | None = None,
        embed=None) -> dict:
    from benchmarks.memory import _encoder

    data = json.loads(DATA.read_text())
    turns, questions = script(data, filler, seed)
    if embed is None:
        embed, _ = _encoder()
    work = Path(tempfile.mkdtemp(prefix="longconv-"))
    cfg = cfg or MemoryConfig()
    try:
        started = time.perf_counter()
        store, clock = replay(turns, embed, work / "store", cfg)
        replay_s = time.perf_counter() - started
        clock[0] = turns[-1].ts + weeks_later * 7 * DAY
        store.consolidate()
        qv = embed([q["q"] for q in questions])
        # Exact dense search over every turn of the channel: nothing forgotten, nothing re-ranked.
        tv = embed([t.text for t in turns])
        by_channel: dict[str, np.ndarray] = {}
        for i, t in enumerate(turns):
            by_channel.setdefault(t.channel, []).append(i)
        exact, dense, hybrid = [], [], []
        for q, v in zip(questions, qv):
            idx = np.asarray(by_channel[q["channel"]])
            top = idx[np.argsort(-(tv[idx] @ v))[:10]]
            exact.append({turns[i].msg_id for i in top})
            dense.append({h.msg_id for h in store.search_vector(v, channel=q["channel"], k=10, reinforce=False)})
            hybrid.append({h.msg_id for h in store.search(q["q"], channel=q["channel"], k=10, reinforce=False)})
        evidence = {e for q in questions for e in q["evidence"]}
        kept = sum(1 for e in evidence if store.db.memory_id_for_message(e) is not None)
        out = {"benchmark": "long_conversation", "conversations": len(data["conversations"]),
               "turns": len(turns), "scripted_turns": sum(len(s["turns"]) for c in data["conversations"]
                                                          for s in c["sessions"]),
               "questions": len(questions), "filler_per_session": filler, "seed": seed,
               "asked_weeks_after_last_session": weeks_later,
               "evidence_turns_still_stored": f"{kept}/{len(evidence)}",
               "replay_msgs_per_s": round(len(turns) / replay_s), "results": {}}
        for split in ("dev", "test", "all"):
            sel = [i for i, q in enumerate(questions) if split == "all" or q["split"] == split]
            qs = [questions[i] for i in sel]
            out["results"][split] = {
                "exact_dense_all_turns": _score([exact[i] for i in sel], qs),
                "store_dense": _score([dense[i] for i in sel], qs),
                "store_hybrid": _score([hybrid[i] for i in sel], qs)}
        store.close()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


GRID = {"w_lexical": (0.5, 1.0), "w_graph": (0.0, 0.25, 0.5), "rrf_k": (10.0, 60.0),
        "hybrid_w_recency": (0.0, 0.1, 0.5)}


def tune(filler: int, seed: int, weeks_later: float) -> dict:
    """Replay once, then score every fusion setting of ``GRID`` on the dev questions; the test
    questions are scored for the dev-best setting only."""
    import itertools

    from benchmarks.memory import _encoder

    data = json.loads(DATA.read_text())
    turns, questions = script(data, filler, seed)
    embed, _ = _encoder()
    work = Path(tempfile.mkdtemp(prefix="longconv-tune-"))
    try:
        store, clock = replay(turns, embed, work / "store", MemoryConfig())
        clock[0] = turns[-1].ts + weeks_later * 7 * DAY
        store.consolidate()
        qv = dict(zip([q["q"] for q in questions], embed([q["q"] for q in questions])))
        embed_q = store.embed
        store.embed = lambda texts: np.stack([qv[t] if t in qv else embed_q([t])[0] for t in texts])

        def score(split: str) -> dict:
            qs = [q for q in questions if q["split"] == split]
            found = [{h.msg_id for h in store.search(q["q"], channel=q["channel"], k=10, reinforce=False)}
                     for q in qs]
            return _score(found, qs)

        rows = []
        for values in itertools.product(*GRID.values()):
            for name, v in zip(GRID, values):
                setattr(store.cfg, name, v)
            rows.append({"setting": dict(zip(GRID, values)), "dev": score("dev")})
        best = max(rows, key=lambda r: (r["dev"]["evidence_hit_at_10"], r["dev"]["evidence_recall_at_10"]))
        for name, v in best["setting"].items():
            setattr(store.cfg, name, v)
        best["test"] = score("test")
        store.close()
        return {"benchmark": "long_conversation_tune", "grid": GRID, "best_on_dev": best,
                "all": sorted(rows, key=lambda r: -r["dev"]["evidence_hit_at_10"])}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--filler", type=int, default=120, help="other chatters' lines per session")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weeks-later", type=float, default=3.0)
    ap.add_argument("--tune", action="store_true", help="score the fusion-weight grid on dev")
    args = ap.parse_args(argv)
    if args.tune:
        print(json.dumps(tune(args.filler, args.seed, args.weeks_later)))
    else:
        print(json.dumps(run(args.filler, args.seed, args.weeks_later)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
