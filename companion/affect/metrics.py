"""Metrics and dev-set threshold tuning shared by training and evaluation."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score


def tune_thresholds(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-label threshold maximising that label's F1 on dev."""
    grid = np.arange(0.02, 0.95, 0.01)
    pred = probs[None, :, :] >= grid[:, None, None]  # (g, n, L)
    pos = y.astype(bool)[None]
    tp = (pred & pos).sum(1)
    fp = (pred & ~pos).sum(1)
    fn = (~pred & pos).sum(1)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    return grid[f1.argmax(0)]


def multilabel_macro_f1(probs: np.ndarray, y: np.ndarray, thresholds: np.ndarray) -> float:
    return float(f1_score(y, probs >= thresholds, average="macro", zero_division=0))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    return float(f1_score(y, pred, average="macro", zero_division=0))


def weighted_f1(y: np.ndarray, pred: np.ndarray) -> float:
    return float(f1_score(y, pred, average="weighted", zero_division=0))


def class_pr(y: np.ndarray, pred: np.ndarray, cls: int) -> tuple[float, float]:
    """(precision, recall) of one class."""
    return (float(precision_score(y == cls, pred == cls, zero_division=0)),
            float(recall_score(y == cls, pred == cls, zero_division=0)))
