"""Twitch system notices that arrive as plain chat lines (replays, stdin, some chat logs).

IRC delivers subs, gifts, raids and bits as USERNOTICE with a ``msg-id`` tag (``ChatMessage.kind``);
logs and copy-pasted chat lose the tag and keep only Twitch's English ``system-msg`` text, e.g.
"X subscribed with Prime. They've subscribed for 5 months!". Scored as chat, such a line reads as
a message about a person (one was flagged 0.99 offensive). ``notice_kind`` recognises them so the
analyser never scores them as chat toxicity; readers (replay, stdin) may use it to set the kind.

The patterns follow the wording of Twitch's system messages; a user name is one login-like token
(letters, digits, underscores), so a chatter writing "i just subscribed lol" is not a notice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# a login; pronouns and chat words are not ("you subscribed with prime lol" is a chatter talking)
_USER = r"(?!(?:you|u|i|he|she|we|they|someone|somebody|nobody|chat|he's|she's)\b)@?[A-Za-z0-9_][A-Za-z0-9_]{0,24}"
_CHEERMOTES = (r"Cheer|Kappa|Kreygasm|SwiftRage|PogChamp|ShowLove|Party|SeemsGood|Pride|BibleThump|Corgo|uni|"
               r"NotLikeThis|FrankerZ|TriHard|Muxy|Streamlabs|HeyGuys|FailFish|DoodleCheer|BitBoss|Anon|"
               r"MrDestructoid|VoHiYo|RIPCheer|FBtouchdown|PJSalt|Scoops|EleGiggle")
_NOTICES: tuple[tuple[str, str], ...] = (
    ("resub", rf"^{_USER} (?:has )?subscribed (?:at Tier [123]|with (?:Twitch )?Prime)\b.*\bsubscribed for \d+ months?"),
    ("sub", rf"^{_USER} (?:has )?subscribed (?:at Tier [123]|with (?:Twitch )?Prime)\b"),
    ("resub", rf"^{_USER} (?:has )?subscribed for \d+ months?\b"),
    ("sub", rf"^{_USER} converted from a (?:Prime|Twitch Prime|Tier [123]) sub(?:scription)?\b"),
    ("sub", rf"^{_USER} is continuing the Gift Sub they got from\b"),
    ("sub", rf"^{_USER} is paying forward the Gift they got from\b"),
    ("subgift", rf"^{_USER} is gifting \d+ Tier [123] Subs? to {_USER}'?s? community\b"),
    ("subgift", rf"^{_USER} gifted a Tier [123] sub to {_USER}\b"),
    ("subgift", rf"^(?:An anonymous user|Anonymous) (?:is gifting|gifted)\b"),
    ("subgift", rf"^{_USER} has gifted \d+ (?:total )?(?:Gift )?Subs? in the channel\b"),
    ("raid", rf"^{_USER} (?:just )?raided (?:the channel )?with (?:a party of )?\d[\d,]* viewers?\b"),
    ("raid", rf"^\d[\d,]* raiders from {_USER} have joined\b"),
    ("bits", rf"^{_USER} (?:just )?cheered \d[\d,]* bits?\b"),
    ("bits", r"^(?:" + _CHEERMOTES + r")\d+\b"),
    ("notice", rf"^{_USER} (?:is new here|just redeemed|redeemed)\b.*(?:Say hello|points)"),
    ("notice", rf"^{_USER} (?:has )?shared (?:a )?(?:watch streak|their streak)\b"),
    ("notice", rf"^{_USER} watched \d+ consecutive streams\b"),
)
_COMPILED = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in _NOTICES)
# The system sentences a notice line starts with; what follows is the viewer's own message (resubs
# and watch streaks carry one: "... sparked a watch streak! i need a job man").
_SYSTEM_PART = re.compile(
    r"^.*?(?:subscribed with (?:Twitch )?Prime\.|subscribed at Tier [123]\.|"
    r"converted from a [^!.]* sub to a [^!.]* sub!|sparked a watch streak!|have joined!|"
    r"community!|in the channel!|\bsub to " + _USER + r"!)"
    r"(?:\s*They've subscribed for \d+ months?(?:, currently on a \d+ month streak)?!)?"
    r"(?:\s*They've gifted a total of \d+ in the channel!)?", re.IGNORECASE)


_CHEERMOTE = re.compile(r"\b(?:" + _CHEERMOTES + r")\d+\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Notice:
    """A recognised notice line: its kind, Twitch's system text, and the viewer's attached message."""

    kind: str
    system: str
    message: str


def notice_kind(text: str) -> str | None:
    """The notice kind of a plain line ("sub", "resub", "subgift", "raid", "bits", "notice"), or
    None when it reads as chat. Bits lines start with a cheermote ("Cheer100 great stream")."""
    t = (text or "").strip()[:500]
    if not t:
        return None
    for kind, rx in _COMPILED:
        if rx.search(t):
            return kind
    return None


def is_system_notice(text: str) -> bool:
    """True when ``text`` is a Twitch system notice rather than something a chatter wrote."""
    return notice_kind(text) is not None


def parse_notice(text: str) -> Notice | None:
    """Split a notice line into Twitch's system text and the viewer's attached message ("" when
    none); None when the line is chat."""
    kind = notice_kind(text)
    if kind is None:
        return None
    t = text.strip()
    if kind == "bits":  # the cheermotes are the notice; the rest is what the viewer wrote
        return Notice(kind, t, _CHEERMOTE.sub("", t).strip())
    m = _SYSTEM_PART.match(t)
    if m is None:
        return Notice(kind, t, "")
    return Notice(kind, m.group(0).strip(), t[m.end():].strip())
