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
_PATTERNS = [
    r"\bk+\s*y+\s*s+\b",  # "kys"
    r"\b(kill|hang|shoot|end|neck|off)\s+(your|ur|yo)\s*sel(f|ves)\b",
    r"\b(go|pls|please|just|should)\s+(die(?!\s+in\s+(the|this|that)\b)|kill\s+(your|ur)\s*self)\b",
    r"\b(hope|wish)\s+" + _YOU + r"\s+(die|dies|get\s+cancer|get\s+hit|burn)\b",
    r"\bdie\s+in\s+a\s+(fire|hole|ditch)\b",
    r"\b(i('| wi)ll|i\s+am\s+going\s+to|i'm\s+going\s+to|i'm\s+gonna|im\s+gonna|imma|i\s+will|gonna)\s+"
    r"(kill|murder|stab|shoot|hurt|find|dox|doxx|rape)\s+" + _YOU
    + r"\b(?!\s+(in|at|on)\s+(the\s+)?(game|ranked|pvp|1v1|match))",
    r"\bi\s+know\s+where\s+" + _YOU + r"\s+live\b",
    r"\b(nobody|no\s+one)\s+would\s+miss\s+" + _YOU + r"\b",
]
_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def looks_like_threat(text: str) -> bool:
    """True when ``text`` holds a threat or self-harm incitement phrasing."""
    return bool(_RE.search(text[:4000]))
