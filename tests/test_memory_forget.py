"""Forgetting: a viewer everywhere, one message (CLEARMSG), a user in a channel (CLEARCHAT)."""
from __future__ import annotations

from memory_store import MemoryConfig, MemoryStore
from tests.memory_fakes import Clock, HashEmbed, event, unit


def _all_text(store: MemoryStore) -> str:
    hits = store.search_vector(unit(0), k=1000, reinforce=False)
    return " ".join(h.text + " " + h.viewer + " " + h.user for h in hits)


def test_forget_viewer_everywhere(tmp_path):
    clock = Clock()
    emb = HashEmbed()
    cfg = MemoryConfig(episode_gap_s=10)
    store = MemoryStore(tmp_path, embed=emb, clock=clock, config=cfg)
    t = clock.t
    store.remember([
        event("my name is Zelda and I'm from Hyrule", user="zelda", ts=t, mid="z1", importance=0.9),
        event("lol ok zelda", user="zelda", ts=t + 1, mid="z2", importance=0.0),
        event("@zelda hi there friend how are you", user="link", ts=t + 2, mid="l1", importance=0.6),
        event("I love the Master Sword a lot", user="zelda", ts=t + 3, mid="z3", sentiment=0.9,
              importance=0.95),
    ])
    store.pin_fact("twitch:zelda", "favourite_game", "Ocarina")
    clock.advance(100)
    store.remember([event("later line", user="link", ts=t + 100, mid="l2", importance=0.6)])  # closes episode
    assert store.episodes() and "zelda" in store.episodes()[0].summary.lower()
    assert "zelda" in _all_text(store).lower()
    rep = store.forget_viewer("twitch:zelda")
    assert rep.memories == 4 and rep.short_term == 1 and rep.profile and rep.graph_node
    assert rep.facts >= 2
    assert store.viewer_profile("twitch:zelda") is None
    assert store.viewer_memories("twitch:zelda") == []
    assert store.search_vector(unit(0), viewer="twitch:zelda", k=10) == []
    assert not store.graph.has_viewer("twitch:zelda")
    assert "master sword" not in {n.split(":", 1)[1] for n in store.graph.g.nodes}
    assert all("zelda" not in str(m) for m in store.short_term("chan"))
    ep = store.episodes()[0]
    assert "Zelda" not in ep.summary and all(p[0] != "twitch:zelda" for p in ep.participants)
    # Other viewers' own words stay (link's @zelda message is link's memory).
    remaining = _all_text(store)
    assert "Hyrule" not in remaining and "Master Sword" not in remaining and "Ocarina" not in remaining
    assert "twitch:link" in remaining
    assert store.viewer_view("twitch:zelda") is None
    store.close()
    # Nothing comes back after a restart (LMDB, index snapshot and graph file agree).
    again = MemoryStore(tmp_path, embed=emb, clock=clock, config=cfg)
    assert again.viewer_profile("twitch:zelda") is None
    assert not again.graph.has_viewer("twitch:zelda")
    assert "Hyrule" not in _all_text(again)
    again.close()


def test_clearmsg_and_clearchat(tmp_path):
    store = MemoryStore(tmp_path, clock=Clock())
    store.remember([
        event("first line from troll", user="troll", user_id="666", channel="#a", mid="t1", importance=0.6),
        event("second line from troll", user="troll", user_id="666", channel="#a", mid="t2", importance=0.6),
        event("troll in another channel", user="troll", user_id="666", channel="#b", mid="t3", importance=0.6),
        event("nice line", user="nice", channel="#a", mid="n1", importance=0.6),
    ])
    assert store.forget_message("t1") is True
    assert store.forget_message("t1") is False
    assert store.forget_message("never-seen") is False
    assert store.forget_user_in_channel("a", "troll") == 1  # login match; '#a' == 'a'
    left = {h.msg_id for h in store.search_vector(unit(0), k=10, reinforce=False)}
    assert left == {"t3", "n1"}
    assert store.forget_user_in_channel("#b", "666") == 1  # platform user id works too
    assert store.forget_user_in_channel("#b", "nobody") == 0
    store.close()
