"""Hybrid retrieval: BM25 fused with dense, time phrases, graph expansion, and the ANN path's
agreement with exhaustive scoring."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from memory_store import MemoryConfig, MemoryRecord, MemoryStore
from memory_store.config import DAY
from memory_store.decay import retention
from memory_store.lexical import LexicalIndex, tokenize
from memory_store.timeparse import last_stream_window, parse_time
from tests.memory_fakes import Clock, HashEmbed, event, near, unit


def _filler(store: MemoryStore, q: np.ndarray, n: int, t: float, channel: str = "chan") -> None:
    """Lines whose vectors sit close to the query but share none of its words."""
    store.remember([event(f"random chatter number {i} pog", user=f"u{i % 7}", ts=t + i,
                          channel=channel, vec=near(q, 0.7, 100 + i), importance=0.5, mid=f"f{i}")
                    for i in range(n)])


def test_bm25_scores_rare_terms_higher():
    lx = LexicalIndex()
    lx.add(1, 0, "the boss fight was hard")
    lx.add(2, 1, "my cat Mochi loves the boss music")
    lx.add(3, 2, "boss boss boss")
    hits = lx.search(tokenize("mochi boss"), 3)
    assert hits.rows[0] == 1 and len(hits.rows) == 3
    lx.remove(2)
    assert 1 not in lx.search(tokenize("mochi"), 3).rows.tolist()
    assert tokenize("Cats were painting") == ["cat", "paint"]


def test_hybrid_ranks_a_lexical_only_match(tmp_path):
    clock = Clock()
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=clock)
    q = unit("query")
    _filler(store, q, 60, clock.t)
    store.remember([event("my ferret Bandit stole a sock from the laundry", user="zed", ts=clock.t + 100,
                          vec=near(q, 0.05, 9), importance=0.5, mid="sock")])
    question = "what did Bandit the ferret steal?"
    emb.alias[question] = q
    hits = store.search(question, k=5, reinforce=False)
    top = hits[0]
    assert top.msg_id == "sock"
    assert top.parts["lexical"] > 0 and top.parts["fusion"] == top.score
    assert top.parts["relevance"] < 0.2  # dense alone does not find it
    store.cfg.hybrid = False
    assert "sock" not in [h.msg_id for h in store.search(question, k=5, reinforce=False)]
    store.close()


def test_time_phrases_parse():
    now = datetime(2026, 4, 15, 18, 0, tzinfo=timezone.utc).timestamp()
    y = parse_time("what did I say yesterday?", now)
    assert (y.since, y.until) == (datetime(2026, 4, 14, tzinfo=timezone.utc).timestamp(),
                                  datetime(2026, 4, 15, tzinfo=timezone.utc).timestamp())
    m = parse_time("what game did we play in March", now)
    assert m.since == datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
    assert m.until == datetime(2026, 4, 1, tzinfo=timezone.utc).timestamp()
    assert parse_time("what happened in may", now).since == datetime(2025, 5, 1, tzinfo=timezone.utc).timestamp()
    assert parse_time("two weeks ago we talked about cats", now).since < now - 13 * DAY
    assert parse_time("what did we do last stream", now).last_stream
    assert parse_time("When did Aiko adopt her dog?", now).asks_when
    assert not parse_time("what is my cat called", now).window
    ts = np.array([0, 100, 200, 20000, 20100, 50000, 50050], dtype=float)
    assert last_stream_window(ts, 50060) == (20000.0, 20101.0)  # live now: the one before
    assert last_stream_window(ts, 90000) == (50000.0, 50051.0)


def test_time_aware_query_prefers_the_window(tmp_path):
    clock = Clock(datetime(2026, 4, 15, 18, 0, tzinfo=timezone.utc).timestamp())
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=clock)
    q = unit("time query")
    today = datetime(2026, 4, 15, tzinfo=timezone.utc).timestamp()
    store.remember([
        event("we played the horror game and I screamed", user="a", ts=today - 10 * DAY,
              vec=near(q, 0.9, 1), importance=0.6, mid="old"),
        event("the horror game jumpscare got me", user="b", ts=today - DAY + 3600,
              vec=near(q, 0.5, 2), importance=0.6, mid="yday"),
        event("horror game again today", user="c", ts=today + 3600, vec=near(q, 0.8, 3),
              importance=0.6, mid="today"),
    ])
    question = "what happened in the horror game yesterday?"
    emb.alias[question] = q
    hits = store.search(question, k=5, reinforce=False, tier="long_term")
    assert hits[0].msg_id == "yday"
    assert {h.msg_id for h in hits} == {"old", "yday", "today"}  # outside the window still fills
    plain = "what happened in the horror game?"
    emb.alias[plain] = q
    assert store.search(plain, k=3, reinforce=False, tier="long_term")[0].msg_id == "old"
    store.close()


def test_last_stream_window_in_store(tmp_path):
    clock = Clock()
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=clock)
    q = unit("stream q")
    t0 = clock.t
    store.remember([event("we beat the dragon boss together", user="a", ts=t0, vec=near(q, 0.9, 1),
                          importance=0.6, mid="s1")])
    store.remember([event("the dragon boss was easy this time", user="b", ts=t0 + 2 * DAY,
                          vec=near(q, 0.6, 2), importance=0.6, mid="s2")])
    store.remember([event("dragon boss again? lol", user="c", ts=t0 + 4 * DAY, vec=near(q, 0.7, 3),
                          importance=0.6, mid="s3")])
    clock.t = t0 + 4 * DAY + 600  # the third stream is live
    question = "what did we say about the dragon boss last stream?"
    emb.alias[question] = q
    assert store.search(question, k=3, reinforce=False)[0].msg_id == "s2"
    store.close()


def test_graph_expansion_reaches_memories_linked_to_an_entity(tmp_path):
    clock = Clock()
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=clock)
    q = unit("mochi q")
    _filler(store, q, 40, clock.t)
    # bob names his cat once; later lines about her never repeat the name.
    store.remember([event("my cat is called Mochi and she is a menace", user="bob", ts=clock.t + 50,
                          vec=unit("m1"), importance=0.6, mid="named"),
                    event("she knocked my plant off the shelf again", user="bob", ts=clock.t + 60,
                          vec=near(q, 0.45, 5), importance=0.6, mid="plant")])
    question = "what has Mochi been up to?"
    emb.alias[question] = q
    hits = {h.msg_id: h for h in store.search(question, k=10, reinforce=False)}
    assert "named" in hits and hits["named"].parts["graph"] == 1.0
    assert "plant" in hits and hits["plant"].parts["graph"] > 0 and hits["plant"].parts["lexical"] == 0
    store.cfg.w_graph = 0.0
    assert "plant" not in {h.msg_id for h in store.search(question, k=10, reinforce=False)}
    store.close()


def test_a_named_viewer_reaches_their_memories(tmp_path):
    clock = Clock()
    emb = HashEmbed()
    store = MemoryStore(tmp_path, embed=emb, clock=clock)
    q = unit("caroline q")
    _filler(store, q, 40, clock.t)
    store.remember([event("I went to a pottery class on saturday", user="caroline", ts=clock.t + 70,
                          vec=near(q, 0.4, 7), importance=0.5, mid="pottery")])
    question = "what class did caroline take?"
    emb.alias[question] = q
    assert store.search(question, k=3, reinforce=False)[0].msg_id == "pottery"
    store.close()


def test_unfiltered_scored_search_agrees_with_exhaustive_scoring(tmp_path):
    """Past ivf_min_vectors the unfiltered search is ANN; memories that win on recency and
    importance rather than cosine must still reach the top 10."""
    rng = np.random.default_rng(3)
    now = 1.75e9
    # exact_filter_max below a channel's 3,000 rows: the channel filter takes the ANN path too
    cfg = MemoryConfig(ivf_min_vectors=4000, ivf_nlist=32, ivf_nprobe=8, exact_filter_max=1000)
    store = MemoryStore(tmp_path, config=cfg, clock=lambda: now)
    centers = rng.standard_normal((40, 384)).astype(np.float32)
    x = centers[rng.integers(0, 40, 6000)] + 3 * rng.standard_normal((6000, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ts = now - rng.uniform(0, 30 * DAY, len(x))
    imp = rng.beta(2, 5, len(x))
    recs = [MemoryRecord(id=0, text=f"m{i}", viewer=f"v{i % 300}", channel=f"c{i % 2}", tier="long_term",
                         importance=float(imp[i]), ts=float(ts[i]), last_recall=float(ts[i]))
            for i in range(len(x))]
    store.insert(recs, x)
    assert store.stats()["index"]["type"] == "ivf_sq8"
    t = store.table
    rows = t.searchable_rows()
    agree, agree_c1 = [], []
    in_c1 = rows[t.channel[rows] == t.channels.find("c1")]
    for qi in range(30):
        q = x[rng.integers(0, len(x))] + 0.3 * rng.standard_normal(384).astype(np.float32)
        q /= np.linalg.norm(q)
        full = (t.vectors[rows] @ q + cfg.w_recency * retention(now - t.last_recall[rows], t.stability[rows],
                                                                t.pinned[rows])
                + cfg.w_importance * t.importance[rows])
        exact = set(t.mem_id[rows[np.argsort(-full)[:10]]].tolist())
        got = {h.id for h in store.search_vector(q, k=10, reinforce=False)}
        agree.append(len(got & exact) / 10)
        hits_c1 = store.search_vector(q, channel="c1", k=10, reinforce=False)
        assert all(h.channel == "c1" for h in hits_c1)
        full_c1 = full[np.isin(rows, in_c1)]
        exact_c1 = set(t.mem_id[in_c1[np.argsort(-full_c1)[:10]]].tolist())
        agree_c1.append(len({h.id for h in hits_c1} & exact_c1) / 10)
    assert np.mean(agree) >= 0.95
    assert np.mean(agree_c1) >= 0.95
    store.close()
