"""Chat-domain sentiment and Ekman rows of ``companion.affect.evaluate``.

- Twitch-Sentiment test split (saved, seeded; ``twitch_sentiment.SPLIT_FILE``): macro-F1 of the
  shipped sentiment (the ensemble over head + lexicons, what ``sentiment.label`` is), with, from the
  same run, VADER alone (compound >= 0.05 positive, <= -0.05 negative, the usual cut), the lexicon
  ensemble without the model (the degraded mode) and the head alone.
- MELD test through ``ekman.label``, one utterance at a time (no context): weighted F1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.affect import datasets as ds
from companion.affect import metrics as M
from companion.affect.ensemble import SentimentEnsemble, component_matrix, lexicon_columns
from companion.affect.features_cache import EncoderSpec, cached_features
from companion.affect.heads import AffectHeads
from companion.affect.lexicons import EmojiScorer, EmoteScorer, VaderScorer
from companion.affect.twitch_sentiment import SPLIT_FILE

SHIPPED_SPLIT = Path(__file__).parent / "artifacts" / SPLIT_FILE


def vader_only(scores: list) -> np.ndarray:
    """3-class labels from VADER's compound alone (its authors' +-0.05 cut)."""
    return np.array([1 if s.score is None or abs(s.score) < 0.05 else (2 if s.score > 0 else 0) for s in scores])


def twitch_rows(heads: AffectHeads, data: Path, artifacts: Path, cache: Path, spec: EncoderSpec,
                split: str = "test") -> dict:
    """Macro-F1 on a Twitch-Sentiment split: shipped ensemble, head alone, lexicon-only, VADER alone."""
    # a --licensed-only variant never saw the set, so it has no split of its own: the shipped one
    split_file = artifacts / SPLIT_FILE if (artifacts / SPLIT_FILE).exists() else SHIPPED_SPLIT
    if not split_file.exists() or not (data / "twitch_sentiment" / "labels.csv").exists():
        return {}
    sp = ds.twitch_sentiment(data, split, ds.twitch_split_keys(data, split_file))
    ens = SentimentEnsemble.load(artifacts / "sentiment_ensemble.json")
    emote = EmoteScorer(artifacts / "emote_lexicon.json") if (artifacts / "emote_lexicon.json").exists() else EmoteScorer()
    vader = VaderScorer()
    cols = lexicon_columns(sp.texts, vader, EmojiScorer.load(artifacts / "emoji_sentiment.json"), emote)
    probs = heads.predict(cached_features(f"twitch_sentiment_{split}", sp.texts, cache, spec)).sentiment
    X = component_matrix(probs, *cols)
    p = f"twitch_sentiment_{split}"
    return {f"{p}_macro_f1": M.macro_f1(sp.y, ens.proba(X).argmax(1)),
            f"{p}_head_only_macro_f1": M.macro_f1(sp.y, probs.argmax(1)),
            f"{p}_lexicon_only_macro_f1": M.macro_f1(sp.y, ens.proba(X, deep=False).argmax(1)),
            f"{p}_vader_only_macro_f1": M.macro_f1(sp.y, vader_only([vader(t) for t in sp.texts])),
            f"{p}_n": len(sp.y)}


def meld_ekman_rows(heads: AffectHeads, meld_test_features: np.ndarray, y_emotion: np.ndarray) -> dict:
    """MELD test emotions through ``ekman.label`` (single utterances), weighted and macro F1."""
    pred = heads.predict(meld_test_features).ekman_label
    return {"meld_ekman_label_weighted_f1": M.weighted_f1(y_emotion, pred),
            "meld_ekman_label_macro_f1": M.macro_f1(y_emotion, pred)}
