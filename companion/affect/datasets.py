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


# --- Chat-domain sets (research releases without a licence file; docs/MODEL_CARD.md) ---------------
CONDA_INTENTS = ("E", "I", "A", "O")  # explicit toxicity, implicit toxicity, action, other
GAMETOX_LABELS = ("non_toxic", "insults_flaming", "other_offensive", "hate_harassment", "threats", "extremism")


def conda(data: Path, split: str, dev_share: float = 0.1) -> Split:
    """CONDA (Dota 2 chat). ``split``: train | dev (a seeded 10% of train's matches, so a match's
    conversations never straddle the two) | valid (the labelled official split, used as test).
    y = index in ``CONDA_INTENTS``; ``[SEPA]`` (consecutive lines of one player) becomes a space.
    meta: match, conversation, player slot, chat time, and the slot-tagged pronouns (P)."""
    name = "valid" if split == "valid" else "train"
    with open(data / "conda" / f"CONDA_{name}.csv", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    if split != "valid":
        matches = sorted({int(r["matchId"]) for r in rows})
        perm = np.random.default_rng(SEED).permutation(len(matches))
        dev = {matches[i] for i in perm[: int(dev_share * len(matches))]}
        rows = [r for r in rows if (int(r["matchId"]) in dev) == (split == "dev")]
    rows.sort(key=lambda r: (int(r["matchId"]), int(r["conversationId"]), int(r["chatTime"] or 0), int(r["Id"])))
    texts, y, meta = [], [], {"match": [], "conversation": [], "player": [], "time": [], "pronouns": []}
    for r in rows:
        texts.append(re.sub(r"\s*\[SEPA\]\s*", " ", html.unescape(r["utterance"])).strip())
        y.append(CONDA_INTENTS.index(r["intentClass"]))
        meta["match"].append(int(r["matchId"]))
        meta["conversation"].append(int(r["conversationId"]))
        meta["player"].append(int(r["playerSlot"] or -1))
        meta["time"].append(int(r["chatTime"] or 0))
        meta["pronouns"].append([t.rsplit(" (", 1)[0].strip().lower() for t in r["slotTokens"].split("), ")
                                 if t.strip().endswith("(P")])
    return Split(texts, np.asarray(y, dtype=np.int64), {k: (np.asarray(v) if k != "pronouns" else v)
                                                         for k, v in meta.items()})


def _gametox_rows(data: Path) -> list[tuple[int, str, int]]:
    """(row id, message, label) with the empty-label rows dropped."""
    with open(data / "gametox" / "gametox.csv", encoding="utf-8", errors="replace") as f:
        return [(i, html.unescape(r["message"]).strip(), int(float(r["label"])))
                for i, r in enumerate(csv.DictReader(f)) if r["label"].strip()]


def gametox_split_ids(data: Path, path: Path | None = None) -> dict[str, list[int]]:
    """Seeded stratified 80/10/10 split of GameTox row ids; loaded from ``path`` when it exists."""
    if path is not None and path.exists():
        return json.loads(path.read_text())
    from sklearn.model_selection import train_test_split

    rows = _gametox_rows(data)
    ids, ys = [r[0] for r in rows], [r[2] for r in rows]
    tr, rest, _, yrest = train_test_split(ids, ys, test_size=0.2, stratify=ys, random_state=SEED)
    dev, te = train_test_split(rest, test_size=0.5, stratify=yrest, random_state=SEED)
    out = {"seed": SEED, "train": sorted(tr), "dev": sorted(dev), "test": sorted(te)}
    if path is not None:
        path.write_text(json.dumps(out))
    return out


def gametox(data: Path, split: str, split_ids: dict) -> Split:
    """y: index in ``GAMETOX_LABELS`` (0 non-toxic ... 5 extremism)."""
    want = set(split_ids[split])
    rows = [r for r in _gametox_rows(data) if r[0] in want]
    return Split([r[1] for r in rows], np.asarray([r[2] for r in rows], dtype=np.int64), {"id": [r[0] for r in rows]})


def twitch_unlabelled(data: Path) -> list[str]:
    """The 68k unlabelled Twitch chat lines, in order (blank lines dropped)."""
    with open(data / "twitch_sentiment" / "chat_unlabelled.txt", encoding="utf-8", errors="replace") as f:
        return [line.strip() for line in f if line.strip()]


TWITCH_SENTIMENTS = {"Negative": 0, "Neutral": 1, "Positive": 2}  # SENTIMENT_LABELS order


def message_key(text: str) -> str:
    """A message's identity for the Twitch split: hash of its case- and whitespace-folded text
    (the set's ``message_id`` is not unique per text)."""
    import hashlib

    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()[:16]


def _twitch_labelled(data: Path) -> dict[str, tuple[str, int]]:
    """{message key: (text, label)}: duplicate labellings collapsed by confidence-weighted vote
    (ties: the label with the higher single confidence, then neutral)."""
    votes: dict[str, dict] = {}
    with open(data / "twitch_sentiment" / "labels.csv", encoding="utf-8", errors="replace") as f:
        for r in csv.DictReader(f):
            text = r["message"].strip()
            if not text or r["sentiment"] not in TWITCH_SENTIMENTS:
                continue
            v = votes.setdefault(message_key(text), {"text": text, "w": np.zeros(3), "top": np.zeros(3)})
            lab, conf = TWITCH_SENTIMENTS[r["sentiment"]], float(r["confidence"] or 1)
            v["w"][lab] += conf
            v["top"][lab] = max(v["top"][lab], conf)
    out = {}
    for k, v in votes.items():
        order = sorted(range(3), key=lambda j: (v["w"][j], v["top"][j], j == 1), reverse=True)
        out[k] = (v["text"], order[0])
    return out


def twitch_split_keys(data: Path, path: Path | None = None) -> dict[str, list[str]]:
    """Seeded stratified 70/15/15 split of the collapsed Twitch messages, by message key; loaded
    from ``path`` (committed in the artifacts) when it exists."""
    if path is not None and path.exists():
        return json.loads(path.read_text())
    from sklearn.model_selection import train_test_split

    msgs = _twitch_labelled(data)
    keys = sorted(msgs)
    ys = [msgs[k][1] for k in keys]
    tr, rest, _, yrest = train_test_split(keys, ys, test_size=0.3, stratify=ys, random_state=SEED)
    dev, te = train_test_split(rest, test_size=0.5, stratify=yrest, random_state=SEED)
    out = {"seed": SEED, "key": "sha256 of the case/space-folded message, first 16 hex",
           "train": sorted(tr), "dev": sorted(dev), "test": sorted(te)}
    if path is not None:
        path.write_text(json.dumps(out, indent=0))
    return out


def twitch_sentiment(data: Path, split: str, split_keys: dict) -> Split:
    """Labelled Twitch chat, y = 0 negative, 1 neutral, 2 positive; ``meta['key']`` per message."""
    msgs = _twitch_labelled(data)
    keys = [k for k in split_keys[split] if k in msgs]
    return Split([msgs[k][0] for k in keys], np.asarray([msgs[k][1] for k in keys], dtype=np.int64), {"key": keys})
