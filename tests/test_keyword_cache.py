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
    assert kw.topics(pasta, exclude={first[0]}) == first[1:]  # exclude still applies per call


def test_phrase_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(keywords, "PHRASE_CACHE_SIZE", 3)
    kw = KeywordExtractor()
    for i in range(6):
        kw.topics(f"message number {i} about the speedrun route and the final boss")
    assert len(kw._phrases) == 3
