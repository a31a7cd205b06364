"""The normalised-text analysis cache (companion.affect.analysis_cache): cached analysis gives the
same records as uncached analysis, context-dependent fields still change per message, the cache
stays bounded, and its counters reach /metrics."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from companion.messages import ChatMessage

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "companion" / "affect" / "artifacts"
pytestmark = pytest.mark.skipif(not (ARTIFACTS / "modules.json").exists(), reason="affect artifacts not trained")

LINES = ["LUL", "lul", "this is GOOD", "this is good", "  this   is good ", "Aiko how are you today?",
         "KEKW that boss", "kekw  that boss", "I hate this part so much", "LUL", "pog pog pog", "PogChamp"]


@pytest.fixture(scope="module")
def pair():
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    torch.set_num_threads(1)
    from companion.analyzer import DEFAULT_ARTIFACTS, Analyzer

    cached = Analyzer.load()
    plain = Analyzer(cached.encoder, cached.heads, cached.ensemble, cache_entries=0,
                     emoji_table=DEFAULT_ARTIFACTS / "emoji_sentiment.json")
    return cached, plain


def _messages() -> list[ChatMessage]:
    return [ChatMessage(text=t, channel=f"c{i % 2}", user=f"u{i % 5}", ts=1000.0 + i, id=f"m{r}-{i}")
            for r in range(3) for i, t in enumerate(LINES)]


def _close(a, b, path="") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        # equal on this machine; the slack is for bf16 kernels that vary with the batch's shape
        assert math.isclose(a, b, abs_tol=1e-3), (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_cached_records_match_uncached(pair):
    cached, plain = pair
    cached.reset(), plain.reset()
    cached.text_cache.clear()
    msgs = _messages()
    got, want = [], []
    for s in range(0, len(msgs), 8):
        got += cached.analyze_messages(msgs[s:s + 8])
        want += plain.analyze_messages(msgs[s:s + 8])
    for g, w in zip(got, want):
        gd, wd = g.record.to_dict(), w.record.to_dict()
        gd.pop("latency_ms"), wd.pop("latency_ms")
        _close(gd, wd)
        assert float(np.dot(g.embedding, w.embedding)) > 0.999
    assert cached.text_cache.hits > len(msgs) / 2  # repeats and case/space variants were served
    # context still runs per message: the second "LUL" in a channel is not novel, the first is
    lul = [e.record.memory.importance for e in got if e.message.text == "LUL" and e.message.channel == "c0"]
    assert len(set(lul)) > 1


def test_lexicon_features_are_part_of_the_key(pair):
    cached, _ = pair
    cached.text_cache.clear()
    a, b = cached.analyze_batch(["this is GOOD"]), cached.analyze_batch(["this is good"])
    assert cached.text_cache.misses >= 2 and len(cached.text_cache) == 2
    assert a[0].sentiment.components.vader != b[0].sentiment.components.vader


def test_cache_is_bounded_lru(pair):
    from companion.affect.analysis_cache import AnalysisCache

    cached, _ = pair
    small = AnalysisCache(max_entries=4)
    texts = [f"unique message number {i}" for i in range(12)]
    lex = np.zeros((len(texts), 6), dtype=np.float32)
    calls = []

    def compute(idx):
        calls.append(len(idx))
        enc = cached.encoder.encode([texts[i] for i in idx])
        return enc.embedding, cached.heads.predict(enc.features, lex[idx])

    small.model_outputs(texts, lex, compute)
    assert len(small) == 4 and calls == [12]
    small.model_outputs(texts[-4:], lex[-4:], compute)  # the newest four are still there
    assert calls == [12] and small.hits == 4
    small.model_outputs(texts[:1], lex[:1], compute)  # the oldest was evicted
    assert calls == [12, 1] and len(small) == 4


def test_cache_counters_in_metrics(pair):
    from prometheus_client import CollectorRegistry, generate_latest

    from companion.affect.analysis_cache import AnalysisCacheCollector

    cached, _ = pair
    reg = CollectorRegistry()
    reg.register(AnalysisCacheCollector(cached.text_cache))
    cached.analyze_batch(["same line", "SAME  line"])
    text = generate_latest(reg).decode()
    assert "companion_analysis_cache_hit_ratio" in text and "companion_analysis_cache_entries" in text
    assert f"companion_analysis_cache_hits_total {float(cached.text_cache.hits)}" in text


def test_long_near_duplicates_share_one_analysis_but_short_ones_do_not(pair):
    from companion.affect.analysis_cache import AnalysisCache

    cached, _ = pair
    cache = AnalysisCache(max_entries=64)
    pasta = "chat please stop posting this copypasta in every single stream it is not funny anymore " * 3
    texts = [pasta, pasta[:40] + "x" + pasta[41:], pasta[:100] + "!!" + pasta[102:],  # one wave
             "the boss fight was insane tonight", "the boss fight was insane tonite",  # short: computed
             "a completely different long message about the music in this part of the game " * 2]
    lex = np.zeros((len(texts), 6), dtype=np.float32)
    computed = []

    def compute(idx):
        computed.extend(idx)
        enc = cached.encoder.encode([texts[i] for i in idx])
        return enc.embedding, cached.heads.predict(enc.features, lex[idx])

    emb, out = cache.model_outputs(texts, lex, compute)
    assert sorted(computed) == [0, 3, 4, 5]
    assert cache.near_hits == 2 and cache.hits == 2
    assert np.array_equal(emb[1], emb[0]) and np.array_equal(out.toxicity[2], out.toxicity[0])
    assert not np.array_equal(emb[5], emb[0])
    cache.model_outputs([pasta[:7] + "zz" + pasta[9:]], lex[:1], compute)  # a later member of the wave
    assert sorted(computed) == [0, 3, 4, 5] and cache.near_hits == 3


def test_lexicon_pass_cached_by_exact_text_and_emotes(pair):
    from companion.affect.analysis_cache import AnalysisCache

    cached, _ = pair
    cache = AnalysisCache(max_entries=2)
    calls = []

    def compute(m):
        calls.append(m.text)
        return cached._lexicon(m)

    a = cache.lexical(ChatMessage(text="this is GOOD"), compute)
    assert cache.lexical(ChatMessage(text="this is GOOD"), compute) is a and calls == ["this is GOOD"]
    cache.lexical(ChatMessage(text="this is good"), compute)  # case matters to VADER: computed
    cache.lexical(ChatMessage(text="this is GOOD", emotes=[(8, 11, "GOOD")]), compute)  # spans matter
    assert calls == ["this is GOOD", "this is good", "this is GOOD"] and len(cache._lexical) == 2
