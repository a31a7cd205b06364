"""Does a chat line look like a prompt-injection attempt? The analyser's flag
(``record.injection``) or, for records without it, the analyser's detector
(:func:`companion.affect.injection.looks_like_injection`): one detector for the whole engine."""
from __future__ import annotations

from companion.affect.injection import looks_like_injection as _detector
from companion.records import AnalysisRecord


def looks_like_injection(text: str, record: AnalysisRecord | None = None) -> bool:
    """True when the record is flagged or the text matches a known injection phrasing."""
    if record is not None and getattr(record, "injection", False):
        return True
    return _detector(text or "")
