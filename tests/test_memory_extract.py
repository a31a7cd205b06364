"""Offline fact, keyword/entity and importance extraction."""
from __future__ import annotations

from companion.messages import ChatMessage, MessageKind
from memory_store.facts import extract_facts, fact_text
from memory_store.importance import heuristic_importance
from memory_store.keywords import KeywordExtractor


def test_fact_patterns():
    assert extract_facts("hi! my name is Alice and I'm from Lyon, France") == {"name": "Alice", "from": "Lyon"}
    assert extract_facts("my favorite game is Hollow Knight lol") == {"favourite_game": "Hollow Knight"}
    assert extract_facts("my fav anime is frieren") == {"favourite_anime": "frieren"}
    assert extract_facts("btw my pronouns are they/them") == {"pronouns": "they/them"}
    assert extract_facts("I use she/her") == {"pronouns": "she/her"}
    assert extract_facts("I'm 25 years old") == {"age": "25"}
    assert extract_facts("call me Zed") == {"name": "Zed"}
    assert extract_facts("that boss fight was insane") == {}
    assert fact_text("mira", "favourite_game", "Celeste") == "mira's favourite game is Celeste"


def test_keywords_and_entities():
    k = KeywordExtractor()
    assert "elden ring" in k.topics("that boss fight in Elden Ring was insane LUL")
    assert k.topics("lol gg") == []
    assert k.entities("I have a cat named Mochi") == ["mochi"]
    assert k.entities("LUL KEKW Pog") == []
    assert k.mentions("@Bob and @carol_9 look") == ["bob", "carol_9"]


def test_importance_heuristic():
    low = heuristic_importance(ChatMessage(text="lol"))
    disclose = heuristic_importance(ChatMessage(text="I have a hamster named Mochi"))
    raid = heuristic_importance(ChatMessage(text="raid", kind=MessageKind.RAID))
    assert low < 0.2 < 0.5 <= disclose < raid
