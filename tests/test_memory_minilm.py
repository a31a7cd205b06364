"""Real embeddings from the analyser's encoder (all-MiniLM-L6-v2 + the shipped adapter, offline):
facts stated among chatter come back for later questions, through the pipeline's RememberStage."""
from __future__ import annotations

import os

import numpy as np
import pytest

from memory_store import MemoryStore
from memory_store.stage import RememberStage
from pipelines.stage import Stage
from tests.memory_fakes import Clock, event

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def embed():
    torch = pytest.importorskip("torch")
    from companion.affect.encoder import SharedEncoder
    from companion.affect.lora import artifact_adapter
    from companion.analyzer import DEFAULT_ARTIFACTS

    torch.set_num_threads(1)
    model = SharedEncoder(precision="bf16", adapter=artifact_adapter(DEFAULT_ARTIFACTS))

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts).embedding

    return encode


CHATTER = ["lol", "gg", "that boss is so hard", "I just got home from work", "clip it",
           "what game is this", "I have the same headset", "go left!!", "this music slaps",
           "I'm eating dinner while watching", "nice shot", "when is the next stream"]


async def test_stage_stores_and_recalls_facts(tmp_path, embed):
    clock = Clock()
    store = MemoryStore(tmp_path, embed=embed, clock=clock)
    stage = RememberStage(store)
    assert isinstance(stage, Stage)
    await stage.start()
    lines = [("mira", "I have a cat named Mochi who sleeps on my keyboard"),
             ("mira", "my favourite game is Hollow Knight"),
             ("mira", "I work as a nurse on night shifts"),
             ("theo", "I'm learning to play the cello"),
             ("theo", "I have two younger sisters")]
    evs = []
    for i in range(40):
        user = ("mira", "theo", "sam")[i % 3]
        evs.append(event(CHATTER[i % len(CHATTER)], user=user, ts=clock.t + i, vec=None))
    for j, (user, text) in enumerate(lines):
        evs.insert(5 + 7 * j, event(text, user=user, ts=clock.t + 5 + 7 * j, vec=None, mid=f"fact{j}"))
    vecs = embed([e.message.text for e in evs])
    for e, v in zip(evs, vecs):
        e.embedding = v
    await stage.process(evs[:20])
    await stage.process(evs[20:])
    assert all(e.record.memory.stored for e in evs)
    assert {e.record.memory.tier for e in evs if e.message.id == "fact1"} == {"core"}
    assert evs[-1].record.social.relationship in {"acquaintance", "new"}
    clock.advance(3600)
    asks = [("mira", "what is my pet called?", "fact0"),
            ("mira", "which video game do I love?", "fact1"),
            ("mira", "what do I do for a living?", "fact2"),
            ("theo", "what instrument am I practicing?", "fact3"),
            ("theo", "do I have any siblings?", "fact4")]
    for user, q, want in asks:
        hits = store.search(q, viewer=f"twitch:{user}", k=3)
        assert want in [h.msg_id for h in hits], (q, [h.text for h in hits])
    assert store.facts("twitch:mira")["favourite_game"] == "Hollow Knight"
    await stage.stop()
    store.close()
