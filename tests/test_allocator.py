"""companion.allocator: the process-wide memory settings the engine applies before its models run."""
from __future__ import annotations

import os

import pytest

from companion import allocator


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(allocator, "_tuned", False)
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    monkeypatch.delenv("COMPANION_MALLOC_TUNE", raising=False)
    yield


def test_tuning_caps_the_onednn_kernel_cache(fresh) -> None:
    if allocator._glibc() is None:
        pytest.skip("not glibc")
    assert allocator.tune_malloc() is True
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == allocator.ONEDNN_KERNEL_CACHE
    assert allocator.trim() is True


def test_a_users_own_kernel_cache_setting_wins(fresh, monkeypatch) -> None:
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "2048")
    allocator.tune_malloc()
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "2048"


def test_opt_out_leaves_everything_alone(fresh, monkeypatch) -> None:
    monkeypatch.setenv("COMPANION_MALLOC_TUNE", "0")
    assert allocator.tune_malloc() is False
    assert "ONEDNN_PRIMITIVE_CACHE_CAPACITY" not in os.environ
    assert allocator.trim() is False
