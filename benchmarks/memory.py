"""Memory-store benchmark: prints ONE JSON object.

Scale (per size, default 100k and 1M memories of 384-d):
  insert/s (batched ``MemoryStore.insert``: LMDB commit + table + index, IVF training included),
  top-10 query latency p50/p99 with full scoring and a viewer filter (also channel-filtered and
  unfiltered), recall@10 against exact search, and RAM per memory.
Retrieval quality: 200 simulated viewers state 3-5 facts each, scattered through >= 50k filler
chat lines; questions come later. hit@5 before and after a simulated week of decay.

    python -m benchmarks.memory                 # full: 100k + 1M, 200 viewers, 50k filler
    python -m benchmarks.memory --quick         # < 1 minute: 20k memories, 50 viewers, 5k filler
    python -m benchmarks.memory --sizes 100000 --no-quality

Vectors at scale are synthetic but shaped like MiniLM chat embeddings (see ``clustered``): encoding
a million messages on two CPU cores is not possible in a benchmark run. The quality benchmark uses
real embeddings from the analyser's encoder (MiniLM + the shipped adapter; ``--stock-encoder`` for
the unmodified model), cached under ~/.cache/companion-bench.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from memory_store import MemoryConfig, MemoryRecord, MemoryStore

DIM = 384
DAY = 86400.0


# ----------------------------------------------------------------------------- helpers
def _rss() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon", "RssFile", "VmRSS")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) * 1024
    return out


def _pct(xs: list[float], p: float) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000.0, p)), 3)


class Clustered:
    """Unit vectors with a topic -> subtopic -> message hierarchy plus a shared offset, tuned so
    that at 3k vectors the mean random-pair cosine (~0.08) and the 1st/10th-neighbour cosines
    (~0.48/0.30) match all-MiniLM-L6-v2 on 3k GoEmotions comments (0.077 / 0.474 / 0.355)."""

    def __init__(self, seed: int = 0, topics: int = 256, subtopics: int = 16384) -> None:
        rng = np.random.default_rng(seed)
        t = _norm(rng.standard_normal((topics, DIM)).astype(np.float32))
        self.sub = _norm(t[rng.integers(0, topics, subtopics)]
                         + rng.standard_normal((subtopics, DIM)).astype(np.float32) / np.sqrt(DIM))
        self.common = _norm(rng.standard_normal((1, DIM)).astype(np.float32))[0]
        self.rng = rng

    def sample(self, n: int) -> np.ndarray:
        x = _norm(self.sub[self.rng.integers(0, len(self.sub), n)]
                  + 0.6 * self.rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM))
        return _norm(x + 0.29 * self.common)


class _Words:
    """Chat-like lines over a Zipf(1.1) vocabulary of 20k words, so BM25 postings at scale are
    shaped like real chat (a few very common words, a long tail)."""

    def __init__(self, rng: np.random.Generator, vocab: int = 20_000) -> None:
        p = 1.0 / np.arange(1, vocab + 1) ** 1.1
        self.p = p / p.sum()
        self.vocab = np.array([f"w{i}" for i in range(vocab)])
        self.rng = rng

    def lines(self, n: int, lo: int = 4, hi: int = 14) -> list[str]:
        lens = self.rng.integers(lo, hi, n)
        toks = self.vocab[self.rng.choice(len(self.vocab), int(lens.sum()), p=self.p)]
        out, at = [], 0
        for L in lens.tolist():
            out.append(" ".join(toks[at: at + L]))
            at += L
        return out


def _dot(m: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.einsum("ij,j->i", m, q)


def _norm(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- scale benchmark
def bench_scale(n: int, queries: int, workdir: Path, reopen: bool) -> dict:
    cfg = MemoryConfig()
    now = 1.75e9
    clock = lambda: now  # noqa: E731 - a fixed "now" so recency is reproducible
    gen = Clustered(seed=n)
    rng = np.random.default_rng(1)
    n_viewers = max(n // 20, 10)
    # Heavy-tailed activity: viewer of rank r writes in proportion to r^-0.8.
    w = 1.0 / np.arange(1, n_viewers + 1) ** 0.8
    w /= w.sum()
    path = workdir / f"scale-{n}"
    rss0 = _rss()
    store = MemoryStore(path, clock=clock, config=cfg)
    batch = 1000
    insert_s = 0.0
    words = _Words(rng)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        vecs = gen.sample(m)
        viewers = rng.choice(n_viewers, m, p=w)
        ts = now - rng.uniform(0, 30 * DAY, m)
        imp = rng.beta(2, 5, m)
        texts = words.lines(m)
        recs = [MemoryRecord(id=0, text=texts[i], viewer=f"twitch:{viewers[i]}",
                             user=f"user{viewers[i]}", channel=f"chan{viewers[i] % 8}", platform="twitch",
                             ts=float(ts[i]), tier="long_term", importance=float(imp[i]),
                             last_recall=float(ts[i]), msg_id=f"m{start + i}")
                for i in range(m)]
        t0 = time.perf_counter()  # only the store's work is timed, not the data generation
        store.insert(recs, vecs)
        insert_s += time.perf_counter() - t0
    rss1 = _rss()
    t = store.table
    size = t.size
    V = t.vectors[:size]
    qs = gen.sample(queries)
    qtexts = words.lines(queries, lo=3, hi=7)
    qviewers = rng.choice(n_viewers, queries, p=w)  # active viewers are asked about more often
    train_s = store.index.train_seconds
    out: dict = {"n": n, "viewers": n_viewers, "insert_per_s": round(n / insert_s), "insert_s": round(insert_s, 2),
                 "ivf_training_s": round(train_s, 2),
                 "insert_per_s_excluding_training": round(n / max(insert_s - train_s, 1e-9)),
                 "index": store.stats()["index"]}

    def full_score(rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        from memory_store.decay import retention

        rel = np.einsum("ij,j->i", V[rows], q) if len(rows) < size // 4 else _dot(V, q)[rows]
        rec = retention(now - t.last_recall[rows], t.stability[rows], t.pinned[rows])
        return cfg.w_relevance * rel + cfg.w_recency * rec + cfg.w_importance * t.importance[rows]

    # Warm-up, timed apart: the first query after a prior-cache refresh (one per 4,096 writes)
    # sorts every row by recency + importance, and the first per channel restricts that order.
    s = time.perf_counter()
    store.search_vector(qs[0], k=10, reinforce=False, text=qtexts[0])
    out["prior_refresh_ms"] = round((time.perf_counter() - s) * 1000, 1)
    s = time.perf_counter()
    for c in range(8):
        store.search_vector(qs[0], channel=f"chan{c}", k=10, reinforce=False, text=qtexts[0])
    out["channel_orders_ms_each"] = round((time.perf_counter() - s) * 1000 / 8, 1)
    lat_v, lat_c, lat_u, lat_hv, lat_hc, lat_hu = [], [], [], [], [], []
    rec_v, rec_u_rel, rec_u_scored = [], [], []
    for i in range(queries):
        q = qs[i]
        viewer = f"twitch:{qviewers[i]}"
        s = time.perf_counter()
        hits = store.search_vector(q, viewer=viewer, k=10, reinforce=False)
        lat_v.append(time.perf_counter() - s)
        s = time.perf_counter()
        store.search_vector(q, channel=f"chan{i % 8}", k=10, reinforce=False)
        lat_c.append(time.perf_counter() - s)
        s = time.perf_counter()
        uh = store.search_vector(q, k=10, reinforce=False)
        lat_u.append(time.perf_counter() - s)
        # Hybrid (dense + BM25 + graph + asker), as a text query through MemoryStore.search runs.
        s = time.perf_counter()
        store.search_vector(q, viewer=viewer, k=10, reinforce=False, text=qtexts[i])
        lat_hv.append(time.perf_counter() - s)
        s = time.perf_counter()
        store.search_vector(q, channel=f"chan{i % 8}", k=10, reinforce=False, text=qtexts[i], asker=viewer)
        lat_hc.append(time.perf_counter() - s)
        s = time.perf_counter()
        store.search_vector(q, k=10, reinforce=False, text=qtexts[i], asker=viewer)
        lat_hu.append(time.perf_counter() - s)
        if i < min(queries, 200):  # exact ground truth is slow at 1M; 200 queries suffice
            vrows = t.rows_of_viewer(viewer)
            exact = vrows[np.argsort(-full_score(vrows, q))[:10]]
            got = {h.id for h in hits}
            rec_v.append(len(got & set(t.mem_id[exact].tolist())) / max(1, min(10, len(vrows))))
            allrows = np.flatnonzero(t.alive[:size])
            sc = full_score(allrows, q)
            exact_all = set(t.mem_id[allrows[np.argsort(-sc)[:10]]].tolist())
            rec_u_scored.append(len({h.id for h in uh} & exact_all) / 10)
            rel_top = set(t.mem_id[np.argsort(-_dot(V, q))[:10]].tolist())
            ann_rows = store.index.search(q, 10) if store.index.trained else np.argsort(-_dot(V, q))[:10]
            rec_u_rel.append(len(set(t.mem_id[ann_rows].tolist()) & rel_top) / 10)
    out.update({
        "query_viewer_p50_ms": _pct(lat_v, 50), "query_viewer_p99_ms": _pct(lat_v, 99),
        "query_channel_p50_ms": _pct(lat_c, 50), "query_channel_p99_ms": _pct(lat_c, 99),
        "query_unfiltered_p50_ms": _pct(lat_u, 50), "query_unfiltered_p99_ms": _pct(lat_u, 99),
        "hybrid_viewer_p50_ms": _pct(lat_hv, 50), "hybrid_viewer_p99_ms": _pct(lat_hv, 99),
        "hybrid_channel_p50_ms": _pct(lat_hc, 50), "hybrid_channel_p99_ms": _pct(lat_hc, 99),
        "hybrid_unfiltered_p50_ms": _pct(lat_hu, 50), "hybrid_unfiltered_p99_ms": _pct(lat_hu, 99),
        "recall_at_10_viewer_scored": round(float(np.mean(rec_v)), 4),
        "recall_at_10_ann_vs_flat": round(float(np.mean(rec_u_rel)), 4),
        "recall_at_10_unfiltered_scored": round(float(np.mean(rec_u_scored)), 4),
        "ram_anon_bytes_per_memory": round((rss1["RssAnon"] - rss0["RssAnon"]) / n),
        "ram_bytes_per_memory_breakdown": {
            "float32_vector": DIM * 4, "ivf_sq8_code_and_id": DIM + 8,
            "columns": int(sum(c.itemsize for c in t.cols.values())),
        },
        "lmdb_bytes_per_memory": round(sum(f.stat().st_size for f in (path / "lmdb").iterdir()) / n),
    })
    s = time.perf_counter()
    store.snapshot()
    out["snapshot_s"] = round(time.perf_counter() - s, 2)
    store.close()
    del store, V, t
    if reopen:
        s = time.perf_counter()
        again = MemoryStore(path, clock=clock, config=cfg)
        out["reopen_s"] = round(time.perf_counter() - s, 2)
        out["reopen_from_snapshot_rows"] = again.recovery["snapshot_rows"]
        again.db.close()
        again._closed = True
    shutil.rmtree(path, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------- quality benchmark
NAMES = "Mochi Biscuit Luna Pepper Ziggy Nori Waffles Pixel Comet Olive Tofu Bean Maple Sushi Rocket".split()
FACTS = [
    ("pet", "I have a {a} named {n}", "what's the name of my {a} again?",
     {"a": "cat dog rabbit parrot hamster turtle ferret".split(), "n": NAMES}),
    ("job", "I work as a {j} at the local hospital", "do you remember what I do for a living?",
     {"j": "nurse paramedic radiologist pharmacist surgeon receptionist".split()}),
    ("home", "I'm from {c} originally", "where did I say I grew up?",
     {"c": "Lisbon Osaka Toronto Nairobi Krakow Austin Melbourne Reykjavik Seoul Lima".split()}),
    ("instrument", "I've been learning to play the {i} for two years", "what instrument am I practicing?",
     {"i": "cello violin banjo saxophone piano ukulele drums harp".split()}),
    ("food", "my favourite food is {f}", "what dish do I like best?",
     {"f": "ramen lasagna tacos pho paella biryani pierogi".split()}),
    ("game", "my favorite game is {g}", "which video game do I love the most?",
     {"g": ["Hollow Knight", "Stardew Valley", "Dark Souls", "Celeste", "Hades", "Outer Wilds", "Minecraft"]}),
    ("siblings", "I have {k} younger {s}", "how many brothers or sisters do I have?",
     {"k": "two three four five".split(), "s": ["sisters", "brothers"]}),
    ("language", "I'm studying {l} at night school", "which language am I learning?",
     {"l": "Japanese Korean Italian Portuguese Finnish Arabic Mandarin".split()}),
    ("car", "I drive a beat-up old {v}", "what car do I drive?",
     {"v": ["Volvo", "pickup truck", "Mini Cooper", "camper van", "Corolla"]}),
    ("sport", "I play {p} every weekend with friends", "what sport do I do on weekends?",
     {"p": "volleyball badminton rugby tennis basketball hockey".split()}),
    ("allergy", "I'm allergic to {x} so I can't eat it", "what am I allergic to?",
     {"x": "peanuts shellfish strawberries gluten eggs".split()}),
    ("birthday", "my birthday is in {m}", "when is my birthday?",
     {"m": "January March May July September November".split()}),
]
FILLER = [
    "lol", "LUL", "KEKW", "gg", "pog", "PogChamp", "W", "L", "no way", "that was insane", "clip it",
    "chat is this real", "monkaS", "o7", "first time here", "hi chat", "hello {s}", "good morning everyone",
    "what game is this", "how long have you been streaming", "go left", "behind you!!", "nice shot",
    "unlucky", "that boss is so hard", "I think you need to level up first", "I just got home from work",
    "I'm eating dinner while watching", "I would have picked the other sword", "this music slaps",
    "can you play the {g} soundtrack", "when is the next stream", "is this a new route", "Kappa",
    "PepeHands", "{s} you're cracked", "did you see that", "the chat is moving so fast", "peepoClap",
    "hype hype hype", "lets gooo", "rip", "I'm so tired today", "I missed the start what happened",
    "mods can you check the link", "what's your sensitivity", "what keyboard do you use",
    "I have the same headset", "that jump was clean", "I'm rewatching the vod later", "catJAM",
    "I love this part", "the lore in this game is wild", "I can't believe that worked", "ez clap",
    "who's winning", "anyone else lagging", "my stream is buffering", "big brain play", "sadge",
    "I'd never beat that", "try the dodge roll", "use the potion", "you forgot the key", "back",
    "brb", "food time", "I'm in class right now shh", "this is my comfort stream", "{s} drink water",
]
WORDS = "boss level map quest sword shield dragon speedrun patch update build strat route".split()


def _filler_texts(n_unique: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    games = list(FACTS[5][3]["g"])
    while len(out) < n_unique:
        t = rng.choice(FILLER).format(s="streamer", g=rng.choice(games))
        r = rng.random()
        if r < 0.35:
            t = f"{t} {rng.choice(WORDS)}"
        elif r < 0.55:
            t = f"{t} {rng.choice(['lol', 'haha', '!!', 'fr', 'ngl', 'tbh', '??'])}"
        elif r < 0.7:
            t = f"{rng.choice(['honestly', 'wait', 'ok', 'yo', 'bro'])} {t} {rng.choice(WORDS)}"
        out.add(t)
    return sorted(out)


def _encoder(stock: bool = False):
    """The embedding the engine stores and queries with: the analyser's encoder (MiniLM with the
    shipped LoRA adapter merged, bf16), or with ``stock`` the unmodified all-MiniLM-L6-v2."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from companion.affect.encoder import SharedEncoder
    from companion.affect.lora import artifact_adapter
    from companion.analyzer import DEFAULT_ARTIFACTS

    torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))
    if stock:
        model = SharedEncoder(precision="fp32")
    else:
        model = SharedEncoder(precision="bf16", adapter=artifact_adapter(DEFAULT_ARTIFACTS))
    cache_dir = Path(os.environ.get("COMPANION_BENCH_CACHE", Path.home() / ".cache" / "companion-bench"))
    cache_dir.mkdir(parents=True, exist_ok=True)

    def embed(texts: list[str]) -> np.ndarray:
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:20]
        f = cache_dir / f"{model.tag}-{key}.npy"
        if f.exists():
            return np.load(f)
        x = model.encode(texts).embedding
        if len(texts) >= 100:  # cache the corpus, not the store's per-episode summary calls
            np.save(f, x)
        return x

    return embed, model


def build_quality(n_viewers: int, n_filler: int, n_unique_filler: int, path: Path,
                  cfg: MemoryConfig, embed):
    """Replay the simulated stream into a fresh store; returns (store, clock, facts, questions)."""
    from companion.messages import ChatMessage
    from companion.records import AnalysisRecord
    from pipelines.event import Event

    rng = random.Random(7)
    viewers = [f"viewer{i:03d}" for i in range(n_viewers)]
    lurkers = [f"lurker{i:04d}" for i in range(n_viewers * 10)]
    facts = []  # (user, key, fact text, question)
    for u in viewers:
        for kind, ftpl, qtpl, slots in rng.sample(FACTS, rng.randint(3, 5)):
            vals = {k: rng.choice(v) for k, v in slots.items()}
            facts.append((u, kind, ftpl.format(**vals), qtpl.format(**vals)))
    fillers = _filler_texts(n_unique_filler, rng)
    fact_vecs = embed([f[2] for f in facts])
    q_vecs = embed([f[3] for f in facts])
    filler_vecs = embed(fillers)
    # The replay: filler lines from viewers and lurkers, facts scattered uniformly through it.
    stream = [("filler", rng.randrange(len(fillers)), rng.choice(viewers if rng.random() < 0.4 else lurkers))
              for _ in range(n_filler)]
    for i in range(len(facts)):
        stream.insert(rng.randrange(len(stream) + 1), ("fact", i, facts[i][0]))
    t0 = 1.75e9
    duration = 8 * 3600.0  # an eight-hour stream
    clock_t = [t0]
    store = MemoryStore(path, clock=lambda: clock_t[0], config=cfg, embed=embed)
    evs = []
    s = time.perf_counter()
    for j, (kind, idx, user) in enumerate(stream):
        ts = t0 + duration * j / len(stream)
        clock_t[0] = ts
        text, vec = (facts[idx][2], fact_vecs[idx]) if kind == "fact" else (fillers[idx], filler_vecs[idx])
        msg = ChatMessage(text=text, platform="replay", channel="bench", user=user, ts=ts)
        evs.append(Event(msg, AnalysisRecord(id=msg.id, ts=ts, text=text), vec))
        if len(evs) == 64:
            store.remember(evs)
            evs = []
    if evs:
        store.remember(evs)
    store.ingest_s = time.perf_counter() - s
    store.bench_messages = len(stream)
    store.bench_unique_filler = len(fillers)
    clock_t[0] = t0 + duration + 3600  # questions come an hour after the stream
    store.consolidate()
    return store, clock_t, facts, q_vecs


def ask(store: MemoryStore, facts: list, q_vecs: np.ndarray, reinforce: bool = False) -> dict:
    """hit@5: is the fact among the top 5 for its question, searching that viewer's memories
    (how the engine asks) and searching everyone's (harder: 200 viewers state similar facts).
    Every search is the hybrid text search (``MemoryStore.search`` with these vectors); the
    global one is asked by the viewer (``asker``: preferred, not a filter). ``*_dense`` rows are
    the dense-only search of before, and ``hit_at_5_global_no_asker`` the hybrid without asker."""
    hit_v = hit_g = hit_g0 = hit_vd = hit_gd = 0
    for i, (u, _, ftext, qtext) in enumerate(facts):
        viewer = f"replay:{u}"
        hv = store.search_vector(q_vecs[i], viewer=viewer, k=5, reinforce=reinforce, text=qtext)
        hit_v += any(h.text == ftext for h in hv)
        hg = store.search_vector(q_vecs[i], k=5, reinforce=False, text=qtext, asker=viewer)
        hit_g += any(h.text == ftext and h.user == u for h in hg)
        hg0 = store.search_vector(q_vecs[i], k=5, reinforce=False, text=qtext)
        hit_g0 += any(h.text == ftext and h.user == u for h in hg0)
        hvd = store.search_vector(q_vecs[i], viewer=viewer, k=5, reinforce=False)
        hit_vd += any(h.text == ftext for h in hvd)
        hgd = store.search_vector(q_vecs[i], k=5, reinforce=False)
        hit_gd += any(h.text == ftext and h.user == u for h in hgd)
    n = len(facts)
    return {"hit_at_5_viewer": round(hit_v / n, 4), "hit_at_5_global": round(hit_g / n, 4),
            "hit_at_5_global_no_asker": round(hit_g0 / n, 4),
            "hit_at_5_viewer_dense": round(hit_vd / n, 4), "hit_at_5_global_dense": round(hit_gd / n, 4)}


def bench_quality(n_viewers: int, n_filler: int, n_unique_filler: int, workdir: Path,
                  label: str, cfg: MemoryConfig, embed) -> dict:
    path = workdir / f"quality-{label}"
    store, clock_t, facts, q_vecs = build_quality(n_viewers, n_filler, n_unique_filler, path, cfg, embed)
    before = ask(store, facts, q_vecs)
    before["memories"] = store.stats()["memories"]
    for _ in range(7):  # a week passes; consolidation/pruning runs daily
        clock_t[0] += DAY
        store.consolidate()
    after = ask(store, facts, q_vecs)
    after["memories"] = store.stats()["memories"]
    tiers = store.stats()["tiers"]
    store.close()
    shutil.rmtree(path, ignore_errors=True)
    return {"config": label, "viewers": n_viewers, "facts": len(facts), "filler_messages": n_filler,
            "unique_filler_texts": store.bench_unique_filler,
            "ingest_msgs_per_s": round(store.bench_messages / store.ingest_s),
            "before_decay": before, "after_week": after, "tiers_after_week": tiers}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated memory counts")
    ap.add_argument("--quick", action="store_true", help="20k memories, 50 viewers, 5k filler")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--no-reopen", action="store_true")
    ap.add_argument("--stock-encoder", action="store_true",
                    help="quality with the unmodified MiniLM instead of the shipped (adapted) encoder")
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--filler", type=int, default=50_000)
    ap.add_argument("--unique-filler", type=int, default=3000)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.queries = "20000", 300
        args.viewers, args.filler, args.unique_filler = 50, 5000, 400
    work = Path(args.workdir or tempfile.mkdtemp(prefix="membench-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict = {"benchmark": "memory", "machine": {
        "cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
        "numpy": np.__version__, "faiss": __import__("faiss").__version__}}
    if not args.no_scale:
        result["scale"] = [bench_scale(int(n), args.queries, work, not args.no_reopen)
                           for n in args.sizes.split(",") if n]
    if not args.no_quality:
        embed, encoder = _encoder(args.stock_encoder)
        result["encoder"] = encoder.tag
        result["quality"] = [bench_quality(args.viewers, args.filler, args.unique_filler, work,
                                           "default", MemoryConfig(), embed)]
        if not args.quick:
            keep = MemoryConfig(promote_threshold=0.0, prune_threshold=0.0)
            result["quality"].append(bench_quality(args.viewers, args.filler, args.unique_filler, work,
                                                   "keep_everything", keep, embed))
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
