"""The unit that flows between stages after analysis: the message, its record, and its vector."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.messages import ChatMessage
from companion.records import AnalysisRecord

if TYPE_CHECKING:
    import numpy as np


@dataclass(slots=True)
class Event:
    message: ChatMessage
    record: AnalysisRecord
    # L2-normalised 384-d sentence embedding from the analyser's single encoder pass;
    # None when deep analysis was skipped (degraded) or no encoder is loaded.
    embedding: "np.ndarray | None" = None
    # The viewer's message count once the remember stage has counted this message; None before
    # (or without memory). The character engine reads it here instead of taking the store's lock.
    viewer_messages: int | None = None
