"""Hand-built records with toxicity categories and target, for the moderation tests."""
from __future__ import annotations

from companion.messages import ChatMessage
from companion.records import TOXICITY_CATEGORIES, AnalysisRecord, Toxicity
from pipelines.event import Event


def tox_record(text: str = "", score: float | None = None, target: str | None = "person", flagged: bool = False,
               label: str | None = None, **categories: float) -> AnalysisRecord:
    """A record whose toxicity carries ``categories`` (the rest 0) and ``target``; ``score``
    defaults to the highest category."""
    cats = {c: float(categories.get(c, 0.0)) for c in TOXICITY_CATEGORIES}
    unknown = set(categories) - set(TOXICITY_CATEGORIES)
    assert not unknown, unknown
    top = max(cats.values())
    rec = AnalysisRecord(text=text)
    rec.toxicity = Toxicity(score=top if score is None else score, label=label or ("offensive" if top >= 0.5 else "none"),
                            flagged=flagged, categories=cats, target=target)
    return rec


def chat(text: str, user: str = "viewer", channel: str = "chan", platform: str = "twitch", msg_id: str | None = None,
         user_id: str | None = None, ts: float = 0.0) -> ChatMessage:
    kw = dict(text=text, user=user, channel=channel, platform=platform, user_id=user_id, ts=ts)
    if msg_id:
        kw["id"] = msg_id
    return ChatMessage(**kw)


def tox_event(text: str, *, user: str = "viewer", channel: str = "chan", platform: str = "twitch",
              msg_id: str | None = None, user_id: str | None = None, ts: float = 0.0, **kw) -> Event:
    msg = chat(text, user, channel, platform, msg_id, user_id, ts)
    rec = tox_record(text, **kw)
    rec.id, rec.user, rec.channel, rec.platform = msg.id, msg.user, msg.channel, msg.platform
    return Event(message=msg, record=rec)
