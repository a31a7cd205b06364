"""Held messages waiting for a human: bounded, persisted in ``<data-dir>/moderation/queue.json``
(atomic replace on every change), so a restart keeps what is pending."""
from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from companion.moderation.decision import Decision

log = logging.getLogger(__name__)


@dataclass(slots=True)
class HeldMessage:
    id: str
    message_id: str
    platform: str
    channel: str
    user: str
    user_id: str | None
    text: str
    ts: float
    held_at: float
    decision: Decision
    features: dict[str, float] = field(default_factory=dict)

    def to_dict(self, text: bool = True) -> dict[str, Any]:
        """The API view; ``text=False`` for the audit log, which keeps no chat text."""
        d = asdict(self)
        d.pop("features")
        if not text:
            d.pop("text")
        return d

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> "HeldMessage":
        d = dict(d)
        d["decision"] = Decision.from_dict(d["decision"])
        return cls(**d)


class ReviewQueue:
    """FIFO of at most ``capacity`` held messages; the oldest is dropped (and returned) when full."""

    def __init__(self, path: Path, capacity: int = 500) -> None:
        self.path = Path(path)
        self.capacity = capacity
        self._items: OrderedDict[str, HeldMessage] = OrderedDict()
        self._lock = threading.Lock()
        self.dropped = 0
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            items = [HeldMessage.from_state(d) for d in raw["items"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("review queue %s unreadable (%s); starting empty", self.path, exc)
            os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            return
        for item in items[-self.capacity:]:
            self._items[item.id] = item

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        blob = {"version": 1, "items": [i.to_state() for i in self._items.values()]}
        tmp.write_text(json.dumps(blob, default=str), encoding="utf-8")
        os.replace(tmp, self.path)

    def hold(self, item_fields: dict[str, Any]) -> tuple[HeldMessage, HeldMessage | None]:
        """Queue a message; returns it and the item dropped to make room (or None)."""
        item = HeldMessage(id=uuid.uuid4().hex[:16], **item_fields)
        dropped = None
        with self._lock:
            if any(i.message_id == item.message_id for i in self._items.values()):
                return next(i for i in self._items.values() if i.message_id == item.message_id), None
            if len(self._items) >= self.capacity:
                _, dropped = self._items.popitem(last=False)
                self.dropped += 1
            self._items[item.id] = item
            self._save()
        return item, dropped

    def pop(self, item_id: str) -> HeldMessage | None:
        """Remove and return one item (None when it is not pending)."""
        with self._lock:
            item = self._items.pop(item_id, None)
            if item is not None:
                self._save()
            return item

    def remove_message(self, message_id: str) -> HeldMessage | None:
        """Drop the item for a platform message (it was removed elsewhere, e.g. by a moderator)."""
        with self._lock:
            for key, item in self._items.items():
                if item.message_id == message_id:
                    del self._items[key]
                    self._save()
                    return item
        return None

    def remove_viewer(self, viewer_key: str) -> int:
        """Drop every held message of a viewer (``platform:user_id`` or ``platform:login``)."""
        with self._lock:
            gone = [k for k, i in self._items.items()
                    if viewer_key in (f"{i.platform}:{i.user_id}", f"{i.platform}:{i.user.lower()}")]
            for key in gone:
                del self._items[key]
            if gone:
                self._save()
        return len(gone)

    def items(self) -> list[HeldMessage]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)
