"""Train the multi-task toxicity head on the shared encoder's features; choose its operating point.

    python -m companion.affect.train_toxicity --data ../shared/data [--licensed-only --out DIR]

Stand-alone, it loads the committed ``feature_norm`` and encoder adapter from ``--artifacts`` and
rewrites only ``--out/toxicity`` (and ``gametox_split.json``): toxicity is no input of the PAD
refiner or the mood tracker, so no other artifact changes. ``companion.affect.train`` calls
:func:`toxicity_stage` for its toxicity stage.

One MLP (``MLPHead``, out_dim ``toxicity.OUT_DIM``) with four views of its hidden layer:
- ``label``: hate / offensive / none (softmax, class-weighted CE; Davidson's classes, the clean
  sets as none, the templates as offensive); the hate-logit bias is chosen on Davidson dev
  (``train.hate_bias``);
- ``categories``: the 7 categories (sigmoid, BCE masked where a set does not label a category);
- ``conda``: CONDA's 4 utterance intents; ``gametox``: GameTox's 6 classes (each only on its set).

Label mapping (docs/MODEL_CARD.md):
- Davidson: hate -> label hate, identity_attack 1; offensive -> label offensive, identity_attack 0,
  insult 1 when addressed to a person (``target_of``; a weak label), the rest unlabelled;
  neither -> none, every category 0 but profanity.
- GameTox (all toxic training rows, ``GAMETOX_NONTOXIC_TRAIN`` non-toxic ones) and CONDA (every
  E/I/A training row, ``CONDA_OTHER_TRAIN`` "other" ones) train only their own views: their label
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
import hashlib
import json
import re
import shutil
import time
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
CONDA_OTHER_TRAIN = 6000  # seeded sample of CONDA train's 18k "other" rows; every E/I/A row kept (training time)
GAMETOX_NONTOXIC_TRAIN = 4000  # seeded sample of the 34.8k non-toxic training rows; all toxic rows kept (encoding time)


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
    if split == "train":  # all toxic rows, a seeded sample of the non-toxic ones (training time)
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


def head_views(m: MLPHead, x: torch.Tensor, hate_bias: float = 0.0) -> dict[str, np.ndarray]:
    """Every view of the head on projected features: label softmax (bias applied), category
    sigmoid, CONDA / GameTox softmax."""
    with torch.no_grad():
        z = m(x)
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


def toxicity_stage(data: Path, norm: FeatureProjector, spec: EncoderSpec, cache: Path, out: Path, seed: int,
                   epochs: int = 8, licensed_only: bool = False, split_ids: dict | None = None) -> tuple[MLPHead, dict]:
    """Train the toxicity head (features read through ``norm``) and choose its thresholds on dev.
    Returns the head (not yet saved) and a report. ``out`` receives ``gametox_split.json``."""
    from companion.affect.train import fit, hate_bias, seed_all

    t0 = time.time()
    split_ids = split_ids or ds.davidson_split_ids(data, out / "davidson_split.json")
    gametox_ids = None if licensed_only else ds.gametox_split_ids(data, out / "gametox_split.json")
    parts = training_parts(data, split_ids, gametox_ids, seed, cache, spec, licensed_only)

    def proj(f: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return norm(torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32)))

    X = proj(np.concatenate([p.feats for p in parts]))
    Y = torch.from_numpy(np.concatenate([p.packed() for p in parts]))
    report: dict = {"licensed_only": licensed_only, "rows": {p.name: len(p.texts) for p in parts}}

    # dev sets
    dav_dev = ds.davidson(data, "dev", split_ids)
    Xd = proj(cached_features("davidson_dev", dav_dev.texts, cache, spec))
    chat_dev = evalset("chat_dev")
    chat_texts = [r["text"] for r in chat_dev]
    Xc = proj(cached_features("chat_dev_evalset", chat_texts, cache, spec))
    yc = np.array([r["targeted"] for r in chat_dev], dtype=np.int64)
    dev_sets = {}
    if not licensed_only:
        gd = gametox_part(data, gametox_ids, "dev")
        cd = conda_part(data, "dev")
        dev_sets = {"gametox": (proj(_features(gd, cache, spec)), gd.gametox),
                    "conda": (proj(_features(cd, cache, spec)), cd.conda)}

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

    def loss_fn(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z = m(x)
        lab, yl = z[:, slice(*LAYOUT["label"])], y[:, _Y_LABEL].long()
        loss = LABEL_WEIGHT * ce_lab(lab, yl) if (yl >= 0).any() else z.sum() * 0
        c, msk = y[:, _Y_CATS:_Y_CATS + NC], y[:, _Y_CATS + NC:]
        bce = nn.functional.binary_cross_entropy_with_logits(z[:, slice(*LAYOUT["categories"])], c,
                                                             pos_weight=pos_weight, reduction="none")
        loss = loss + (bce * msk).sum() / msk.sum().clamp(min=1)
        for view, col, fn in (("conda", _Y_CONDA, ce), ("gametox", _Y_GAMETOX, ce_gt)):
            yv = y[:, col].long()
            if (yv >= 0).any():
                loss = loss + 0.5 * fn(z[:, slice(*LAYOUT[view])], yv)
        return loss

    def dev_parts(m: MLPHead) -> dict[str, float]:
        out = {"davidson_macro_f1": M.macro_f1(dav_dev.y, head_views(m, Xd)["label"].argmax(1))}
        harm = head_views(m, Xc)["categories"][:, [_C[c] for c in TOXICITY_CATEGORIES if c != "profanity"]].max(1)
        out["chat_dev_harm_auc"] = _auc(yc, harm)
        for view, (xv, yv) in dev_sets.items():
            out[f"{view}_dev_macro_f1"] = M.macro_f1(yv, head_views(m, xv)[view].argmax(1))
        return out

    seed_all(seed)
    m = MLPHead(norm.config["k"], OUT_DIM, hidden=HIDDEN, dropout=0.3,
                extra={"labels": ["hate", "offensive", "none"], "categories": list(TOXICITY_CATEGORIES),
                       "layout": {k: list(v) for k, v in LAYOUT.items()}, "conda_labels": list(ds.CONDA_INTENTS),
                       "gametox_labels": list(ds.GAMETOX_LABELS), "licensed_only": licensed_only})
    def select(m: MLPHead) -> float:  # model selection: Davidson and the chat dev set; the views are reported
        d = dev_parts(m)
        return (d["davidson_macro_f1"] + d["chat_dev_harm_auc"]) / 2

    m, best = fit(m, X, Y, loss_fn, lambda: select(m), epochs, lr=5e-4,
                  bs=256, patience=2, desc="toxicity")
    report["dev"] = dev_parts(m)
    report["dev_mean"] = best
    b = hate_bias(torch.from_numpy(head_views(m, Xd)["label_logits"]), dav_dev.y)
    m.config["extra"]["hate_bias"] = round(b, 2)
    report["hate_bias"] = b

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
    raised, tgt, rule = rule_raised(head_views(m, proj(cached_features("chat_dev_evalset", texts, cache, spec)))
                                    ["categories"], texts)
    if licensed_only:
        unl = (raised[:0], tgt[:0], rule[:0])
    else:
        tw, F = twitch_lines(data, cache, spec, (TWITCH_DEV_PART,))
        dev_i = [i for i, t in enumerate(tw) if not is_system_notice(t)]
        unl = rule_raised(head_views(m, proj(F[dev_i]))["categories"], [tw[i] for i in dev_i])
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
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--licensed-only", action="store_true", help="without CONDA, GameTox and the Twitch lines")
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
                               ds.davidson_split_ids(a.data, a.artifacts / "davidson_split.json"))
    m.save(out / "toxicity")
    (out / "toxicity_train_report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
