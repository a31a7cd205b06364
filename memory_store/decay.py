"""Ebbinghaus forgetting curve, spaced-repetition stability and the consolidation score.

All functions accept numpy arrays as well as floats, so the store can score a million memories
in one vectorised pass.
"""
from __future__ import annotations

import numpy as np

from memory_store.config import MemoryConfig


def initial_stability(importance, cfg: MemoryConfig):
    """Stability S0 in seconds: important memories start more stable (they fade slower)."""
    return cfg.base_stability_s * (1.0 + cfg.importance_stability_gain * np.asarray(importance))


def retention(elapsed_s, stability_s, pinned=False):
    """R = exp(-t / S); pinned (core) memories never decay (R = 1)."""
    t = np.maximum(np.asarray(elapsed_s, dtype=np.float64), 0.0)
    r = np.exp(-t / np.maximum(np.asarray(stability_s, dtype=np.float64), 1e-9))
    return np.where(pinned, 1.0, r)


def reinforce(stability_s, cfg: MemoryConfig):
    """Stability after one more recall (spaced repetition, as in MemoryBank)."""
    return np.asarray(stability_s) * cfg.recall_growth


def consolidation_score(importance, access_count, cfg: MemoryConfig):
    """importance * w_imp + tanh(access / scale) * w_access; promotion when above threshold."""
    return (np.asarray(importance) * cfg.consolidation_importance_weight
            + np.tanh(np.asarray(access_count) / cfg.access_scale) * cfg.consolidation_access_weight)


def prune_score(elapsed_s, stability_s, importance, pinned=False):
    """R * importance: what pruning compares with ``prune_threshold``."""
    return retention(elapsed_s, stability_s, pinned) * np.asarray(importance)
