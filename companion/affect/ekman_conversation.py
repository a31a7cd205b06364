"""Ekman-7 on Reddit comments (GoEmotions-Ekman, multi-label) and on conversation (MELD utterances,
single-label): the two Ekman heads of the bundle.

MELD's seven emotions are Ekman's, in the same order (``datasets.MELD_EMOTIONS`` ==
``records.EKMAN_LABELS``), so a MELD utterance is a one-hot Ekman target, weighted ``meld_weight``
per example in the BCE. Two heads, two read-outs:
- ``ekman.scores``: the ``ekman`` head, GoEmotions-Ekman alone, through ``heads.ekman_probs`` (the
  head averaged with the grouped GoEmotions head) with per-label thresholds tuned on GoEmotions dev:
  the multi-label view, also what the PAD refiner and the mood tracker read;
- ``ekman.label``: the ``ekman_label`` head (``heads.EKMAN_LABEL_HEAD``), trained on GoEmotions-Ekman
  and MELD together (``MELD_LABEL_WEIGHT``), as ``argmax(log p + label_bias)`` with per-class biases
  chosen on MELD dev by coordinate ascent on weighted F1 (MELD is 47% neutral; the biases undo the
  Reddit prior).
Why two heads: one head trained on both held MELD (ekman.label weighted-F1 0.592 on test) but lost
GoEmotions Ekman-7 macro-F1 (0.588 -> 0.579, under the 0.58 floor), and every change to the score
view would also move the PAD refiner's and the mood tracker's inputs. The label is a single-label
decision on conversation; the scores are a multi-label view of a comment: separate heads let each
keep its own floor. Early stopping scores the mean of GoEmotions-Ekman dev macro-F1 and MELD dev
weighted F1 (GoEmotions alone without MELD).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from companion.affect import metrics as M
from companion.affect.modules import MLPHead

# per-utterance loss weight of MELD in the label head (1, 2, 4 tried: MELD dev label F1 .565, .576, .587)
MELD_LABEL_WEIGHT = 4.0
BIAS_GRID = np.round(np.arange(-1.5, 1.51, 0.1), 2)


def label_from_head(head_probs: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``ekman.label`` indices: argmax of the head's log-probabilities plus the dev-chosen bias."""
    z = np.log(np.clip(head_probs, 1e-6, 1.0))
    return (z + (0.0 if bias is None else bias)).argmax(1)


def tune_label_bias(head_probs: np.ndarray, y: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Per-class log-bias maximising weighted F1 on (MELD) dev, one class at a time."""
    b = np.zeros(head_probs.shape[1])
    for _ in range(rounds):
        for j in range(len(b)):
            best, best_v = M.weighted_f1(y, label_from_head(head_probs, b)), b[j]
            for v in BIAS_GRID:
                c = b.copy()
                c[j] = v
                s = M.weighted_f1(y, label_from_head(head_probs, c))
                if s > best + 1e-9:
                    best, best_v = s, v
            b[j] = best_v
    return b


def train_ekman_head(fit: Callable, x_go: torch.Tensor, y_go: np.ndarray, x_meld: torch.Tensor,
                     y_meld: np.ndarray | None, go_dev: tuple[torch.Tensor, np.ndarray, torch.Tensor],
                     meld_dev: tuple[torch.Tensor, np.ndarray] | None, head_dim: int, epochs: int,
                     meld_weight: float = MELD_LABEL_WEIGHT) -> tuple[MLPHead, dict]:
    """Train the head (``fit`` is ``train.fit``). ``go_dev`` = (features, multi-hot labels, GoEmotions-28
    probabilities for the grouped view); ``meld_dev`` = (features, emotion indices). With MELD this
    is the ``ekman_label`` head (with its ``label_bias``); without (``y_meld`` None) the
    GoEmotions-only ``ekman`` score head, with no label bias."""
    from companion.affect.heads import ekman_probs  # heads imports label_from_head from here

    n_go = len(y_go)
    X, Y = x_go, torch.from_numpy(np.concatenate([y_go, np.ones((n_go, 1), np.float32)], 1))
    if y_meld is not None:
        onehot = np.eye(y_go.shape[1], dtype=np.float32)[y_meld]
        X = torch.cat([x_go, x_meld])
        w = np.full((len(onehot), 1), meld_weight, np.float32)
        Y = torch.cat([Y, torch.from_numpy(np.concatenate([onehot, w], 1))])
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    m = MLPHead(head_dim, y_go.shape[1], hidden=1024, dropout=0.2)
    xg, yg, emo_g = go_dev

    def go_probs() -> np.ndarray:
        return ekman_probs(torch.sigmoid(m(xg)), emo_g).detach().numpy()

    def score() -> float:
        pr = go_probs()
        go = M.multilabel_macro_f1(pr, yg, M.tune_thresholds(pr, yg))
        if meld_dev is None or y_meld is None:
            return go
        pm = torch.sigmoid(m(meld_dev[0])).detach().numpy()
        return (go + M.weighted_f1(meld_dev[1], label_from_head(pm, None))) / 2

    def loss(m, x, y):
        return (bce(m(x), y[:, :-1]).mean(1) * y[:, -1]).sum() / y[:, -1].sum()

    m, best = fit(m, X, Y, loss, score, epochs, lr=3e-4, wd=0.05, bs=256, patience=2, desc="ekman")
    with torch.no_grad():
        pr = go_probs()
        th = M.tune_thresholds(pr, yg)
        extra: dict = {"thresholds": th.round(3).tolist()}
        report = {"dev_score": best, "dev_macro_f1": M.multilabel_macro_f1(pr, yg, th),
                  "meld_weight": meld_weight if y_meld is not None else 0.0}
        if meld_dev is not None and y_meld is not None:
            pm = torch.sigmoid(m(meld_dev[0])).numpy()
            bias = tune_label_bias(pm, meld_dev[1])
            extra["label_bias"] = bias.round(2).tolist()
            report["meld_dev_label_weighted_f1"] = M.weighted_f1(meld_dev[1], label_from_head(pm, bias))
            report["meld_dev_label_weighted_f1_no_bias"] = M.weighted_f1(meld_dev[1], label_from_head(pm, None))
    m.config["extra"] = extra
    return m, report
