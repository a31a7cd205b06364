"""The encoder's int8 path: MiniLM (LoRA merged) exported to ONNX with the pooling inside the graph,
fused by ONNX Runtime's BERT optimiser and dynamically quantised to int8 (u8 activations, s8
weights: the VNNI dot-product instructions).

The model is built from the committed artifacts on first use and cached (nothing big is
committed): ``$COMPANION_CACHE`` or ``~/.cache/companion``, named by the adapter's content hash, so
a retrained adapter gets a new file. Building takes a few seconds; later loads read the file.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

# Bumped when the exported graph changes, so an old cached file is not reused.
ONNX_IMPL = "onnx1"


def cache_dir() -> Path:
    """Where built ONNX models are kept."""
    return Path(os.environ.get("COMPANION_CACHE") or Path.home() / ".cache" / "companion") / "onnx"


class _Pooled(nn.Module):
    """MiniLM forward + ``encoder.pool_features``: (L2-normalised embedding, head features)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from companion.affect.encoder import pool_features

        states = self.model(input_ids, attention_mask)
        emb, feats = pool_features(states, attention_mask.unsqueeze(-1).to(states[1].dtype))
        return nn.functional.normalize(emb, dim=1), feats


def export_fp32(model: nn.Module, path: Path) -> None:
    """Write ``model`` (an fp32 ``MiniLM``) with pooling as an ONNX graph with dynamic batch and length."""
    ids = torch.ones((2, 8), dtype=torch.int64)
    mask = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(_Pooled(model).eval(), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                      output_names=["embedding", "features"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"},
                                    "features": {0: "batch"}})


def build_int8(model: nn.Module, path: Path, heads: int, hidden: int) -> None:
    """Export, fuse (attention, LayerNorm, GELU) and quantise ``model`` into ``path``, atomically."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        raw, fused, quant = Path(tmp) / "fp32.onnx", Path(tmp) / "fused.onnx", Path(tmp) / "int8.onnx"
        export_fp32(model, raw)
        opt = optimize_model(str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
        opt.save_model_to_file(str(fused))
        # The fused graph has ORT's own ops, which ONNX shape inference cannot type: say float.
        quantize_dynamic(str(fused), str(quant), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(quant, path)


class OnnxInt8Forward:
    """``(input_ids, attention) -> (embedding, features)`` through the cached int8 model, built
    from ``model`` when missing."""

    def __init__(self, model: nn.Module, tag: str, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = cache_dir() / f"minilm-{tag}-{ONNX_IMPL}-int8.onnx"
        if not self.path.exists():
            cfg = model.config
            log.info("encoder: building the int8 ONNX model at %s", self.path)
            build_int8(model, self.path, cfg["num_attention_heads"], cfg["hidden_size"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or torch.get_num_threads()
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle ORT threads spin by default; the pipeline's other stages need those cores.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(self.path), so, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: np.ndarray, attention: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        emb, feats = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention})
        return emb, feats
