"""Encode every data set split once and cache the features (npy, float16), one folder per encoder
configuration (``<adapter hash>-<precision>-<implementation>``, see ``encoder.encoder_tag``), so a
new adapter or forward pass never reads stale features."""
from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from companion.affect import datasets as ds
from companion.affect.encoder import SharedEncoder, encoder_tag
from companion.affect.lora import artifact_adapter

DEFAULT_CACHE = Path("/tmp/companion_affect_cache")


@dataclass
class EncoderSpec:
    """Which encoder produces the features; the model itself is built only when a cache misses."""

    adapter: Path | None = None
    precision: str = "bf16"
    _encoder: SharedEncoder | None = field(default=None, repr=False)

    @property
    def tag(self) -> str:
        return encoder_tag(self.adapter, self.precision)

    def encoder(self) -> SharedEncoder:
        if self._encoder is None:
            self._encoder = SharedEncoder(precision=self.precision, adapter=self.adapter)
        return self._encoder


def all_splits(data: Path, artifacts: Path) -> dict[str, ds.Split]:
    """Every split used in training/evaluation, keyed ``task_split``."""
    ids = ds.davidson_split_ids(data, artifacts / "davidson_split.json")
    out: dict[str, ds.Split] = {}
    for s in ("train", "dev", "test"):
        out[f"goemotions_{s}"] = ds.goemotions(data, s)
        out[f"emobank_{s}"] = ds.emobank(data, s)
        out[f"meld_{s}"] = ds.meld(data, s)
        out[f"davidson_{s}"] = ds.davidson(data, s, ids)
        out[f"intimacy_{s}"] = ds.intimacy(data, s)
        out[f"politeness-wiki_{s}"] = ds.politeness(data, "wikipedia", s)
    out["intimacy_external"] = ds.intimacy(data, "external")
    out["politeness-se_all"] = ds.politeness(data, "stack-exchange", "all")
    return out


def texts_hash(texts: list[str]) -> str:
    return hashlib.sha256("\x1e".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:10]


def cached_features(name: str, texts: list[str], cache: Path, spec: EncoderSpec) -> np.ndarray:
    """Load ``name``'s features from ``cache/<spec.tag>``, computing them when missing. The file name
    carries a hash of the texts, so changed inputs are never served stale features."""
    path = cache / spec.tag / f"{name}-{texts_hash(texts)}.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.time()
    feats = spec.encoder().encode(texts, batch_size=64, progress=True).features
    np.save(path, feats.astype(np.float16))
    print(f"cached {name}: {len(texts)} texts in {time.time() - t:.0f}s", flush=True)
    return feats


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--artifacts", type=Path, default=Path(__file__).parent / "artifacts")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", default="bf16")
    p.add_argument("--frozen", action="store_true", help="the stock encoder, without the artifacts' adapter")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    a.cache.mkdir(parents=True, exist_ok=True)
    a.artifacts.mkdir(parents=True, exist_ok=True)
    splits = all_splits(a.data, a.artifacts)
    spec = EncoderSpec(None if a.frozen else artifact_adapter(a.artifacts), a.precision)
    for name, sp in sorted(splits.items(), key=lambda kv: len(kv[1].texts)):
        cached_features(name, sp.texts, a.cache, spec)


if __name__ == "__main__":
    main()
