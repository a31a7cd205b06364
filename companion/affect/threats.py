"""Threats and self-harm incitement: a phrase detector beside the toxicity head.

Davidson's labels (the toxicity head's training data) call slurs hate and profanity offensive;
"kys" or "I will find you" carry neither, so the head scores them as clean ("kill yourself" 0.33).
A moderation signal must not miss them. These phrasings flag the record (``toxicity.flagged``)
whatever the head says. Game talk ("kill the boss", "you killed it", "this boss will kill you")
does not match: second-person targets are required after first-person intent, or the phrase is
an unambiguous self-harm incitement.
"""
from __future__ import annotations

import re

_YOU = r"(you|u|ya|yall|y'all)"
# Self-harm incitement: telling someone to hurt or kill themselves.
_SELF_HARM = [
    r"\bk+\s*y+\s*s+\b",  # "kys"
    r"\b(kill|hang|shoot|end|neck|off)\s+(your|ur|yo)\s*sel(f|ves)\b",
    r"\b(go|pls|please|just|should)\s+(die(?!\s+in\s+(the|this|that)\b)|kill\s+(your|ur)\s*self)\b",
    r"\b(nobody|no\s+one)\s+would\s+miss\s+" + _YOU + r"\b",
    r"\b(drink|swallow)\s+(bleach|bleech)\b",
    r"\bjump\s+off\s+(a|the)\s+(bridge|cliff|building|roof)\b",
]
# Threats of harm to the person addressed, or of coming for them in real life.
_THREAT = [
    r"\b(hope|wish)\s+" + _YOU + r"\s+(die|dies|get\s+cancer|get\s+hit|burn)\b",
    r"\bdie\s+in\s+a\s+(fire|hole|ditch)\b",
    r"\b(i('| wi)ll|i\s+am\s+going\s+to|i'm\s+going\s+to|im\s+going\s+to|i'm\s+gonna|im\s+gonna|imma|ima|i\s+will|ill)\s+"
    r"(kill|murder|stab|shoot|hurt|find|dox|doxx|rape|beat)\s+" + _YOU
    + r"\b(?!\s+(in|at|on)\s+(the\s+)?(game|ranked|pvp|1v1|match))",
    r"\bi\s+know\s+where\s+" + _YOU + r"\s+live\b",
    r"\b(i('| wi)ll|i\s+will|ill|i'm|im|i\s+am|imma|ima)\s+(going\s+to\s+|gonna\s+)?(come|coming|go|show\s+up|pay\s+a\s+visit)"
    r"\s+to\s+(your|ur)\s+(house|home|place|address|school|work)\b",
    r"\b(watch|sleep\s+with\s+one\s+eye)\s+(your|ur)\s+back\b",
]
_RE_SELF_HARM = re.compile("|".join(f"(?:{p})" for p in _SELF_HARM), re.IGNORECASE)
_RE_THREAT = re.compile("|".join(f"(?:{p})" for p in _THREAT), re.IGNORECASE)


def threat_kind(text: str) -> str | None:
    """``"self_harm"`` (incitement such as "kys"), ``"threat"``, or None."""
    t = text[:4000]
    if _RE_SELF_HARM.search(t):
        return "self_harm"
    if _RE_THREAT.search(t):
        return "threat"
    return None


def looks_like_threat(text: str) -> bool:
    """True when ``text`` holds a threat or self-harm incitement phrasing."""
    return threat_kind(text) is not None
