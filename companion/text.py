"""Safe normalisation of untrusted chat text, shared by every source."""
from __future__ import annotations

import re
import unicodedata

# Twitch caps chat messages at 500 characters; longer input is cut and flagged, never dropped.
MAX_CHARS = 500

# C0/C1 control characters except tab/newline (which become spaces), plus bidi overrides and
# other invisible format characters that can disguise text in a dashboard or a prompt.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"[\t\n\r\u2028\u2029]+")
_COMBINING_RUN = re.compile(r"([\u0300-\u036f\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{3})[\u0300-\u036f\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def clean_name(value: str, max_chars: int = 64) -> str:
    """A user, display or channel name made safe to show: NFC, no control, bidi-override or
    invisible characters (U+202E in a login would render the Top-chatters list reversed), no
    line breaks, trimmed and capped. May return '' (the caller picks a fallback)."""
    if not isinstance(value, str):
        value = str(value)
    clean = unicodedata.normalize("NFC", value[: max_chars * 4])
    clean = _SPACE.sub(" ", clean)
    clean = _CONTROL.sub("", clean)
    clean = _COMBINING_RUN.sub(r"\1", clean)
    return clean.strip()[:max_chars]


def normalize_text(text: str, max_chars: int = MAX_CHARS) -> tuple[str, bool]:
    """Return ``(clean, truncated)``.

    NFC-normalises, turns line breaks and tabs into spaces, strips control and invisible
    format characters, limits "zalgo" stacks of combining marks to three, trims, and caps the
    length at ``max_chars`` (``truncated`` says whether it was cut). HTML is left as text: escaping
    is the renderer's job, so the record keeps what the viewer actually typed.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    clean = unicodedata.normalize("NFC", text)
    clean = _SPACE.sub(" ", clean)
    clean = _CONTROL.sub("", clean)
    clean = _COMBINING_RUN.sub(r"\1", clean)
    clean = clean.strip()
    truncated = len(clean) > max_chars
    if truncated:
        clean = clean[:max_chars]
    return clean, truncated
