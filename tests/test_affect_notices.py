"""System notices arriving as plain lines are recognised; chat that merely mentions subs is not."""
from __future__ import annotations

import pytest

from companion.affect.notices import notice_kind, parse_notice

NOTICES = [
    ("X subscribed with Prime. They've subscribed for 5 months!", "resub"),
    ("pixelfox subscribed at Tier 1.", "sub"),
    ("X is gifting 5 Tier 1 Subs to Y's community!", "subgift"),
    ("PABLOSAURS910 gifted a Tier 1 sub to Nahgy!", "subgift"),
    ("An anonymous user is gifting 10 Tier 1 Subs to the community!", "subgift"),
    ("X just raided with 120 viewers", "raid"),
    ("44 raiders from Only_Trails have joined!", "raid"),
    ("Cheer100 great stream", "bits"),
    ("X converted from a Prime sub to a Tier 1 sub!", "sub"),
    ("shmurly watched 5 consecutive streams and sparked a watch streak!", "notice"),
]
CHAT = ["i just subscribed lol", "you subscribed with prime lol idiot", "who raided?", "cheer up chat",
        "subscribe to my channel", "gifted subs when", "he raided us with 5 viewers last week lol",
        "a b c", "", "Cheer", "thanks for the raid!"]


@pytest.mark.parametrize("text,kind", NOTICES)
def test_notices_recognised(text, kind):
    assert notice_kind(text) == kind


@pytest.mark.parametrize("text", CHAT)
def test_chat_is_not_a_notice(text):
    assert notice_kind(text) is None


def test_attached_message_is_split_from_the_system_text():
    n = parse_notice("DizCoisas subscribed with Prime. They've subscribed for 18 months, currently on a "
                     "6 month streak! Swag thursday")
    assert n.kind == "resub" and n.message == "Swag thursday"
    assert parse_notice("Druunkship subscribed with Prime.").message == ""
    assert parse_notice("Cheer100 great stream Cheer50").message == "great stream"
