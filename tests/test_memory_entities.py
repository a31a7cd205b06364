"""Entities and topics on fixed chat lines, and the labelled set's precision/recall floors."""
from __future__ import annotations

from benchmarks.entities import evaluate
from memory_store.entities import EntityExtractor
from memory_store.keywords import KeywordExtractor


def test_chat_emphasis_is_not_an_entity():
    k = KeywordExtractor()
    assert k.entities("Bro that was Insane") == []
    assert k.topics("Bro that was Insane lol so good") == []
    assert k.entities("Omg Aiko you Rock") == ["aiko"]
    assert k.entities("have you played Hollow Knight? So Good") == ["hollow knight"]
    assert "good" not in k.topics("have you played Hollow Knight? So Good")


def test_titles_in_any_case_and_with_typos():
    ex = EntityExtractor()
    assert ex.names("elden ring is my comfort game") == ["elden ring"]
    assert ex.names("i finally beat her in eldin ring") == ["elden ring"]
    assert ex.names("bg3 act 3 is so laggy") == ["baldur's gate 3"]
    kinds = {e.name: e.kind for e in ex.extract("my parrot Kiwi lives in Berlin with my PS5")}
    assert kinds == {"kiwi": "pet", "berlin": "place", "ps5": "product"}
    # A title that is a common word counts only when written as a name.
    assert ex.names("that Inside ending still haunts me") == ["inside"]
    assert ex.names("I need to get inside before it rains") == []


def test_names_outside_the_gazetteer():
    ex = EntityExtractor()
    assert ex.names("Zephyrine is the new raid boss right?") == ["zephyrine"]
    assert ex.names("my brother Marcus lives in Glasgow") == ["marcus", "glasgow"]
    assert ex.names("we named the puppy Biscuit") == ["biscuit"]


def test_topics_prefer_titles_and_drop_reactions():
    k = KeywordExtractor()
    assert k.topics("I really love playing Elden Ring boss fights")[0] == "elden ring"
    assert "horror games" in k.topics("I hate horror games so much they scare me")
    assert not {"bro", "love", "beat"} & set(k.topics("I beat the boss and I love this game bro"))


def test_labelled_lines_floor():
    r = evaluate()
    assert r["precision"] >= 0.80 and r["recall"] >= 0.70, r["errors"]
