"""A last-resort insult check for records whose toxicity model did not run (``toxicity.score is
None``, degraded analysis), so an abusive line is still skipped and moderated. It is deliberately
small and conservative: an insult word aimed at someone ("you", "u", "ur" or the character's
name), an unambiguous phrase, or a threat (``companion.affect.threats``)."""
from __future__ import annotations

import re

from companion.affect.threats import looks_like_threat

_INSULT = re.compile(
    r"\b(worthless|garbage|trash|idiot|idiots|stupid|moron|dumb|loser|pathetic|ugly|disgusting|"
    r"retard\w*|bitch|whore|slut|cunt|fuck(?:ing)?|shit(?:ty)?|scum|clown)\b", re.IGNORECASE)
_PHRASE = re.compile(
    r"\b(nobody\s+likes\s+you|shut\s+up|i\s+hate\s+you|fuck\s+(?:you|off)|"
    r"you\s+suck|get\s+lost)\b", re.IGNORECASE)
_TARGET = re.compile(r"\b(you|u|ur|your|you're|youre)\b", re.IGNORECASE)


def lexicon_toxicity(text: str, name: str = "") -> float:
    """0 when nothing matches; 0.7 for one targeted insult or phrase; 0.9 for two or more."""
    insults = len(_INSULT.findall(text))
    phrases = len(_PHRASE.findall(text)) + int(looks_like_threat(text))
    targeted = bool(_TARGET.search(text)) or (bool(name) and name.lower() in text.lower())
    hits = phrases + (insults if targeted else 0)
    if hits == 0:
        return 0.0
    return 0.9 if hits >= 2 else 0.7
