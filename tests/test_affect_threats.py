"""Threat / self-harm phrasing: caught, while game talk is left alone."""
from __future__ import annotations

import pytest

from companion.affect.threats import looks_like_threat
from companion.character.insults import lexicon_toxicity

THREATS = ["kys", "KYS lol", "kill yourself", "just kill urself", "go die", "i will find you",
           "im gonna kill you", "i know where you live", "hope you die", "die in a fire",
           "nobody would miss you", "neck yourself", "i'll hurt u"]
GAME_TALK = ["kill the boss", "you killed it!", "this boss will kill you lol", "i'm gonna kill this boss",
             "i will kill you in the game lol", "that jump killed me", "gg", "keys", "skyscraper",
             "go die in the lava? no go left", "killer play", "i'd die for you", "you died lol",
             "i will find the exit", "yo u good"]


@pytest.mark.parametrize("text", THREATS)
def test_threats_match(text):
    assert looks_like_threat(text)


@pytest.mark.parametrize("text", GAME_TALK)
def test_game_talk_does_not(text):
    assert not looks_like_threat(text)


def test_fallback_lexicon_uses_the_same_detector():
    assert lexicon_toxicity("i know where you live") == 0.7
    assert lexicon_toxicity("you killed it!") == 0.0
