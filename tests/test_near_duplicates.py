"""The shared near-duplicate detector (companion.near_duplicates), as analytics and the character
engine use it: near-duplicates, exact repeats, long copypasta and unrelated lines."""
import random

from companion.analytics.anomalies import AnomalyDetector
from companion.character.spam import SpamTracker
from companion.messages import ChatMessage
from companion.near_duplicates import MAX_KEY_CHARS, NearDuplicateDetector, fold_key

PASTA = ("Chat please stop spamming the same copypasta in every stream, it is not funny anymore and "
         "the streamer has asked you to stop many times already. ") * 4  # ~500 characters


def test_fold_key_folds_trivial_variation_and_caps_length():
    assert fold_key("FOLLOW my channel!!!") == fold_key("follow   my channel") == "followmychannel"
    assert fold_key("soooooo good") == fold_key("sooo good")
    assert len(fold_key(PASTA * 10)) == MAX_KEY_CHARS


def test_exact_repeats_join_one_cluster_and_count_viewers():
    d = NearDuplicateDetector(window_s=30)
    seen = [d.observe(float(i), f"v{i % 3}", "Buy cheap followers at spam-site dot example") for i in range(6)]
    assert all(s.cluster is seen[0].cluster for s in seen)
    assert len(seen[-1].cluster.members) == 6 and seen[-1].cluster.viewers == 3
    assert len(d.clusters) == 1


def test_near_duplicates_cluster_but_unrelated_lines_do_not():
    d = NearDuplicateDetector(window_s=30, min_chars=8)
    a = d.observe(0.0, "a", "Buy cheap followers at spam-site dot example")
    b = d.observe(1.0, "b", "buy cheap followers at spam site dot example 42!!")
    c = d.observe(2.0, "c", "what level is the boss fight on, I missed it")
    assert b.cluster is a.cluster
    assert c.cluster is not a.cluster
    rng = random.Random(0)
    words = "stream boss fight music chat build level map team song art cat jump".split()
    clusters = {id(d.observe(3.0 + i, f"u{i}", " ".join(rng.sample(words, 6)) + f" {i}").cluster)
                for i in range(40)}
    assert len(clusters) > 30  # varied chat stays apart


def test_short_lines_join_no_cluster_when_min_chars_is_set():
    d = NearDuplicateDetector(min_chars=8)
    assert d.observe(0.0, "a", "lol").cluster is None
    assert d.observe(0.0, "a", "!!!").key == ""


def test_members_expire_with_the_window_and_clusters_are_bounded():
    d = NearDuplicateDetector(window_s=10, max_clusters=4)
    first = d.observe(0.0, "a", "the same line again and again")
    d.observe(5.0, "b", "the same line again and again")
    assert len(first.cluster.members) == 2
    later = d.observe(12.0, "c", "the same line again and again")
    assert len(later.cluster.members) == 2 and later.cluster.viewers == 2  # a's message expired
    for i in range(20):
        d.observe(13.0, f"u{i}", f"entirely different message number {i} about {'xyz' * i}")
    assert len(d.clusters) <= 4


def test_viewer_repeats_are_per_viewer_and_windowed():
    d = NearDuplicateDetector(window_s=60, similarity=0.9)
    assert d.observe(0.0, "a", "FOLLOW MY CHANNEL for free stuff!!!").viewer_repeats == 0
    assert d.observe(2.0, "a", "follow my channel for free stuff!!!!!!").viewer_repeats == 1
    assert d.observe(3.0, "b", "follow my channel for free stuff").viewer_repeats == 0
    assert d.observe(4.0, "a", "how is everyone doing tonight").viewer_repeats == 0
    assert d.observe(100.0, "a", "follow my channel for free stuff").viewer_repeats == 0


def test_long_copypasta_wave_with_variations_is_one_cluster():
    d = NearDuplicateDetector(window_s=60)
    rng = random.Random(1)
    clusters = set()
    for i in range(300):
        text = PASTA
        for _ in range(3):  # each raider changes a few characters
            k = rng.randrange(len(text))
            text = text[:k] + rng.choice("xyz!") + text[k + 1:]
        clusters.add(id(d.observe(i * 0.1, f"raider{i}", text).cluster))
    assert len(clusters) == 1
    assert next(iter(d.clusters.values())).viewers == 300


def test_spam_tracker_copypasta_and_self_repeat():
    sp = SpamTracker(copypasta_count=3)
    line = "AIKO SAID THE BOSS WAS EASY AIKO SAID THE BOSS WAS EASY"
    assert not sp.check("a", line, 0).spam
    assert not sp.check("b", line + "!", 1).spam
    v = sp.check("c", line, 2)
    assert v.spam and v.reason.startswith("copypasta: 3 viewers")
    assert not sp.check("d", "what game are we playing next stream?", 3).spam
    again = sp.check("d", "what game are we playing next stream??", 4)
    assert again.spam and again.repeats == 1 and "same viewer" in again.reason


def test_emote_waves_and_short_reactions_are_not_spam():
    """Many viewers sending "LUL" is a wave, and one viewer typing "Kappa" twice is chat; only a
    flood of one short line by one viewer is spam, and it escalates from a first offence."""
    sp = SpamTracker(copypasta_count=3)
    assert not any(sp.check(f"v{i}", "LUL", float(i)).spam for i in range(12))
    assert not sp.check("v0", "LUL", 13.0).spam
    verdicts = [sp.check("flooder", "Kappa", 20.0 + i) for i in range(7)]
    assert [v.spam for v in verdicts] == [False] * 4 + [True] * 3
    assert [v.repeats for v in verdicts[4:]] == [1, 2, 3]


def test_analytics_spam_wave_alert_uses_the_detector():
    ch = AnomalyDetector("demo")
    alerts = []
    for i in range(8):
        alerts += ch.on_message(ChatMessage(text=f"Buy cheap followers at spam-site dot example{'!' * (i % 3)}",
                                            user=f"bot{i}", channel="demo", ts=100.0 + i))
    waves = [a for a in alerts if a.kind == "spam_wave"]
    assert len(waves) == 1 and "6 near-duplicate messages from 6 viewer(s) in 30 s" in waves[0].reason


def test_wave_canon_maps_a_wave_to_its_first_text():
    from companion.near_duplicates import WaveCanon

    canon = WaveCanon(min_chars=64, similarity=0.95)
    assert canon(PASTA) is PASTA
    variant = PASTA[:30] + "zz" + PASTA[32:]
    assert canon(variant) is PASTA
    other = "a different long message about the music and the boss fight in this part of the game " * 2
    assert canon(other) is other
    assert canon("short line") == "short line"
