"""Topic extraction stays linear and does not repeat itself: YAKE reads a bounded prefix of a
long message, and a repeated text is served from the bounded phrase cache."""
import memory_store.keywords as keywords
from memory_store.keywords import MAX_TOPIC_CHARS, KeywordExtractor


def test_long_text_reads_a_bounded_prefix_and_repeats_are_cached():
    kw = KeywordExtractor()
    seen = []
    real = kw._yake.extract_keywords
    kw._yake.extract_keywords = lambda text: seen.append(text) or real(text)
    pasta = "the dragon boss fight in the lava castle was insane and the music slaps " * 30
    first = kw.topics(pasta)
    assert first and len(seen) == 1 and len(seen[0]) <= MAX_TOPIC_CHARS
    assert kw.topics(pasta) == first and len(seen) == 1  # cached
    without = kw.topics(pasta, exclude={first[0]})  # exclude still applies per call
    assert first[0] not in without and set(first[1:]) <= set(without) and len(seen) == 1


def test_entities_read_a_bounded_prefix_once_per_text(monkeypatch):
    from memory_store import keywords as kw_mod

    calls = []
    real = kw_mod.default_extractor().extract
    monkeypatch.setattr(kw_mod.default_extractor(), "extract", lambda text: calls.append(text) or real(text))
    kw_mod._entity_cache.clear()
    text = "I have been playing Elden Ring with my cat Mochi all week " * 12
    assert "elden ring" in KeywordExtractor.entities(text)
    KeywordExtractor().topics(text)
    KeywordExtractor.entities(text)
    assert len(calls) == 1 and len(calls[0]) <= MAX_TOPIC_CHARS


def test_phrase_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(keywords, "PHRASE_CACHE_SIZE", 3)
    kw = KeywordExtractor()
    for i in range(6):
        kw.topics(f"message number {i} about the speedrun route and the final boss")
    assert len(kw._phrases) == 3
