"""A small heuristic detector for prompt-injection-looking chat text.

Chat is untrusted input to an LLM. This flags text that *looks like* an attempt to steer the
model; it is a signal for the character engine, not a security boundary.
"""
from __future__ import annotations

import re

_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your)\b.{0,30}"
    r"\b(instructions?|prompts?|rules?|messages?|directions?|guidelines?)\b",
    r"\bsystem\s*prompt\b",
    r"\byou\s+are\s+now\b",
    r"\bfrom\s+now\s+on\s*,?\s+you\b",
    r"\b(act|pretend|roleplay)\s+(as|to\s+be)\b.{0,40}\b(ai|assistant|model|dan|developer|admin|jailbroken)\b",
    r"\bjail\s*break",
    r"\bdeveloper\s+mode\b",
    r"\b(reveal|print|show|repeat|leak)\b.{0,30}\b(your|the)\b.{0,20}\b(prompt|instructions?|rules|system)\b",
    r"\bnew\s+instructions?\s*:",
    r"^\s*(system|assistant)\s*:",
    r"<\|?\s*(im_start|im_end|system|endoftext)\s*\|?>",
    r"\[\s*/?\s*(inst|system)\s*\]",
    r"\bdo\s+anything\s+now\b",
    r"\bbypass\b.{0,40}\b(instructions?|prompts?|rules?|filters?|guidelines?)\b",
    r"\bact\s+as\s+(an?\s+)?(unfiltered|uncensored|different|new)\b",
    r"\b(new|updated)\s+(instructions|rules)\s*:",
    # Attempts to close or open the delimiters the prompt wraps chat in.
    r"</?\s*(system|assistant|untrusted_chat|untrusted_memories|instructions?)\s*>",
]
_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def looks_like_injection(text: str) -> bool:
    """True when ``text`` matches a known prompt-injection phrasing."""
    return bool(_RE.search(text[:4000]))
