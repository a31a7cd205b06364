"""The moderation policy: a level per toxicity category, and what each level does.

Levels run from 0 (off) to 4 (strict), like Twitch AutoMod. Each level has score thresholds for
``hold`` (queue for a human), ``delete`` and ``timeout``; the most severe action whose threshold a
category's score reaches wins. A ban is never automatic: ``ban`` is not an action here at all.

The policy is the ``moderation`` section of ``character.json`` (defaults in
``companion/character/character.json``, a partial copy in ``<data-dir>/character.json``), and a
``--moderation FILE`` JSON object merges on top of it key by key.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from companion.records import TOXICITY_CATEGORIES

Level = int
ACTIONS: tuple[str, ...] = ("allow", "hold", "delete", "timeout")  # by severity
SEVERITY = {a: i for i, a in enumerate(ACTIONS)}

DEFAULT_LEVELS: dict[str, int] = {
    "insult": 3, "identity_attack": 3, "harassment": 3, "threat": 4, "sexual": 3, "self_harm": 2,
    "profanity": 0,
}


class LevelThresholds(BaseModel):
    """Score (0..1) at which a category at this level is held, deleted or timed out; None = never."""

    model_config = ConfigDict(extra="forbid")

    hold: float | None = Field(default=None, ge=0.0, le=1.0)
    delete: float | None = Field(default=None, ge=0.0, le=1.0)
    timeout: float | None = Field(default=None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> "LevelThresholds":
        # A harsher action must need at least the score of a milder one, or the table is nonsense.
        seen = [(a, getattr(self, a)) for a in ("hold", "delete", "timeout") if getattr(self, a) is not None]
        for (a, x), (b, y) in zip(seen, seen[1:]):
            if y < x:
                raise ValueError(f"threshold for {b} ({y}) is below the one for {a} ({x})")
        return self


DEFAULT_THRESHOLDS: dict[int, LevelThresholds] = {
    1: LevelThresholds(hold=0.90),
    2: LevelThresholds(hold=0.75, delete=0.90),
    3: LevelThresholds(hold=0.60, delete=0.80, timeout=0.90),
    4: LevelThresholds(hold=0.40, delete=0.60, timeout=0.80),
}


class CalibrationSettings(BaseModel):
    """The per-channel calibration learned from the channel's own moderators."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    min_examples: int = Field(default=20, ge=1)  # and at least one of each label
    act_above: float = Field(default=0.5, gt=0.0, lt=1.0)  # p(removed) that raises allow -> act_action
    relax_below: float = Field(default=0.1, ge=0.0, lt=1.0)  # p(removed) that lowers hold/delete -> allow
    act_action: Literal["hold", "delete"] = "delete"
    learning_rate: float = Field(default=0.3, gt=0.0)
    implicit_negative_after_s: float = Field(default=300.0, gt=0.0)  # unremoved this long = acceptable
    implicit_negative_weight: float = Field(default=1.0, ge=0.0, le=1.0)
    max_examples: int = Field(default=20000, ge=100)  # per channel, oldest dropped


class ModerationPolicy(BaseModel):
    """Every moderation tunable. ``delete_threshold`` is the overall-score level the character
    engine's lexicon fallback flags at (records whose model did not run)."""

    model_config = ConfigDict(extra="forbid")

    levels: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_LEVELS))
    thresholds: dict[int, LevelThresholds] = Field(default_factory=lambda: copy.deepcopy(DEFAULT_THRESHOLDS))
    needs_target: list[str] = Field(default_factory=lambda: ["insult", "harassment", "sexual", "profanity"])
    flagged_unmatched: Literal["allow", "hold"] = "hold"  # analyser flagged, no category over threshold
    deny_action: Literal["delete", "timeout"] = "delete"  # what a reviewer's deny executes
    delete_threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    repeat_window_s: float = Field(default=600.0, gt=0.0)
    repeat_count: int = Field(default=2, ge=1)
    timeout_s: list[int] = Field(default_factory=lambda: [60, 600, 3600], min_length=1)
    spam_timeout_count: int = Field(default=4, ge=1)
    queue_size: int = Field(default=500, ge=1)
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(TOXICITY_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {sorted(unknown)}; known: {list(TOXICITY_CATEGORIES)}")
        for cat, lvl in value.items():
            if not isinstance(lvl, int) or not 0 <= lvl <= 4:
                raise ValueError(f"level for {cat} must be an integer 0..4, not {lvl!r}")
        return {**DEFAULT_LEVELS, **value}

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[int, LevelThresholds]) -> dict[int, LevelThresholds]:
        bad = set(value) - {1, 2, 3, 4}
        if bad:
            raise ValueError(f"thresholds are for levels 1..4, not {sorted(bad)}")
        return {**copy.deepcopy(DEFAULT_THRESHOLDS), **value}

    @field_validator("needs_target")
    @classmethod
    def _needs_target(cls, value: list[str]) -> list[str]:
        unknown = set(value) - set(TOXICITY_CATEGORIES)
        if unknown:
            raise ValueError(f"needs_target has unknown categories {sorted(unknown)}")
        return value

    def level_of(self, category: str) -> int:
        return int(self.levels.get(category, 0))

    def rules_for(self, level: int) -> LevelThresholds:
        return self.thresholds.get(level, LevelThresholds())

    def merged(self, overrides: dict[str, Any]) -> "ModerationPolicy":
        """This policy with ``overrides`` merged in key by key (nested objects merge)."""
        return ModerationPolicy.model_validate(_merge(self.model_dump(), overrides))

    @classmethod
    def from_file(cls, path: Path | str, base: "ModerationPolicy | None" = None) -> "ModerationPolicy":
        """A ``--moderation FILE``: a JSON object merged over ``base`` (default: the defaults)."""
        path = Path(path)
        try:
            over = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"--moderation {path}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f"--moderation {path}: not valid JSON ({exc})") from exc
        if not isinstance(over, dict):
            raise ValueError(f"--moderation {path}: must hold a JSON object")
        return (base or cls()).merged(over)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        k = int(key) if isinstance(key, str) and key.isdigit() and isinstance(next(iter(out), None), int) else key
        if isinstance(value, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], value)
        else:
            out[k] = value
    return out
