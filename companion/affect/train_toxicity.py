"""Train the multi-task toxicity head on the shared encoder's features; choose its operating point.

    python -m companion.affect.train_toxicity --data ../shared/data [--licensed-only --out DIR]

Stand-alone, it loads the committed ``feature_norm`` and encoder adapter from ``--artifacts`` and
rewrites only ``--out/toxicity`` (and ``gametox_split.json``): toxicity is no input of the PAD
refiner or the mood tracker, so no other artifact changes. ``companion.affect.train`` calls
:func:`toxicity_stage` for its toxicity stage.

One head (``toxicity_ngrams.WideDeepHead``, out_dim ``toxicity.OUT_DIM``): an MLP on the encoder
features plus a hashed word/char n-gram linear branch whose logits add to the views in
``WIDE_VIEWS`` (GameTox and CONDA; on the label and categories it did not help chat dev:
docs/BENCHMARKS.md). Two stages: the MLP first (``train.fit``, chosen on Davidson and the chat dev
set), then the n-gram branch on the frozen MLP (``fit_wide``, chosen on GameTox and CONDA dev),
so the branch cannot move the label or categories. Four views of the output:
- ``label``: hate / offensive / none (softmax, class-weighted CE; Davidson's classes, the clean
  sets as none, the templates as offensive); the hate-logit bias is chosen on Davidson dev by a
  bootstrap rule (``hate_bias_bootstrap``);
- ``categories``: the 7 categories (sigmoid, BCE masked where a set does not label a category);
- ``conda``: CONDA's 4 utterance intents; ``gametox``: GameTox's 6 classes (each only on its set;
  GameTox's toxic-vs-not threshold is chosen on GameTox dev, ``gametox_threshold``).

Label mapping (docs/MODEL_CARD.md):
- Davidson: hate -> label hate, identity_attack 1; offensive -> label offensive, identity_attack 0,
  insult 1 when addressed to a person (``target_of``; a weak label), the rest unlabelled;
  neither -> none, every category 0 but profanity.
- GameTox and CONDA (every training row: ``GAMETOX_NONTOXIC_TRAIN``, ``CONDA_OTHER_TRAIN``)
  train only their own views: their label
  and categories are unlabelled. A run that mapped them on (GameTox 0 none, 1 offensive + insult,
  2 offensive, 3 harassment, 4 offensive + threat, 5 identity_attack; CONDA E/I offensive, A/O
  none) scored chat dev harm ROC-AUC 0.835 and Davidson dev macro-F1 0.686, against 0.946 and
  0.730 for the licensed-only run without them (docs/BENCHMARKS.md): their short, multilingual, in-game lines and their
  annotation of trash talk do not transfer to stream chat through this head.
- Clean sets -> none, categories 0: ``train.chat_none_lines``; GoEmotions anger/annoyance lines
  free of profanity, insults and second person (anger at the game is not toxicity); and the
  unlabelled Twitch lines of the training parts (``TWITCH_TRAIN_PARTS``, by a hash of the folded
  line) that pass the same filter and are no system notice (a sample read by eye: MODEL_CARD.md).
- Templates (``toxicity_templates``, repeated ``TEMPLATE_REPEATS`` times): their one category 1,
  label offensive; the ordinary templates (second-person praise, backseating, game violence) none,
  every category 0.
- Profanity is the lexicon's (``toxicity_lexicon.PROFANE``) on the rows above: a weak label.

``--licensed-only`` drops CONDA, GameTox and the Twitch lines (licence status: MODEL_CARD.md).
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from companion.affect import datasets as ds
from companion.affect import metrics as M
from companion.affect.features_cache import DEFAULT_CACHE, EncoderSpec, cached_features
from companion.affect.modules import FeatureProjector, MLPHead, SavedModule
from companion.affect.notices import is_system_notice
from companion.affect.toxicity import LAYOUT, OUT_DIM, choose_thresholds, rule_hits, with_rules
from companion.affect.toxicity_lexicon import IDENTITY, INSULTING, PROFANE, target_of
from companion.affect.toxicity_ngrams import DEFAULT_BUCKETS, NgramSpec, WideDeepHead, bag_rows, batch_ids
from companion.affect.toxicity_templates import template_lines
from companion.records import GOEMOTIONS_LABELS, TOXICITY_CATEGORIES

EVALSETS = Path(__file__).parent / "evalsets"
TEMPLATE_REPEATS = 3
LABEL_WEIGHT = 2.0  # the 3-class loss against the 7 category losses: Davidson's floors hold
HIDDEN = 512  # the hidden layer; 1024 (the other heads') cost twice the training time for this many rows
NOT_LICENSED = ("conda", "gametox", "twitch_sentiment")  # research releases without a licence file
NC = len(TOXICITY_CATEGORIES)
IGNORE = -100
_C = {c: i for i, c in enumerate(TOXICITY_CATEGORIES)}
# Targets packed beside each row: label, conda, gametox, then categories and their mask.
_Y_LABEL, _Y_CONDA, _Y_GAMETOX, _Y_CATS = 0, 1, 2, 3


@dataclass
class Part:
    """One training source: texts, their features (filled later) and the packed targets."""

    name: str
    texts: list[str]
    label: np.ndarray  # (n,) int, IGNORE when unlabelled
    cats: np.ndarray  # (n, 7) float
    mask: np.ndarray  # (n, 7) 1 where the category is labelled
    conda: np.ndarray | None = None
    gametox: np.ndarray | None = None
    feats: np.ndarray | None = None

    def packed(self) -> np.ndarray:
        n = len(self.texts)
        cols = [self.label.astype(np.float32)[:, None],
                (self.conda if self.conda is not None else np.full(n, IGNORE)).astype(np.float32)[:, None],
                (self.gametox if self.gametox is not None else np.full(n, IGNORE)).astype(np.float32)[:, None],
                self.cats.astype(np.float32), self.mask.astype(np.float32)]
        return np.concatenate(cols, 1)


def _profanity(texts: list[str]) -> np.ndarray:
    return np.array([bool(PROFANE.search(t)) for t in texts], dtype=np.float32)


def _part(name: str, texts: list[str], label, cats=None, mask=None, **kw) -> Part:
    n = len(texts)
    cats = np.zeros((n, NC), np.float32) if cats is None else cats
    mask = np.ones((n, NC), np.float32) if mask is None else mask
    cats[:, _C["profanity"]] = _profanity(texts)
    mask[:, _C["profanity"]] = 1
    lab = np.full(n, label) if np.isscalar(label) else np.asarray(label)
    return Part(name, texts, lab.astype(np.int64), cats, mask, **kw)


def clean_line(text: str) -> bool:
    """Whether a line may join a clean (none) set: no profanity, insult word, identity term,
    second person / target, threat or sexual phrase, and no system notice."""
    if PROFANE.search(text) or INSULTING.search(text) or IDENTITY.search(text) or is_system_notice(text):
        return False
    h = rule_hits(text)
    return h.threat is None and not h.sexual and target_of(text) == "none"


TWITCH_TRAIN_PARTS = (0,)  # the clean lines of this tenth join training; 1-4 are unused (encoding time)
TWITCH_DEV_PART = 5  # the threshold choice's unlabelled false-flag check
TWITCH_HELDOUT_PARTS = (6, 7, 8, 9)  # never seen by training or the threshold choice
# Every CONDA and GameTox training row (None); a number keeps that many of CONDA's "other" /
# GameTox's non-toxic rows (a seeded sample) and every other row. The lexical branch needs the
# non-toxic rows: with 4,000 of GameTox's 34.8k it over-flagged GameTox dev.
CONDA_OTHER_TRAIN: int | None = None
GAMETOX_NONTOXIC_TRAIN: int | None = None


def twitch_part(text: str) -> int:
    """The line's tenth of the unlabelled Twitch log (see the TWITCH_* parts): a hash of the folded
    line, so a line repeated in the log always lands in one part."""
    folded = " ".join(text.lower().split())
    return int.from_bytes(hashlib.blake2b(folded.encode("utf-8", "replace"), digest_size=4).digest(), "big") % 10


def evalset(name: str) -> list[dict]:
    """A committed chat evaluation set (``chat_dev`` / ``chat_test``), one dict per line."""
    with open(EVALSETS / f"{name}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def davidson_part(data: Path, split_ids: dict) -> Part:
    sp = ds.davidson(data, "train", split_ids)
    y = sp.y
    cats = np.zeros((len(y), NC), np.float32)
    mask = np.ones((len(y), NC), np.float32)
    cats[:, _C["identity_attack"]] = (y == 0)
    off = y == 1
    for c in ("insult", "harassment", "threat", "sexual", "self_harm"):
        mask[off | (y == 0), _C[c]] = 0
    # weak label: an offensive tweet addressed to someone ("@x you a ...") is an insult
    addressed = np.array([target_of(t) == "person" for t in sp.texts])
    cats[off & addressed, _C["insult"]] = 1
    mask[off & addressed, _C["insult"]] = 1
    return _part("davidson_train", sp.texts, y, cats, mask)


def gametox_part(data: Path, split_ids: dict, split: str = "train") -> Part:
    sp = ds.gametox(data, split, split_ids)
    if split == "train" and GAMETOX_NONTOXIC_TRAIN is not None:  # a seeded sample of the non-toxic rows
        nontoxic = np.flatnonzero(sp.y == 0)
        drop = set(np.random.default_rng(ds.SEED).permutation(nontoxic)[GAMETOX_NONTOXIC_TRAIN:].tolist())
        keep = [i for i in range(len(sp.y)) if i not in drop]
        sp = ds.Split([sp.texts[i] for i in keep], sp.y[keep], {"id": [sp.meta["id"][i] for i in keep]})
    y = sp.y
    n = len(y)
    label = np.select([y == 0, np.isin(y, (1, 2, 4))], [2, 1], IGNORE)
    cats = np.zeros((n, NC), np.float32)
    mask = np.ones((n, NC), np.float32)
    for cls, cat in ((1, "insult"), (3, "harassment"), (4, "threat"), (5, "identity_attack")):
        cats[y == cls, _C[cat]] = 1
    unlabelled = {"insult": (2, 3, 4, 5), "harassment": (1, 4, 5), "identity_attack": (3,), "self_harm": (4,)}
    for cat, classes in unlabelled.items():
        mask[np.isin(y, classes), _C[cat]] = 0
    mask[y != 0, _C["sexual"]] = 0
    if split == "train":  # the GameTox view only (see the module docstring)
        label, mask = np.full(n, IGNORE), np.zeros((n, NC), np.float32)
        return Part(f"gametox_{split}", sp.texts, label, cats, mask, gametox=y)
    return _part(f"gametox_{split}", sp.texts, label, cats, mask, gametox=y)


def conda_train_keep(y: np.ndarray) -> np.ndarray:
    """Rows of CONDA train used: every E/I/A row, a seeded sample of the "other" ones (training time)."""
    if CONDA_OTHER_TRAIN is None:
        return np.arange(len(y))
    other = np.flatnonzero(y == 3)
    drop = np.random.default_rng(ds.SEED).permutation(other)[CONDA_OTHER_TRAIN:]
    return np.setdiff1d(np.arange(len(y)), drop)


def conda_part(data: Path, split: str = "train", keep: np.ndarray | None = None) -> Part:
    sp = ds.conda(data, split)
    if keep is not None:
        sp = ds.Split([sp.texts[i] for i in keep], sp.y[keep], {})
    n = len(sp.y)
    # the CONDA view only (see the module docstring)
    return Part(f"conda_{split}", sp.texts, np.full(n, IGNORE), np.zeros((n, NC), np.float32),
                np.zeros((n, NC), np.float32), conda=sp.y)


def goemotions_anger_part(data: Path) -> tuple[Part, np.ndarray]:
    """Anger/annoyance comments without profanity, insults or second person, and their row ids in
    goemotions train (their features are that split's)."""
    go = ds.goemotions(data, "train")
    cols = [GOEMOTIONS_LABELS.index("anger"), GOEMOTIONS_LABELS.index("annoyance")]
    rows = [i for i in np.flatnonzero(go.y[:, cols].sum(1) > 0) if clean_line(go.texts[i])]
    return _part("goemotions_anger", [go.texts[i] for i in rows], 2), np.asarray(rows)


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", "", text.lower()).split())


def _near(line: str, exclude: set[str]) -> bool:
    """``line`` equals an evaluation line, or is one plus a chat suffix ("kys lol")."""
    f = _fold(line)
    return f in exclude or any(f.startswith(e + " ") for e in exclude if " " in e)


def template_part(seed: int, exclude: set[str]) -> Part:
    rows = [r for r in template_lines(seed) if not _near(r[0], exclude)]
    cats = np.zeros((len(rows), NC), np.float32)
    mask = np.zeros((len(rows), NC), np.float32)
    label = np.ones(len(rows), np.int64)
    for i, (_, cat, _) in enumerate(rows):
        if cat == "none":  # an ordinary line: every category 0
            mask[i] = 1
            label[i] = 2
        else:
            cats[i, _C[cat]] = 1
            mask[i, _C[cat]] = 1
    return _part(f"toxicity_templates_{seed}", [r[0] for r in rows], label, cats, mask)


def _features(part: Part, cache: Path, spec: EncoderSpec) -> np.ndarray:
    return cached_features(part.name, part.texts, cache, spec)


def training_parts(data: Path, split_ids: dict, gametox_ids: dict | None, seed: int, cache: Path,
                   spec: EncoderSpec, licensed_only: bool) -> list[Part]:
    """Every training source with its features."""
    from companion.affect.train import chat_none_lines

    exclude = {_fold(r["text"]) for name in ("chat_dev", "chat_test") for r in evalset(name)}
    parts = [davidson_part(data, split_ids), _part(f"toxicity_chat_none_{seed}", chat_none_lines(data, seed), 2),
             template_part(seed, exclude)]
    for p in parts:
        p.feats = _features(p, cache, spec)
    parts += [parts[-1]] * (TEMPLATE_REPEATS - 1)  # the few template rows, seen as often as a larger set
    anger, rows = goemotions_anger_part(data)
    anger.feats = cached_features("goemotions_train", ds.goemotions(data, "train").texts, cache, spec)[rows]
    parts.append(anger)
    if not licensed_only:
        p = gametox_part(data, gametox_ids)
        p.feats = _features(p, cache, spec)
        full = ds.conda(data, "train")  # features of the whole split are cached; take the rows used
        keep = conda_train_keep(full.y)
        p2 = conda_part(data, "train", keep)
        p2.feats = cached_features("conda_train", full.texts, cache, spec)[keep]
        parts += [p, p2]
        tw, F = twitch_lines(data, cache, spec, TWITCH_TRAIN_PARTS)
        keep = [i for i, t in enumerate(tw) if clean_line(t)]
        p = _part("twitch_clean", [tw[i] for i in keep], 2)
        p.feats = F[keep]
        parts.append(p)
    return parts


def twitch_lines(data: Path, cache: Path, spec: EncoderSpec,
                 parts: tuple[int, ...] = tuple(range(10))) -> tuple[list[str], np.ndarray]:
    """The distinct unlabelled Twitch lines of ``parts`` and their features (cached per part)."""
    tw = list(dict.fromkeys(ds.twitch_unlabelled(data)))
    texts, feats = [], []
    for k in parts:
        sel = [t for t in tw if twitch_part(t) == k]
        texts += sel
        feats.append(cached_features(f"twitch_unlabelled_part{k}", sel, cache, spec))
    return texts, np.concatenate(feats)


def bags_for(m: MLPHead, texts: list[str]):
    """The lexical branch's input for ``texts`` (None for a head without one)."""
    return m.bags(texts) if isinstance(m, WideDeepHead) else None


def head_views(m: MLPHead, x: torch.Tensor, hate_bias: float = 0.0, bags=None) -> dict[str, np.ndarray]:
    """Every view of the head on projected features (and, for a ``WideDeepHead``, the texts'
    n-gram ``bags``; without them its deep branch alone): label softmax (bias applied), category
    sigmoid, CONDA / GameTox softmax."""
    with torch.no_grad():
        z = m(x) if bags is None else m(x, bags)
        lab = z[:, slice(*LAYOUT["label"])].clone()
        lab[:, 0] += hate_bias
        return {"label": torch.softmax(lab, 1).numpy(), "label_logits": lab.numpy(),
                "categories": torch.sigmoid(z[:, slice(*LAYOUT["categories"])]).numpy(),
                "conda": torch.softmax(z[:, slice(*LAYOUT["conda"])], 1).numpy(),
                "gametox": torch.softmax(z[:, slice(*LAYOUT["gametox"])], 1).numpy()}


def rule_raised(cats: np.ndarray, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rule-raised categories, rule target is person/group, severe rule fired) for a batch, as the
    analyser does; system notices get zeros and no rule, as the analyser never scores them."""
    hits = [rule_hits(t) for t in texts]
    raised = np.stack([with_rules(c, h) for c, h in zip(cats, hits)]) if len(texts) else cats
    tgt = np.array([target_of(t) != "none" for t in texts], dtype=bool)
    rule = np.array([h.severe for h in hits], dtype=bool)
    notice = np.array([h.notice for h in hits], dtype=bool)
    if len(texts):
        raised[notice], tgt[notice], rule[notice] = 0, False, False
    return raised, tgt, rule


WIDE_VIEWS = ("gametox", "conda")  # the views the lexical branch adds to (chosen on dev: docs/BENCHMARKS.md)
WIDE_LR = 5e-3  # the n-gram table's learning rate (stage 2; the MLP's is 5e-4)
EMA_DECAY = 0.999  # the MLP is scored and kept as an EMA of its weights: less run-to-run spread on Davidson dev


def wide_cols(views: tuple[str, ...]) -> list[int]:
    """The head's output columns of ``views`` (``toxicity.LAYOUT``)."""
    return [c for v in views for c in range(*LAYOUT[v])]


def fit_wide(m: WideDeepHead, Z: torch.Tensor, bags: tuple[np.ndarray, np.ndarray], Y: torch.Tensor, loss_fn,
             dev_score, epochs: int, lr: float, bs: int = 256, patience: int = 2) -> tuple[WideDeepHead, float]:
    """Stage 2: the n-gram branch alone on top of the trained, frozen MLP. ``Z`` holds the MLP's
    outputs (eval mode) for the rows of ``Y``, ``bags`` their (ids, offsets); mini-batch AdamW (no
    weight decay: rows of unseen n-grams stay 0) with early stopping on ``dev_score``; keeps the
    best branch. The MLP is chosen first on Davidson and the chat dev set, so the branch, which
    adds only to the GameTox / CONDA views, cannot move those."""
    from tqdm import tqdm

    params = [m.wide.weight, m.wide_bias]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    ids, offsets = bags
    best, best_state, bad = dev_score(), None, 0  # the MLP alone is the baseline to beat
    g = torch.Generator().manual_seed(0)
    for _ in (bar := tqdm(range(epochs), desc="toxicity n-grams", mininterval=2)):
        perm = torch.randperm(len(Z), generator=g)
        for s in range(0, len(Z), bs):
            idx = perm[s:s + bs]
            flat, off, w = bag_rows(ids, offsets, idx.numpy())
            opt.zero_grad()
            z = Z[idx] + (m.wide(flat, off, per_sample_weights=w) + m.wide_bias) @ m.place
            loss = loss_fn(z, Y[idx])
            loss.backward()
            opt.step()
        sched.step()
        sc = dev_score()
        bar.set_postfix(dev=f"{sc:.4f}")
        if sc > best:
            best, best_state, bad = sc, copy.deepcopy([p.detach().clone() for p in params]), 0
        else:
            bad += 1
            if bad >= patience:
                break
    if best_state is not None:
        with torch.no_grad():
            for p, v in zip(params, best_state):
                p.copy_(v)
    return m, best


def hate_bias_bootstrap(logits: np.ndarray, y: np.ndarray, min_precision: float = 0.40, min_recall: float = 0.50,
                        min_macro_f1: float = 0.72, n_boot: int = 1000, seed: int = 13) -> tuple[float, dict]:
    """The hate-logit bias, chosen on Davidson dev by a rule that survives resampling (like
    ``toxicity.choose_thresholds``). For each bias on a grid, draw ``n_boot`` bootstrap resamples
    of dev and count the share of resamples on which hate precision, hate recall and macro-F1 all
    reach their floors; take the bias with the largest share (ties: the higher median macro-F1).
    Dev and test each hold ~140 hate tweets, so a bias on the edge of the precision floor on dev's
    exact sample falls under it on test about half the time (the issue-12 head: 0.41 on dev, 0.389
    on test); the share prefers the bias in the middle of the region where both floors hold."""
    rng = np.random.default_rng(seed)
    W = np.stack([np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y))
                  for _ in range(n_boot)]).astype(np.float64)
    onehot = np.eye(3)[y]
    best, best_key, table = 0.0, None, {}
    for b in np.round(np.arange(-2.0, 2.01, 0.05), 2):
        lg = logits.copy()
        lg[:, 0] += b
        pred = np.eye(3)[lg.argmax(1)]
        tp = W @ (onehot * pred)  # (n_boot, 3)
        fp = W @ ((1 - onehot) * pred)
        fn = W @ (onehot * (1 - pred))
        prec = tp[:, 0] / np.maximum(tp[:, 0] + fp[:, 0], 1)
        rec = tp[:, 0] / np.maximum(tp[:, 0] + fn[:, 0], 1)
        f1 = (2 * tp / np.maximum(2 * tp + fp + fn, 1)).mean(1)
        share = float(np.mean((prec >= min_precision) & (rec >= min_recall) & (f1 >= min_macro_f1)))
        key = (share, float(np.median(f1)))
        table[float(b)] = {"share": round(share, 3), "median_precision": round(float(np.median(prec)), 4),
                           "median_recall": round(float(np.median(rec)), 4), "median_macro_f1": round(key[1], 4)}
        if best_key is None or key > best_key:
            best, best_key = float(b), key
    return best, {"rule": "max share of bootstrap resamples with hate precision >= %.2f, hate recall >= %.2f and "
                          "macro-F1 >= %.2f (ties: median macro-F1)" % (min_precision, min_recall, min_macro_f1),
                  "n_boot": n_boot, "chosen": best, "dev": table[best]}


def gametox_threshold(p_toxic: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(threshold on P(toxic) = 1 - P(non_toxic), its dev F1): the best toxic-vs-not F1 on GameTox dev."""
    grid = np.round(np.arange(0.1, 0.91, 0.025), 3)
    f1 = [M.f1_score(y != 0, p_toxic >= t) for t in grid]
    i = int(np.argmax(f1))
    return float(grid[i]), float(f1[i])


def toxicity_stage(data: Path, norm: FeatureProjector, spec: EncoderSpec, cache: Path, out: Path, seed: int,
                   epochs: int = 10, licensed_only: bool = False, split_ids: dict | None = None,
                   wide_views: tuple[str, ...] = WIDE_VIEWS, buckets: int = DEFAULT_BUCKETS,
                   wide_lr: float = WIDE_LR) -> tuple[MLPHead, dict]:
    """Train the toxicity head (features read through ``norm``, n-grams of the texts for the views
    in ``wide_views``) and choose its thresholds on dev. Returns the head (not yet saved) and a
    report. ``out`` receives ``gametox_split.json``."""
    from companion.affect.train import seed_all

    t0 = time.time()
    split_ids = split_ids or ds.davidson_split_ids(data, out / "davidson_split.json")
    gametox_ids = None if licensed_only else ds.gametox_split_ids(data, out / "gametox_split.json")
    parts = training_parts(data, split_ids, gametox_ids, seed, cache, spec, licensed_only)
    if not set(wide_views) <= {"gametox", "conda"}:  # stage 2 trains the branch on those views' losses only
        raise ValueError(f"the n-gram branch adds to the gametox / conda views only, not {wide_views}")
    if licensed_only:  # the GameTox / CONDA views are untrained there: no branch for them
        wide_views = tuple(v for v in wide_views if v not in ("gametox", "conda"))

    def proj(f: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return norm(torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32)))

    X = proj(np.concatenate([p.feats for p in parts]))
    Y = torch.from_numpy(np.concatenate([p.packed() for p in parts]))
    ngram_spec = NgramSpec(buckets=buckets)
    train_bags = batch_ids([t for p in parts for t in p.texts], ngram_spec)
    report: dict = {"licensed_only": licensed_only, "rows": {p.name: len(p.texts) for p in parts},
                    "wide_views": list(wide_views), "ngrams": ngram_spec.to_dict(), "wide_lr": wide_lr}

    seed_all(seed)
    m = WideDeepHead(norm.config["k"], OUT_DIM, hidden=HIDDEN, dropout=0.3,
                     extra={"labels": ["hate", "offensive", "none"], "categories": list(TOXICITY_CATEGORIES),
                            "layout": {k: list(v) for k, v in LAYOUT.items()}, "conda_labels": list(ds.CONDA_INTENTS),
                            "gametox_labels": list(ds.GAMETOX_LABELS), "licensed_only": licensed_only,
                            "wide_views": list(wide_views)},
                     ngrams=ngram_spec.to_dict(), wide_cols=wide_cols(wide_views))

    # dev sets, each with its n-gram bags
    dav_dev = ds.davidson(data, "dev", split_ids)
    Xd, Bd = proj(cached_features("davidson_dev", dav_dev.texts, cache, spec)), m.bags(dav_dev.texts)
    chat_dev = evalset("chat_dev")
    chat_texts = [r["text"] for r in chat_dev]
    Xc, Bc = proj(cached_features("chat_dev_evalset", chat_texts, cache, spec)), m.bags(chat_texts)
    yc = np.array([r["targeted"] for r in chat_dev], dtype=np.int64)
    dev_sets = {}
    if not licensed_only:
        gd = gametox_part(data, gametox_ids, "dev")
        cd = conda_part(data, "dev")
        dev_sets = {"gametox": (proj(_features(gd, cache, spec)), m.bags(gd.texts), gd.gametox),
                    "conda": (proj(_features(cd, cache, spec)), m.bags(cd.texts), cd.conda)}

    y_lab = Y[:, _Y_LABEL].long()
    counts = np.bincount(y_lab[y_lab >= 0].numpy(), minlength=3)
    w_lab = torch.tensor(counts.sum() / (3 * counts), dtype=torch.float32) ** 0.75
    ce_lab = nn.CrossEntropyLoss(weight=w_lab, ignore_index=IGNORE)
    ce = nn.CrossEntropyLoss(ignore_index=IGNORE)
    cats, mask = Y[:, _Y_CATS:_Y_CATS + NC], Y[:, _Y_CATS + NC:]
    pos = (cats * mask).sum(0)
    neg = ((1 - cats) * mask).sum(0)
    # rare categories (templates only) get some weight, but not so much that short imperatives
    # ("jump on the box") look like the few sexual-harassment templates
    pos_weight = torch.clamp(torch.sqrt(neg / pos.clamp(min=1)), 1.0, 3.0)
    report["category_positives"] = dict(zip(TOXICITY_CATEGORIES, pos.int().tolist()))
    y_gt = Y[:, _Y_GAMETOX].long()
    if (y_gt >= 0).any():
        gc = np.bincount(y_gt[y_gt >= 0].numpy(), minlength=6).clip(min=1)
        ce_gt = nn.CrossEntropyLoss(weight=torch.tensor(gc.sum() / (6 * gc), dtype=torch.float32) ** 0.5,
                                    ignore_index=IGNORE)
    else:
        ce_gt = ce

    def view_loss(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = z.sum() * 0
        for view, col, fn in (("conda", _Y_CONDA, ce), ("gametox", _Y_GAMETOX, ce_gt)):
            yv = y[:, col].long()
            if (yv >= 0).any():
                loss = loss + 0.5 * fn(z[:, slice(*LAYOUT[view])], yv)
        return loss

    def loss_fn(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z = m(x)
        lab, yl = z[:, slice(*LAYOUT["label"])], y[:, _Y_LABEL].long()
        loss = LABEL_WEIGHT * ce_lab(lab, yl) if (yl >= 0).any() else z.sum() * 0
        c, msk = y[:, _Y_CATS:_Y_CATS + NC], y[:, _Y_CATS + NC:]
        bce = nn.functional.binary_cross_entropy_with_logits(z[:, slice(*LAYOUT["categories"])], c,
                                                             pos_weight=pos_weight, reduction="none")
        return loss + (bce * msk).sum() / msk.sum().clamp(min=1) + view_loss(z, y)

    def dev_parts(m: MLPHead) -> dict[str, float]:
        out = {"davidson_macro_f1": M.macro_f1(dav_dev.y, head_views(m, Xd, bags=Bd)["label"].argmax(1))}
        harm = head_views(m, Xc, bags=Bc)["categories"][:, [_C[c] for c in TOXICITY_CATEGORIES if c != "profanity"]].max(1)
        out["chat_dev_harm_auc"] = _auc(yc, harm)
        for view, (xv, bv, yv) in dev_sets.items():
            pv = head_views(m, xv, bags=bv)[view]
            out[f"{view}_dev_macro_f1"] = M.macro_f1(yv, pv.argmax(1))
            if view == "gametox":
                out["gametox_dev_toxic_f1"] = gametox_threshold(1 - pv[:, 0], yv)[1]
        return out

    def select(m: MLPHead) -> float:  # stage 1: the MLP on Davidson and the chat dev set
        d = dev_parts(m)
        return (d["davidson_macro_f1"] + d["chat_dev_harm_auc"]) / 2

    def select_wide() -> float:  # stage 2: GameTox dev toxic-vs-not F1 and CONDA dev macro-F1
        d = dev_parts(m)
        return (d["gametox_dev_toxic_f1"] + d["conda_dev_macro_f1"]) / 2

    from companion.affect.train import fit

    m, best = fit(m, X, Y, loss_fn, lambda: select(m), epochs, lr=5e-4, bs=256, patience=2, desc="toxicity",
                  ema_decay=EMA_DECAY)
    report["dev_mlp"] = dev_parts(m)
    rows = ((Y[:, _Y_GAMETOX] >= 0) | (Y[:, _Y_CONDA] >= 0)).numpy()
    if m.config["wide_cols"] and rows.any():
        with torch.no_grad():
            Z = m(X[rows])
        sel = np.flatnonzero(rows)
        ids, offsets = train_bags
        flat = np.concatenate([ids[offsets[i]:offsets[i + 1]] for i in sel])
        sub = np.zeros(len(sel) + 1, dtype=np.int64)
        np.cumsum(offsets[sel + 1] - offsets[sel], out=sub[1:])
        m, report["dev_wide_select"] = fit_wide(m, Z, (flat, sub), Y[rows], view_loss, select_wide, epochs, wide_lr)
    report["dev"] = dev_parts(m)
    report["dev_mean"] = best
    b, report["hate_bias_choice"] = hate_bias_bootstrap(head_views(m, Xd, bags=Bd)["label_logits"], dav_dev.y,
                                                        seed=seed)
    m.config["extra"]["hate_bias"] = round(b, 2)
    report["hate_bias"] = b
    if dev_sets:
        xv, bv, yv = dev_sets["gametox"]
        t, f1 = gametox_threshold(1 - head_views(m, xv, bags=bv)["gametox"][:, 0], yv)
        m.config["extra"]["gametox_toxic_threshold"] = t
        report["gametox_toxic_threshold"] = {"threshold": t, "dev_f1": round(f1, 4)}

    report["flag_thresholds"] = operating_point(m, norm, data, cache, spec, seed, licensed_only)
    report["seconds"] = round(time.time() - t0, 1)
    return m, report


def operating_point(m: MLPHead, norm: FeatureProjector, data: Path, cache: Path, spec: EncoderSpec, seed: int,
                    licensed_only: bool) -> dict:
    """Choose the flag thresholds (``toxicity.choose_thresholds``) on the chat dev set (labelled) and
    the Twitch dev tenth (unlabelled real chat), through the analyser's rules; store them in the
    head's config and return the choice's report."""
    def proj(f: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return norm(torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32)))

    chat_dev = evalset("chat_dev")
    texts = [r["text"] for r in chat_dev]
    y = np.array([r["targeted"] for r in chat_dev], dtype=np.int64)
    raised, tgt, rule = rule_raised(head_views(m, proj(cached_features("chat_dev_evalset", texts, cache, spec)),
                                               bags=bags_for(m, texts))["categories"], texts)
    if licensed_only:
        unl = (raised[:0], tgt[:0], rule[:0])
    else:
        tw, F = twitch_lines(data, cache, spec, (TWITCH_DEV_PART,))
        dev_i = [i for i, t in enumerate(tw) if not is_system_notice(t)]
        dev_t = [tw[i] for i in dev_i]
        unl = rule_raised(head_views(m, proj(F[dev_i]), bags=bags_for(m, dev_t))["categories"], dev_t)
        # each distinct line counted as often as it arrived in the log, as the flag-rate floor
        # counts the lines (54% of lines repeat an earlier one)
        seen = Counter(ds.twitch_unlabelled(data))
        reps = np.repeat(np.arange(len(dev_t)), [seen[t] for t in dev_t])
        unl = tuple(a[reps] for a in unl)
    th, report = choose_thresholds(raised, tgt, rule, y, unl, seed=seed)
    m.config["extra"]["flag_thresholds"] = th.to_dict()
    return report


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--artifacts", type=Path, default=Path(__file__).parent / "artifacts",
                   help="where the feature_norm and encoder adapter are read from")
    p.add_argument("--out", type=Path, default=None, help="where toxicity/ is written (default: --artifacts)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--seed", type=int, default=ds.SEED)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--licensed-only", action="store_true", help="without CONDA, GameTox and the Twitch lines")
    p.add_argument("--wide-views", default=",".join(WIDE_VIEWS),
                   help="the views the hashed n-gram branch adds to (comma-separated; empty: none)")
    p.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS, help="the n-gram hash table's rows")
    p.add_argument("--wide-lr", type=float, default=WIDE_LR)
    p.add_argument("--rethreshold", action="store_true",
                   help="keep the trained head in --out; only choose its flag thresholds again (after a rule change)")
    a = p.parse_args()
    from companion.affect.lora import artifact_adapter

    torch.set_num_threads(a.threads)
    out = a.out or a.artifacts
    out.mkdir(parents=True, exist_ok=True)
    if out != a.artifacts:  # a variant folder: the Davidson split travels with it
        src = a.artifacts / "davidson_split.json"
        if src.exists() and not (out / "davidson_split.json").exists():
            shutil.copy(src, out / "davidson_split.json")
    norm = SavedModule.load(a.artifacts / "feature_norm")
    spec = EncoderSpec(artifact_adapter(a.artifacts), "bf16")
    if a.rethreshold:
        m = SavedModule.load(out / "toxicity")
        report = json.loads((out / "toxicity_train_report.json").read_text())
        report["flag_thresholds"] = operating_point(m, norm, a.data, a.cache, spec, a.seed,
                                                    bool(m.config["extra"].get("licensed_only")))
        m.save(out / "toxicity")
        (out / "toxicity_train_report.json").write_text(json.dumps(report, indent=1))
        print(json.dumps(report["flag_thresholds"], indent=1))
        return
    m, report = toxicity_stage(a.data, norm, spec, a.cache, out, a.seed, a.epochs, a.licensed_only,
                               ds.davidson_split_ids(a.data, a.artifacts / "davidson_split.json"),
                               tuple(v for v in a.wide_views.split(",") if v), a.buckets, a.wide_lr)
    m.save(out / "toxicity")
    (out / "toxicity_train_report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
