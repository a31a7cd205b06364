"""The character engine's memory recall reuses the message's embedding instead of re-encoding it
(a real MemoryStore; the embed function counts its calls)."""
import numpy as np

from companion.character.recommender import recall
from memory_store import MemoryRecord, MemoryStore


def _vec(text: str) -> np.ndarray:
    v = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


def test_recall_with_the_message_vector_skips_the_encoder(tmp_path):
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return np.stack([_vec(t) for t in texts])

    store = MemoryStore(tmp_path / "m", embed=embed, clock=lambda: 1.75e9)
    texts = ["my cat is called Mochi", "I work as a nurse", "the boss fight was hard", "I live in Lisbon"]
    store.insert([MemoryRecord(id=0, text=t, viewer="twitch:amy", user="amy", channel="c", platform="twitch",
                               ts=1.75e9 - 60 * i, tier="long_term", importance=0.6, msg_id=f"m{i}")
                  for i, t in enumerate(texts)], np.stack([_vec(t) for t in texts]))
    query = "what is my cat called?"
    calls.clear()
    with_vector = recall(store, query, "twitch:amy", 2, vector=_vec("my cat is called Mochi"))
    assert calls == []  # no encoder pass
    assert with_vector and with_vector[0].text == "my cat is called Mochi"
    recall(store, query, "twitch:amy", 2)
    assert calls  # without the vector the store embeds the query itself
    store.close()
