"""Shared test fixtures and paths."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AFFECT_ARTIFACTS = ROOT / "companion" / "affect" / "artifacts"
DATA = (ROOT / ".." / "shared" / "data").resolve()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"training/evaluation data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Test artifacts (screenshots) go here; CI keeps the folder."""
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    return out


@pytest.fixture(scope="session")
def affect_model():
    """The shipped encoder (LoRA merged, bf16) and affect heads, loaded once per test run."""
    if not (AFFECT_ARTIFACTS / "modules.json").exists():
        pytest.skip("affect artifacts not trained")
    import torch

    from companion.affect.encoder import SharedEncoder
    from companion.affect.heads import AffectHeads
    from companion.affect.lora import artifact_adapter

    torch.set_num_threads(2)
    return (SharedEncoder(precision="bf16", adapter=artifact_adapter(AFFECT_ARTIFACTS)),
            AffectHeads.load(AFFECT_ARTIFACTS))
