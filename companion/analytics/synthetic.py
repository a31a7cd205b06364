"""Synthetic chat for tests, the forecast evaluation and demos: analysed events without a model."""
from __future__ import annotations

import math
import random
from typing import Iterator

from companion.messages import ChatMessage, MessageKind
from companion.records import AnalysisRecord, Ekman, Sentiment, Toxicity
from pipelines.event import Event

_WORDS = ("stream", "boss", "fight", "music", "chat", "build", "level", "map", "team", "song", "art", "cat",
          "jump", "speedrun", "dragon", "sword", "cozy", "tea", "pixel", "score", "round", "puzzle", "story", "ending")


def make_event(ts: float, user: str, text: str, channel: str = "demo", sentiment: float = 0.0,
               toxic: bool = False, emotion: str = "neutral", kind: MessageKind = MessageKind.MESSAGE,
               platform: str = "twitch", **fields) -> Event:
    """One analysed event with the given sentiment/toxicity, as the analyser would hand it on."""
    msg = ChatMessage(text=text, platform=platform, channel=channel, user=user, ts=ts, kind=kind, **fields)
    label = "positive" if sentiment > 0.05 else "negative" if sentiment < -0.05 else "neutral"
    rec = AnalysisRecord(id=msg.id, ts=ts, platform=platform, channel=channel, user=user, text=text,
                         sentiment=Sentiment(label=label, score=sentiment),
                         ekman=Ekman(label=emotion),
                         toxicity=Toxicity(score=0.9 if toxic else 0.02, label="offensive" if toxic else "none",
                                           flagged=toxic),
                         kind=kind.value)
    return Event(message=msg, record=rec)


def chat_line(rng: random.Random) -> str:
    """A varied, harmless chat line (distinct enough not to look like spam)."""
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 7))) + f" {rng.randint(0, 99999)}"


def steady_stream(start: float, seconds: int, per_second: float, channel: str = "demo", viewers: int = 40,
                  seed: int = 0, toxic_rate: float = 0.0) -> Iterator[Event]:
    """Evenly spaced messages from a fixed pool of viewers, with mild sentiment."""
    rng = random.Random(seed)
    n = int(seconds * per_second)
    for i in range(n):
        ts = start + i / per_second
        yield make_event(ts, f"viewer{rng.randrange(viewers)}", chat_line(rng), channel,
                         sentiment=round(rng.uniform(-0.2, 0.5), 3), toxic=rng.random() < toxic_rate)


def seasonal_rate(minute: int, base: float = 30.0, trend: float = 0.05, amplitude: float = 10.0,
                  season_min: int = 60) -> float:
    """Expected messages per minute: a trend plus a sine season (e.g. segments of a show)."""
    return max(0.0, base + trend * minute + amplitude * math.sin(2 * math.pi * minute / season_min))
