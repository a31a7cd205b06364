"""Sentiment ensemble: a multinomial logistic regression over the components, fitted on dev data.

Inputs per message: the trained head's log-probabilities, VADER compound (and whether VADER found
any sentiment word), the emoji score and count, the emote score and count. Missing components are 0
with their presence flag 0, so the regression learns how far to trust each one when present.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N_FEATURES = 10


def component_matrix(model_probs: np.ndarray | None, vader: list, emoji: list, emote: list) -> np.ndarray:
    """(n, N_FEATURES). ``model_probs`` (n, 3) or None (lexicon-only mode: model columns 0)."""
    n = len(vader)
    X = np.zeros((n, N_FEATURES), dtype=np.float64)
    if model_probs is not None:
        X[:, 0:3] = np.log(np.clip(model_probs, 1e-4, 1.0))
        X[:, 9] = 1.0
    for i in range(n):
        v, e, m = vader[i], emoji[i], emote[i]
        X[i, 3] = v.score or 0.0
        X[i, 4] = float(v.hits > 0)
        X[i, 5] = e.score or 0.0
        X[i, 6] = np.log1p(e.hits) * (e.score or 0.0)
        X[i, 7] = m.score or 0.0
        X[i, 8] = np.log1p(m.hits) * (m.score or 0.0)
    return X


LEXICON_COLUMNS = slice(3, 9)


def lexicon_features(vader: list, emoji: list, emote: list) -> np.ndarray:
    """(n, 6) float32: the lexicon columns of ``component_matrix`` (VADER compound and hit, emoji
    score and log-count x score, emote score and log-count x score), also read by the PAD refiner."""
    return component_matrix(None, vader, emoji, emote)[:, LEXICON_COLUMNS].astype(np.float32)


def lexicon_columns(texts: list[str], vader, emoji, emote) -> tuple[list, list, list]:
    """VADER (on the text without emotes), emoji and emote scores of plain texts, as the analyser
    scores them: the last three arguments of ``component_matrix``."""
    from companion.affect.lexicons import strip_emotes

    return [vader(strip_emotes(t, emote)) for t in texts], [emoji(t) for t in texts], [emote(t) for t in texts]


def score_lexicons(texts: list[str], vader, emoji, emote) -> np.ndarray:
    """``lexicon_features`` of plain texts, scored as the analyser scores them (VADER without emotes)."""
    return lexicon_features(*lexicon_columns(texts, vader, emoji, emote))


class SentimentEnsemble:
    """Two fitted regressions: with the model head (deep) and without it (lexicon-only, degraded)."""

    def __init__(self, deep: dict, lexicon: dict) -> None:
        self.deep, self.lexicon = deep, lexicon

    @staticmethod
    def _fit_one(X: np.ndarray, y: np.ndarray, seed: int, sample_weight: np.ndarray | None) -> dict:
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced", random_state=seed)
        lr.fit(X, y, sample_weight=sample_weight)
        return {"coef": lr.coef_.tolist(), "intercept": lr.intercept_.tolist()}

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, seed: int = 13,
            sample_weight: np.ndarray | None = None) -> "SentimentEnsemble":
        Xl = X.copy()
        Xl[:, [0, 1, 2, 9]] = 0.0
        return cls(cls._fit_one(X, y, seed, sample_weight), cls._fit_one(Xl, y, seed, sample_weight))

    def proba(self, X: np.ndarray, deep: bool = True) -> np.ndarray:
        p = self.deep if deep else self.lexicon
        z = X @ np.asarray(p["coef"]).T + np.asarray(p["intercept"])
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def save(self, path: Path, fitted_on: dict | None = None) -> None:
        d = {"features": N_FEATURES, "deep": self.deep, "lexicon": self.lexicon}
        if fitted_on is not None:
            d["fitted_on"] = fitted_on
        path.write_text(json.dumps(d, indent=1))

    @classmethod
    def load(cls, path: Path) -> "SentimentEnsemble":
        d = json.loads(path.read_text())
        return cls(d["deep"], d["lexicon"])


def fit_on_chat_dev(X_chat: np.ndarray, y_chat: np.ndarray, X_extra: np.ndarray, y_extra: np.ndarray,
                    seed: int = 13, folds: int = 5) -> tuple[SentimentEnsemble, dict]:
    """Fit the ensemble on a labelled chat dev split (the Twitch one), choosing by ``folds``-fold
    cross-validated macro-F1 on it whether to add the synthetic ensemble dev set (``ensemble_dev``)
    at equal total weight. Returns the ensemble refitted on the whole chat dev (+ the extra set if
    chosen) and the choice's report."""
    from sklearn.model_selection import StratifiedKFold

    from companion.affect.metrics import macro_f1

    def weights(n_chat: int, extra: bool) -> np.ndarray | None:
        if not extra:
            return None
        return np.concatenate([np.ones(n_chat), np.full(len(y_extra), n_chat / max(len(y_extra), 1))])

    report: dict = {}
    for extra in (False, True):
        pred, pred_l = np.zeros(len(y_chat), np.int64), np.zeros(len(y_chat), np.int64)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X_chat, y_chat):
            Xf = np.concatenate([X_chat[tr], X_extra]) if extra else X_chat[tr]
            yf = np.concatenate([y_chat[tr], y_extra]) if extra else y_chat[tr]
            e = SentimentEnsemble.fit(Xf, yf, seed, weights(len(tr), extra))
            pred[te], pred_l[te] = e.proba(X_chat[te]).argmax(1), e.proba(X_chat[te], deep=False).argmax(1)
        report["with_ensemble_dev" if extra else "chat_dev_only"] = {
            "cv_macro_f1_deep": macro_f1(y_chat, pred), "cv_macro_f1_lexicon": macro_f1(y_chat, pred_l)}
    extra = report["with_ensemble_dev"]["cv_macro_f1_deep"] > report["chat_dev_only"]["cv_macro_f1_deep"]
    report["chosen"] = "with_ensemble_dev" if extra else "chat_dev_only"
    Xf = np.concatenate([X_chat, X_extra]) if extra else X_chat
    yf = np.concatenate([y_chat, y_extra]) if extra else y_chat
    return SentimentEnsemble.fit(Xf, yf, seed, weights(len(y_chat), extra)), report
