"""The toxicity head's lexical branch: hashed word and character n-grams (fastText-like).

The frozen sentence encoder smooths away the exact spelling that in-game toxicity lives in
("noob", "ez", misspelt slurs, the other languages of GameTox and CONDA). A linear model on hashed
word 1-2-grams and character 2-5-grams of each word (``char_wb``-style) catches it; its logits add
to the MLP's on the views listed in the artifact's config (``WideDeepHead``), and the two train
jointly (``train_toxicity``).

Hashing is CRC-32 of the UTF-8 n-gram (stable across processes and platforms, unlike ``hash``),
taken modulo ``buckets``; word and character n-grams are told apart by a prefix byte. The
analyser computes the ids once per distinct message (the analysis cache keeps the head outputs).
"""
from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from companion.affect.modules import MLPHead

_WORD = re.compile(r"\w+|[^\w\s]+")
_RUN = re.compile(r"(.)\1{2,}")  # "loooser" and "loser" share n-grams once runs of 3+ fold to 2


DEFAULT_BUCKETS = 1 << 17


@dataclass(frozen=True, slots=True)
class NgramSpec:
    """The hashing parameters, stored in the artifact's config (``ngrams``)."""

    buckets: int = DEFAULT_BUCKETS
    word: tuple[int, int] = (1, 2)  # word n-gram orders, inclusive
    char: tuple[int, int] = (2, 5)  # character n-gram orders inside each space-padded word, inclusive
    max_ids: int = 512  # n-grams kept per message (long tweets); the first ones

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "NgramSpec":
        return cls(buckets=int(d["buckets"]), word=tuple(d["word"]), char=tuple(d["char"]),
                   max_ids=int(d.get("max_ids", 512)))


def message_ids(text: str, spec: NgramSpec) -> list[int]:
    """The hashed n-gram ids of one message (lower-cased, runs folded)."""
    words = _WORD.findall(_RUN.sub(r"\1\1", text.lower()))
    grams: list[bytes] = []
    wb = [w.encode("utf-8", "replace") for w in words]
    lo, hi = spec.word
    for n in range(lo, hi + 1):
        grams += [b"w" + b" ".join(wb[i:i + n]) for i in range(len(wb) - n + 1)]
    lo, hi = spec.char
    for w in wb:
        p = b" " + w + b" "
        for n in range(lo, min(hi, len(p)) + 1):
            grams += [b"c" + p[i:i + n] for i in range(len(p) - n + 1)]
    crc, b = zlib.crc32, spec.buckets
    return [crc(g) % b for g in grams[:spec.max_ids]]


def batch_ids(texts: Sequence[str], spec: NgramSpec) -> tuple[np.ndarray, np.ndarray]:
    """(flat ids, offsets) for ``nn.EmbeddingBag``: message i's ids are ``ids[offsets[i]:offsets[i+1]]``
    (``offsets`` has n + 1 entries). A message without n-grams gets an empty bag (zero logits)."""
    per = [message_ids(t, spec) for t in texts]
    lens = np.fromiter((len(p) for p in per), dtype=np.int64, count=len(per))
    offsets = np.zeros(len(per) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    ids = np.fromiter((i for p in per for i in p), dtype=np.int64, count=int(offsets[-1]))
    return ids, offsets


Bags = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # EmbeddingBag's (input, offsets, per_sample_weights)


def _bags(flat: np.ndarray, lens: np.ndarray) -> Bags:
    # each n-gram weighs 1/sqrt(n-grams in its message): a long tweet and a 7-character chat line
    # reach logits of one scale (as an L2-normalised bag of n-grams would)
    off = np.zeros(len(lens), dtype=np.int64)
    np.cumsum(lens[:-1], out=off[1:])
    w = np.repeat(1.0 / np.sqrt(np.maximum(lens, 1)), lens).astype(np.float32)
    return torch.from_numpy(flat), torch.from_numpy(off), torch.from_numpy(w)


def bag_rows(ids: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> Bags:
    """The bags of ``rows`` (a batch) out of a whole set's (ids, offsets) (``batch_ids``)."""
    starts, ends = offsets[rows], offsets[rows + 1]
    flat = np.concatenate([ids[s:e] for s, e in zip(starts, ends)]) if len(rows) else ids[:0]
    return _bags(flat, ends - starts)


class WideDeepHead(MLPHead):
    """``MLPHead`` (the deep branch, on encoder features) plus a hashed n-gram linear branch (the
    wide one) whose logits add to the output columns of ``wide_views``. Without n-gram input
    (``forward(x)``) it is the deep branch alone."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 512, dropout: float = 0.3,
                 extra: dict | None = None, ngrams: dict | None = None, wide_cols: list[int] | None = None) -> None:
        super().__init__(in_dim, out_dim, hidden, dropout, extra)
        self.spec = NgramSpec.from_dict(ngrams or NgramSpec().to_dict())
        cols = list(wide_cols or [])
        self.config.update(ngrams=self.spec.to_dict(), wide_cols=cols)
        self.wide = nn.EmbeddingBag(self.spec.buckets, len(cols), mode="sum")
        nn.init.zeros_(self.wide.weight)
        place = torch.zeros(len(cols), out_dim)
        place[torch.arange(len(cols)), torch.tensor(cols, dtype=torch.long)] = 1.0
        self.register_buffer("place", place, persistent=False)
        self.wide_bias = nn.Parameter(torch.zeros(len(cols)))

    def forward(self, x: torch.Tensor, bags: Bags | None = None) -> torch.Tensor:
        z = self.net(x)
        if bags is None or self.place.shape[0] == 0:
            return z
        ids, off, w = bags
        return z + (self.wide(ids, off, per_sample_weights=w) + self.wide_bias) @ self.place

    def adds_to(self, lo: int, hi: int) -> bool:
        """Whether the lexical branch adds to any output column in [lo, hi)."""
        return any(lo <= c < hi for c in self.config["wide_cols"])

    def bags(self, texts: Sequence[str]) -> Bags:
        """The branch's input for ``texts``."""
        ids, offsets = batch_ids(texts, self.spec)
        return _bags(ids, np.diff(offsets))
