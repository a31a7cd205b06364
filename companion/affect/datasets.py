"""Loaders for the labelled sets in ``../shared/data`` (see its README), with fixed, seeded splits."""
from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from companion.records import EKMAN_LABELS, GOEMOTIONS_LABELS

SEED = 13
_RT = re.compile(r"^(?:RT\s+)?(?:@\w+:?\s*)+")

# GoEmotions -> 3-class sentiment, following the paper's sentiment grouping (ambiguous -> neutral).
POSITIVE_EMOTIONS = frozenset({"admiration", "amusement", "approval", "caring", "desire", "excitement",
                               "gratitude", "joy", "love", "optimism", "pride", "relief"})
NEGATIVE_EMOTIONS = frozenset({"anger", "annoyance", "disappointment", "disapproval", "disgust",
                               "embarrassment", "fear", "grief", "nervousness", "remorse", "sadness"})


@dataclass(slots=True)
class Split:
    texts: list[str]
    y: np.ndarray
    meta: dict = field(default_factory=dict)


def default_data_dir() -> Path:
    """``../shared/data`` relative to the repository root."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def clean_tweet(text: str) -> str:
    """Unescape HTML entities and drop the ``RT @user:`` prefix, as a live chat line would arrive."""
    return _RT.sub("", html.unescape(html.unescape(text))).strip()


def _multilabel_tsv(path: Path, n_labels: int) -> Split:
    """GoEmotions' TSV layout: text, comma-separated label indices, id."""
    texts, rows = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            texts.append(parts[0])
            rows.append([int(x) for x in parts[1].split(",")])
    y = np.zeros((len(texts), n_labels), dtype=np.float32)
    for i, r in enumerate(rows):
        y[i, r] = 1
    return Split(texts, y)


def goemotions(data: Path, split: str) -> Split:
    """Multi-hot (n, 28) labels."""
    return _multilabel_tsv(data / "goemotions" / "original" / f"{split}.tsv", len(GOEMOTIONS_LABELS))


def ekman(data: Path, split: str) -> Split:
    labels = (data / "goemotions" / "ekman" / "labels.txt").read_text().split()
    assert tuple(labels) == EKMAN_LABELS, labels
    return _multilabel_tsv(data / "goemotions" / "ekman" / f"{split}.tsv", len(EKMAN_LABELS))


def goemotions_sentiment(go: Split) -> np.ndarray:
    """3-class (0 neg, 1 neu, 2 pos) from GoEmotions labels; mixed or ambiguous -> neutral."""
    out = np.ones(len(go.texts), dtype=np.int64)
    pos = [GOEMOTIONS_LABELS.index(x) for x in POSITIVE_EMOTIONS]
    neg = [GOEMOTIONS_LABELS.index(x) for x in NEGATIVE_EMOTIONS]
    p = go.y[:, pos].sum(1) > 0
    n = go.y[:, neg].sum(1) > 0
    out[p & ~n] = 2
    out[n & ~p] = 0
    return out


def emobank(data: Path, split: str) -> Split:
    """V, A, D rescaled from 1..5 to -1..1."""
    texts, y = [], []
    with open(data / "emobank" / "emobank.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["split"] == split:
                texts.append(r["text"])
                y.append([(float(r[k]) - 3.0) / 2.0 for k in "VAD"])
    return Split(texts, np.asarray(y, dtype=np.float32))


MELD_EMOTIONS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
MELD_SENTIMENTS = ("negative", "neutral", "positive")


def meld(data: Path, split: str) -> Split:
    """Utterances in dialogue order; y = (emotion idx, sentiment idx); meta has dialogue ids/speakers."""
    name = {"train": "train", "dev": "dev", "test": "test"}[split]
    texts, y, dia, spk = [], [], [], []
    with open(data / "meld" / f"{name}_sent_emo.csv", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: (int(r["Dialogue_ID"]), int(r["Utterance_ID"])))
    for r in rows:
        t = r["Utterance"].replace("\x92", "'").replace("\x93", '"').replace("\x94", '"')
        texts.append(t)
        y.append((MELD_EMOTIONS.index(r["Emotion"]), MELD_SENTIMENTS.index(r["Sentiment"])))
        dia.append(int(r["Dialogue_ID"]))
        spk.append(r["Speaker"])
    return Split(texts, np.asarray(y, dtype=np.int64), {"dialogue": np.asarray(dia), "speaker": spk})


def davidson_split_ids(data: Path, path: Path | None = None) -> dict[str, list[int]]:
    """Seeded stratified 80/10/10 split of Davidson row ids; loaded from ``path`` when it exists."""
    if path is not None and path.exists():
        return json.loads(path.read_text())
    from sklearn.model_selection import train_test_split

    ids, ys = [], []
    with open(data / "davidson" / "labeled_data.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            ids.append(int(r[""]))
            ys.append(int(r["class"]))
    tr, rest, _, yrest = train_test_split(ids, ys, test_size=0.2, stratify=ys, random_state=SEED)
    dev, te = train_test_split(rest, test_size=0.5, stratify=yrest, random_state=SEED)
    out = {"seed": SEED, "train": sorted(tr), "dev": sorted(dev), "test": sorted(te)}
    if path is not None:
        path.write_text(json.dumps(out))
    return out


def davidson(data: Path, split: str, split_ids: dict) -> Split:
    """y: 0 hate, 1 offensive, 2 none (the data set's ``class``)."""
    want = set(split_ids[split])
    texts, y = [], []
    with open(data / "davidson" / "labeled_data.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if int(r[""]) in want:
                texts.append(clean_tweet(r["tweet"]))
                y.append(int(r["class"]))
    return Split(texts, np.asarray(y, dtype=np.int64))


def intimacy(data: Path, split: str) -> Split:
    name = {"train": "train", "dev": "val", "test": "test", "external": "external"}[split]
    texts, y = [], []
    with open(data / "intimacy" / f"{name}.txt", encoding="utf-8") as f:
        for line in f:
            if "\t" in line:
                t, s = line.rstrip("\n").rsplit("\t", 1)
                texts.append(t)
                y.append(float(s))
    return Split(texts, np.asarray(y, dtype=np.float32))


def politeness(data: Path, community: str, split: str) -> Split:
    """community: wikipedia | stack-exchange. Seeded 80/10/10 split; 'all' returns every row."""
    texts, y = [], []
    with open(data / "politeness" / f"{community}.annotated.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            texts.append(r["Request"])
            y.append(float(r["Normalized Score"]))
    y = np.asarray(y, dtype=np.float32)
    if split == "all":
        return Split(texts, y)
    perm = np.random.default_rng(SEED).permutation(len(texts))
    a, b = int(0.8 * len(texts)), int(0.9 * len(texts))
    idx = {"train": perm[:a], "dev": perm[a:b], "test": perm[b:]}[split]
    return Split([texts[i] for i in idx], y[idx])
