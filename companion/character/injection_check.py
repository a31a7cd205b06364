"""Does a chat line look like a prompt-injection attempt?

The analyser's detector (``companion.affect.injection``) is used when it exists; until then, and
whenever it fails, a small pattern check stands in. ``record.injection`` set by the analyser
always counts.
"""
from __future__ import annotations

import functools
import importlib
import re
from typing import Callable

from companion.records import AnalysisRecord

_PATTERNS = re.compile(
    r"""(
        \b(ignore|disregard|forget|override|bypass)\b[^.!?]{0,40}\b(previous|prior|above|earlier|all|your|the)\b[^.!?]{0,30}\b(instruction|prompt|rule|direction|message|guideline)s?
      | \b(system\s*prompt|developer\s*mode|jailbreak|DAN\s+mode|do\s+anything\s+now)\b
      | \byou\s+are\s+now\b
      | \bact\s+as\s+(an?\s+)?(unfiltered|uncensored|different|new)\b
      | \b(new|updated)\s+(instructions|rules)\s*:
      | \b(reveal|print|show|repeat|leak)\b[^.!?]{0,30}\b(system|hidden|secret|initial)\s+(prompt|instructions?|message)
      | </?\s*(system|assistant|untrusted_chat|instructions?)\s*>
      | \[\s*(system|INST)\s*\]
      | ^\s*(system|assistant)\s*:
    )""",
    re.IGNORECASE | re.VERBOSE,
)


@functools.lru_cache(maxsize=1)
def _external_detector() -> Callable[[str], bool] | None:
    try:
        mod = importlib.import_module("companion.affect.injection")
    except ImportError:
        return None
    for name in ("is_injection", "looks_like_injection", "detect"):
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None


def pattern_injection(text: str) -> bool:
    """The built-in pattern check (instruction overrides, role tags, prompt-leak requests)."""
    return bool(_PATTERNS.search(text or ""))


def looks_like_injection(text: str, record: AnalysisRecord | None = None) -> bool:
    """True when the record says so, the analyser's detector says so, or the patterns match."""
    if record is not None and getattr(record, "injection", False):
        return True
    detector = _external_detector()
    if detector is not None:
        try:
            result = detector(text)
            flagged = getattr(result, "flagged", result)
            if isinstance(flagged, float):
                flagged = flagged >= 0.5
            if flagged:
                return True
        except Exception:  # a broken detector must not hide the fallback check
            pass
    return pattern_injection(text)
