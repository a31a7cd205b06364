"""Tunables of the character engine, loaded from one JSON file.

The defaults live in ``companion/character/character.json``. A partial copy at
``<data-dir>/character.json`` overrides them key by key (nested objects merge). Keys:

* ``name`` / ``persona``: the character's name (direct-address detection) and persona line.
* ``neurochem``: per-chemical ``baseline`` (0..1) and ``half_life_s``; ``gain``, the drive
  rate (per second) of each affect term of the chat mix; ``event_gain``, the impulse gains of
  events; ``fast_tau_s`` / ``slow_tau_s``, the time constants of the affect mixes;
  ``rate_half_msgs_s``, the message rate at half activity; ``wave_on`` / ``wave_off`` /
  ``wave_min_messages``, the toxic-wave latch; ``tolerance``, per affect term, the share of
  chat that is still ordinary (see :mod:`companion.character.neurochem`).
* ``expression``: hysteresis ``margin`` (PAD distance) and ``min_dwell_s``.
* ``sampling``: ranges of the LLM sampling parameters derived from the mood.
* ``pick``: score ``weights`` per reason, ``min_score`` to recommend, ``max_picks``, candidate
  ``window_s``, ``toxicity_skip`` threshold, spam detection (``spam_similarity``,
  ``spam_window_s``, ``copypasta_count``).
* ``memories_k`` / ``memory_relevance_floor`` / ``memory_lexical_bonus``: how many memories a
  recommendation may carry, and the relevance (cosine, plus the bonus when a content word is
  shared) a memory needs to be attached at all (both tuned on a labelled dev split by
  ``benchmarks.character_memory_floor``).
* ``reply``: throttles of the LLM reply loop (``min_interval_s``, ``viewer_cooldown_s``,
  ``max_chars``; see :mod:`companion.character.reply_loop`).
* ``vts``: the VTube Studio avatar (``hotkeys``: expression -> hotkey name, ``parameters``:
  expression -> {parameter id: value}; see :mod:`companion.character.avatar`).
* ``moderation``: the moderation policy (:mod:`companion.moderation.policy`): a ``levels`` entry
  per toxicity category (0 off .. 4 strict), per-level ``thresholds`` for hold/delete/timeout,
  repeat-offender window and count, escalating ``timeout_s`` ladder, ``spam_timeout_count``,
  the review queue and the per-channel ``calibration``.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from companion.moderation.policy import ModerationPolicy as ModerationConfig

DEFAULTS_PATH = Path(__file__).with_name("character.json")
CHEMICALS: tuple[str, ...] = ("dopamine", "serotonin", "cortisol", "oxytocin")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(slots=True)
class NeurochemConfig:
    baseline: dict[str, float]
    half_life_s: dict[str, float]
    gain: dict[str, float]  # drive rates per second at full activity and mean affect 1
    event_gain: dict[str, float]  # impulse gains of raids/subs/bits, insults and toxic waves
    fast_tau_s: float = 30.0
    slow_tau_s: float = 300.0
    rate_half_msgs_s: float = 0.5
    wave_on: float = 0.25
    wave_off: float = 0.1
    wave_min_messages: float = 4.0
    tolerance: dict[str, float] = field(default_factory=dict)  # per affect term: ordinary share


@dataclass(slots=True)
class ExpressionConfig:
    margin: float = 0.08
    min_dwell_s: float = 4.0


@dataclass(slots=True)
class PickConfig:
    weights: dict[str, float]
    min_score: float = 1.5
    max_picks: int = 3
    window_s: float = 120.0
    toxicity_skip: float = 0.8
    spam_similarity: float = 0.9
    spam_window_s: float = 60.0
    copypasta_count: int = 3


@dataclass(slots=True)
class CharacterConfig:
    """Every tunable of the character engine. Build with :meth:`load` or :meth:`from_dict`."""

    name: str
    persona: str
    neurochem: NeurochemConfig
    expression: ExpressionConfig
    sampling: dict[str, float]
    pick: PickConfig
    moderation: ModerationConfig
    memories_k: int = 5
    memory_relevance_floor: float = 0.0
    memory_lexical_bonus: float = 0.0
    recent_context: int = 8
    keep_recommendations: int = 50
    mood_publish_interval_s: float = 2.0
    reply: dict[str, float] = field(default_factory=dict)  # companion.character.reply_loop.ReplyConfig
    vts: dict[str, Any] = field(default_factory=dict)  # companion.character.avatar.AvatarConfig

    @classmethod
    def from_dict(cls, overrides: dict[str, Any] | None = None) -> "CharacterConfig":
        """Defaults from ``character.json`` merged with ``overrides``. Unknown keys raise."""
        raw = json.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
        d = _merge(raw, overrides or {})
        d.pop("_doc", None)
        try:
            nc = d.pop("neurochem")
            for part in ("baseline", "half_life_s"):
                missing = set(CHEMICALS) - set(nc[part])
                if missing:
                    raise ValueError(f"neurochem.{part} lacks {sorted(missing)}")
            for chem in CHEMICALS:
                if not 0.0 <= float(nc["baseline"][chem]) <= 1.0:
                    raise ValueError(f"neurochem.baseline.{chem} must be in [0, 1]")
                if float(nc["half_life_s"][chem]) <= 0:
                    raise ValueError(f"neurochem.half_life_s.{chem} must be > 0")
            return cls(
                neurochem=NeurochemConfig(**nc),
                expression=ExpressionConfig(**d.pop("expression")),
                pick=PickConfig(**d.pop("pick")),
                moderation=ModerationConfig(**d.pop("moderation")),
                **d,
            )
        except TypeError as exc:
            raise ValueError(f"bad character config: {exc}") from exc

    @classmethod
    def load(cls, data_dir: Path | None = None) -> "CharacterConfig":
        """Defaults, overridden by ``<data_dir>/character.json`` when that file exists."""
        if data_dir is not None:
            path = Path(data_dir) / "character.json"
            if path.is_file():
                try:
                    over = json.loads(path.read_text(encoding="utf-8"))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: not valid JSON ({exc})") from exc
                return cls.from_dict(over)
        return cls.from_dict()
