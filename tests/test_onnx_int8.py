"""The int8 encoder (ONNX Runtime, built from the committed adapter on first use) stays close to
the fp32 encoder: per-text embedding cosine and head-feature cosine."""
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "companion" / "affect" / "artifacts"
pytestmark = pytest.mark.skipif(not (ARTIFACTS / "modules.json").exists(), reason="affect artifacts not trained")

TEXTS = ["Aiko that boss fight was insane KEKW", "i hate this part so much", "what keyboard do you use?",
         "LETS GO 🔥🔥", "ok", "thank you so much for the stream, it made my day", "",
         "chat is wild today " * 20]


def test_int8_embeddings_and_features_close_to_fp32():
    import torch

    torch.set_num_threads(1)
    from companion.affect.encoder import SharedEncoder
    from companion.affect.lora import artifact_adapter

    adapter = artifact_adapter(ARTIFACTS)
    q = SharedEncoder(precision="int8", adapter=adapter)
    assert q._onnx is not None and q._onnx.path.exists()
    assert q._onnx.path.stat().st_size < 40e6  # int8: a quarter of the fp32 model's ~90 MB
    f = SharedEncoder(precision="fp32", adapter=adapter)
    a, b = q.encode(TEXTS), f.encode(TEXTS)
    cos = np.sum(a.embedding * b.embedding, axis=1)
    assert cos.min() > 0.95 and cos.mean() > 0.98, cos
    fc = np.sum(a.features * b.features, axis=1) / (
        np.linalg.norm(a.features, axis=1) * np.linalg.norm(b.features, axis=1))
    assert fc.min() > 0.97, fc
    assert np.allclose(np.linalg.norm(a.embedding, axis=1), 1.0, atol=1e-4)
    # different texts stay apart: the int8 model is not collapsing everything together
    assert float(a.embedding[0] @ a.embedding[2]) < 0.9
