"""The dev set on which the sentiment ensemble's weights are fitted.

No labelled chat with emotes is available, so the dev set is built, seeded, from:
1. GoEmotions dev (sentiment from its emotion labels) and MELD dev (sentiment labels), as they are;
2. copies of those with 1-3 Twitch emotes appended or prepended. A neutral text takes the emote's
   polarity from the lexicon (valence >= 0.3 positive, <= -0.3 negative); a text that agrees with the
   emote keeps its label; conflicting pairs are dropped (sarcasm is not invented);
3. copies with emoji appended. A neutral text takes a label drawn from that emoji's real
   negative/neutral/positive tweet counts in the Emoji Sentiment Ranking; a polar text keeps its
   label unless the draw is the opposite polarity (then it is dropped);
4. emote-only and emoji-only messages labelled the same way.
Part 2 and 4 teach the regression how much the *lexicon's* emote polarity should count, so the emote
weight is only as good as the lexicon; this is stated in docs/BENCHMARKS.md.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from companion.affect import datasets as ds
from companion.affect.lexicons import LEXICON_DIR


def _polarity(v: float) -> int:
    return 2 if v >= 0.3 else (0 if v <= -0.3 else 1)


def build_ensemble_dev(data: Path, seed: int = ds.SEED) -> tuple[list[str], np.ndarray, list]:
    rng = np.random.default_rng(seed)
    go = ds.goemotions(data, "dev")
    me = ds.meld(data, "dev")
    texts = list(go.texts) + list(me.texts)
    y = list(ds.goemotions_sentiment(go)) + list(me.y[:, 1])
    lex = json.loads((LEXICON_DIR / "twitch_emotes.json").read_text())["emotes"]
    emotes = [(n, e["valence"]) for n, e in lex.items() if abs(e["valence"]) >= 0.3 or e["provider"] != "slang"]
    emoji = []
    with open(data / "emoji_sentiment" / "Emoji_Sentiment_Data_v1.0.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            n = int(r["Occurrences"])
            if n >= 30:
                c = np.array([int(r["Negative"]), int(r["Neutral"]), int(r["Positive"])], dtype=float)
                emoji.append((r["Emoji"], c / c.sum()))
    out_t, out_y = list(texts), list(y)
    base = len(texts)

    def keep(text: str, cue: int, label: int) -> None:
        # A neutral line takes the cue's polarity; a polar line keeps its label and is only
        # kept when the cue does not contradict it.
        if label == 1:
            out_t.append(text)
            out_y.append(cue)
        elif cue in (1, label):
            out_t.append(text)
            out_y.append(label)

    for _ in range(4000):
        i = int(rng.integers(base))
        name, v = emotes[int(rng.integers(len(emotes)))]
        lab = _polarity(v)
        rep = " ".join([name] * int(rng.integers(1, 4)))
        t = f"{rep} {texts[i]}" if rng.random() < 0.2 else f"{texts[i]} {rep}"
        keep(t, lab, y[i])
    for _ in range(2500):
        i = int(rng.integers(base))
        e, dist = emoji[int(rng.integers(len(emoji)))]
        lab = int(rng.choice(3, p=dist))
        keep(f"{texts[i]} {e * int(rng.integers(1, 4))}", lab, y[i])
    for _ in range(1000):
        if rng.random() < 0.5:
            name, v = emotes[int(rng.integers(len(emotes)))]
            out_t.append(" ".join([name] * int(rng.integers(1, 4))))
            out_y.append(_polarity(v))
        else:
            e, dist = emoji[int(rng.integers(len(emoji)))]
            out_t.append(e * int(rng.integers(1, 4)))
            out_y.append(int(rng.choice(3, p=dist)))
    return out_t, np.asarray(out_y, dtype=np.int64), []
