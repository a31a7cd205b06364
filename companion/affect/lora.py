"""LoRA adapters for the shared encoder: the training-time configuration and a load-time merge.

Adapters are trained with ``peft`` (``companion.affect.finetune``) and saved in its format
(``adapter_config.json`` + ``adapter_model.safetensors``). At load time they are merged straight
into the MiniLM weights, W += (alpha / r) * B @ A, so inference costs exactly what the frozen model
costs and ``peft`` is not imported on the hot path.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

# The top three of MiniLM's six layers: attention projections and both feed-forward matrices.
# Lower layers stay frozen, so backpropagation stops at layer 3 (about half the backward cost).
TRAINED_LAYERS = (3, 4, 5)
TARGET_REGEX = (r".*encoder\.layer\.(" + "|".join(map(str, TRAINED_LAYERS)) + r")\."
                r"(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)")
RANK = 8
ALPHA = 16
DROPOUT = 0.05
WEIGHTS = "adapter_model.safetensors"


def peft_config():
    """The ``peft.LoraConfig`` that ``finetune`` trains with."""
    from peft import LoraConfig

    return LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=DROPOUT, target_modules=TARGET_REGEX, bias="none")


ARTIFACT_DIR = "encoder_lora"


def artifact_adapter(artifacts: Path) -> Path | None:
    """The adapter folder inside an artifacts folder, or None when the heads were trained on the
    stock encoder (``train --frozen``)."""
    folder = Path(artifacts) / ARTIFACT_DIR
    return folder if (folder / WEIGHTS).exists() else None


def adapter_tag(adapter: Path | None) -> str:
    """Short content hash of an adapter (``frozen`` for none): names feature caches per encoder."""
    if adapter is None:
        return "frozen"
    return "lora-" + hashlib.sha256((Path(adapter) / WEIGHTS).read_bytes()).hexdigest()[:10]


@torch.no_grad()
def merge_lora(model: torch.nn.Module, adapter: Path) -> int:
    """Add the adapter's low-rank updates into ``model``'s Linear weights in place; returns how
    many matrices changed. Raises ``KeyError`` if the adapter names a module the model lacks."""
    adapter = Path(adapter)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    scale = cfg["lora_alpha"] / cfg["r"]
    state = load_file(str(adapter / WEIGHTS))
    modules = dict(model.named_modules())
    n = 0
    for key, a in state.items():
        if not key.endswith(".lora_A.weight"):
            continue
        path = key[: -len(".lora_A.weight")].removeprefix("base_model.model.")
        b = state[key.replace(".lora_A.", ".lora_B.")]
        linear = modules[path]
        linear.weight += (scale * (b.float() @ a.float())).to(linear.weight.dtype)
        n += 1
    return n
