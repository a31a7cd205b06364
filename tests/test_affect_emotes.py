"""Emote morphology, the merged lexicon and the IRC ``emotes`` tag (companion.affect.emote_morphology)."""
from __future__ import annotations

import pytest

from companion.affect.emote_morphology import EmoteMorphology
from companion.affect.lexicons import ARTIFACT_LEXICON, LEXICON_DIR, EmoteScorer, strip_emotes
from companion.analyzer import Analyzer
from companion.connectors.irc_parse import parse_line
from companion.connectors.twitch_convert import convert


@pytest.fixture(scope="module")
def scorer() -> EmoteScorer:
    return EmoteScorer()


@pytest.fixture(scope="module")
def project() -> EmoteScorer:
    """The project lexicon alone (what --licensed-only ships)."""
    return EmoteScorer(LEXICON_DIR / "twitch_emotes.json")


@pytest.mark.parametrize("name,sign", [("xqcL", 1), ("xqcHands", -1), ("moonSadge", -1), ("zzzzPog", 1),
                                       ("woltOkay", 1), ("xqcW", 1), ("monkaROLL", -1), ("OMEGAROLL", 1),
                                       ("AlienDance", 1), ("EZClap", 1), ("widepeepoSad", -1)])
def test_channel_and_family_names_resolve(project, name, sign):
    # none of these is in the project lexicon: each is read from its shape
    assert project.morphology.known(name) is None or name == "widepeepoSad"
    r = project.reading(name)
    assert r is not None and r.weight > 0, name
    assert r.valence * sign > 0.1, (name, r)


def test_channel_prefix_with_unknown_code_is_an_emote_of_unknown_meaning(project):
    r = project.reading("moon2M")
    assert r is not None and r.weight == 0 and r.source == "unknown"
    assert project.lookup("moon2M") is None  # no valence to report
    assert strip_emotes("moon2M he did it", project) == "he did it"  # but VADER never reads it


def test_plain_words_are_not_emotes(project):
    for w in ("hello", "Hello", "the", "NOW", "Orange", "Batman", "iPhone", "LOUDER"):
        assert project.reading(w) is None, w


def test_code_table_is_learned_from_the_lexicon():
    m = EmoteMorphology({"peepoHappy": (0.9, 0.6), "widepeepoHappy": (0.7, 0.6), "peepoSad": (-0.8, 0.3),
                         "peepoMad": (-0.6, 0.7)}, {}, {})
    assert m.codes["Happy"] == pytest.approx(0.8)
    r = m.resolve("abcHappy")  # a channel emote whose code was only ever seen after peepo
    assert r.source == "code" and r.valence == pytest.approx(0.8)
    fam = m.resolve("peepoQxq")  # unknown code: the peepo family mean (widepeepo is its own family)
    assert fam.source == "family" and fam.valence == pytest.approx((0.9 - 0.8 - 0.6) / 3)


def test_merged_lexicon_has_the_annotated_emotes(scorer, project):
    if scorer.path != ARTIFACT_LEXICON:
        pytest.skip("artifacts/emote_lexicon.json not built")
    assert scorer.lookup("Pepepains")[0] < 0 and scorer.morphology.known("Pepepains") is not None
    assert project.morphology.known("Pepepains") is None
    assert scorer.lookup("widepeepoHappy")[0] == pytest.approx(1.0)  # annotators [4, 4, 4] / 4


def test_tag_marks_an_unknown_emote(project):
    text = "BabblePls what a play"
    assert project(text).hits == 0  # not channel-shaped, no family: plain text cannot know
    s = project(text, [(0, 8, "emotesv2_123")])
    assert s.hits == 1 and s.score > 0  # the tag says it is an emote; *Pls reads its code
    unknown = project("Zorbq nice", [(0, 4, "999")])
    assert unknown.hits == 1 and unknown.score == 0.0


def test_irc_emotes_tag_reaches_the_analyser():
    line = ("@badge-info=;badges=;display-name=v;emotes=301:0-8;id=a1;room-id=1;tmi-sent-ts=1643904084794;"
            "user-id=7 :v!v@v.tmi.twitch.tv PRIVMSG #chan :BabblePls what a play")
    msg = convert(parse_line(line + "\r\n"))
    assert msg.emotes == [(0, 8, "BabblePls")]
    an = Analyzer(None, None, None)  # lexicon mode: no encoder needed
    (with_tag,) = an.analyze_messages([msg], deep=False)
    msg.emotes = []
    (without,) = an.analyze_messages([msg], deep=False)
    assert with_tag.record.sentiment.components.emote is not None
    assert with_tag.record.sentiment.components.emote > 0
    assert without.record.sentiment.components.emote is None
