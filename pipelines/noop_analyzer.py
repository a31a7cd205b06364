"""An analyser that analyses nothing: it measures the runtime alone (``benchmarks.pipeline
--no-op``) and drives runtime tests without loading models."""
from __future__ import annotations

from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from pipelines.event import Event


class NoopAnalyzer:
    def analyze_messages(self, msgs: list[ChatMessage], deep: bool = True) -> list[Event]:
        events = []
        for m in msgs:
            rec = AnalysisRecord.for_message(m)
            rec.degraded = not deep
            events.append(Event(m, rec))
        return events
