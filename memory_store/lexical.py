"""Incremental BM25 over the memory store's rows: the lexical half of hybrid retrieval.

Postings are append-only per term (``array`` buffers read as numpy without a copy), keyed by
memory id; a memory id -> row map turns them into table rows so the store's filters apply. A
removed memory only leaves stale postings behind (its row map entry is -1), so removal is O(1)
and a rebuild from LMDB on open (like the FAISS replay) drops them for good.

Scoring is Lucene's BM25 (k1=1.2, b=0.75, idf = ln(1 + (N - df + .5) / (df + .5))). The static
``bm25s`` library was not used because it cannot add documents to a built index, and a chat
store appends all the time. Entity names are indexed as extra ``e:<name>`` terms so a graph
expansion can reach the memories that name an entity.
"""
from __future__ import annotations

import re
from array import array
from functools import lru_cache
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves im i'm ive i've id i'd ill i'll youre you're dont don't
didnt didn't doesnt doesn't isnt isn't wasnt wasn't cant can't wont won't thats that's whats what's
u ur ya yeah yes yep ok okay oh lol lmao haha like just really also got get gonna wanna gotta
remember again said say tell told know think thing things one ever any""".split())


@lru_cache(maxsize=65536)  # chat reuses a small vocabulary: most calls are a dict hit
def stem(tok: str) -> str:
    """A light English suffix stripper (plurals, -ing, -ed): enough for "cats"/"cat",
    "painting"/"painted"/"paint" without a stemming library."""
    if tok.endswith("'s"):
        tok = tok[:-2]
    n = len(tok)
    if n > 5 and tok.endswith("ing"):
        tok = tok[:-3]
    elif n > 4 and tok.endswith("ied"):
        tok = tok[:-3] + "y"
    elif n > 4 and tok.endswith("ed") and not tok.endswith("eed"):
        tok = tok[:-2]
    elif n > 4 and tok.endswith("ies"):
        tok = tok[:-3] + "y"
    elif n > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        tok = tok[:-1]
    if len(tok) > 3 and tok[-1] == tok[-2] and tok[-1] not in "lsz":
        tok = tok[:-1]  # "running" -> "runn" -> "run"
    return tok


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-worded, stemmed word terms."""
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


# Memory kinds whose text repeats other memories' words (episode summaries, consolidated
# groups): indexed for their row and text hash only, so BM25 does not count those words twice.
NO_POSTINGS = frozenset({"episode", "summary"})


def entity_term(name: str) -> str:
    return "e:" + name.lower()


@dataclass(slots=True)
class LexicalHits:
    rows: np.ndarray  # table rows, best first
    score: np.ndarray  # BM25


class LexicalIndex:
    """See the module docstring. Not thread-safe on its own: the store's lock guards it."""

    def __init__(self, k1: float = 1.2, b: float = 0.75, common_df: float = 0.02,
                 common_min_docs: int = 10_000) -> None:
        self.k1, self.b = k1, b
        # Terms in more than ``common_df`` of a large store score near zero and would make
        # every query scan a huge postings list: they are skipped (stop words the data found).
        self.common_df, self.common_min_docs = common_df, common_min_docs
        self.vocab: dict[str, int] = {}
        self._ids: list[array] = []
        self._tf: list[array] = []
        self._df: list[int] = []
        self.doclen = np.zeros(1024, dtype=np.float32)
        self.id2row = np.full(1024, -1, dtype=np.int64)
        # A hash of each memory's normalised words: search results collapse repeated lines.
        self.texthash = np.zeros(1024, dtype=np.int64)
        self.docs = 0
        self.total_len = 0.0

    def _grow(self, mid: int) -> None:
        if mid < len(self.doclen):
            return
        new = max(mid + 1, 2 * len(self.doclen))
        d = np.zeros(new, dtype=np.float32)
        d[: len(self.doclen)] = self.doclen
        r = np.full(new, -1, dtype=np.int64)
        r[: len(self.id2row)] = self.id2row
        h = np.zeros(new, dtype=np.int64)
        h[: len(self.texthash)] = self.texthash
        self.doclen, self.id2row, self.texthash = d, r, h

    def add(self, mid: int, row: int, text: str, entities: list[str] | tuple = (),
            postings: bool = True) -> None:
        """Index one memory (its words and its entity names). With ``postings`` False only its
        row and text hash are kept (episode summaries: their words repeat their messages')."""
        words = tokenize(text)
        self._grow(mid)
        if self.id2row[mid] >= 0:
            self.remove(mid)
        self.texthash[mid] = self.text_hash(text)
        if not postings:
            return
        terms = words + [entity_term(e) for e in entities]
        counts: dict[str, int] = {}
        for t in terms:
            counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():
            tid = self.vocab.get(t)
            if tid is None:
                tid = self.vocab[t] = len(self._ids)
                self._ids.append(array("q"))
                self._tf.append(array("f"))
                self._df.append(0)
            self._ids[tid].append(mid)
            self._tf[tid].append(float(c))
            self._df[tid] += 1
        n = float(max(len(terms), 1))
        self.doclen[mid] = n
        self.id2row[mid] = row
        self.docs += 1
        self.total_len += n

    @staticmethod
    def text_hash(text: str) -> int:
        """The same for lines that differ only in case and punctuation."""
        return hash(" ".join(_TOKEN.findall(text.lower())))

    def remove(self, mid: int) -> None:
        if mid >= len(self.id2row) or self.id2row[mid] < 0:
            return
        self.id2row[mid] = -1
        self.docs -= 1
        self.total_len -= float(self.doclen[mid])

    def df(self, term: str) -> int:
        tid = self.vocab.get(term)
        return self._df[tid] if tid is not None else 0

    def search(self, terms: list[str], k: int, allowed: np.ndarray | None = None,
               n_rows: int = 0) -> LexicalHits:
        """The top ``k`` rows by BM25 for query ``terms``. ``allowed`` is a boolean mask over
        table rows (the filters); ``n_rows`` sizes the score accumulator (the table size)."""
        empty = LexicalHits(np.empty(0, dtype=np.int64), np.empty(0))
        if not self.docs or k <= 0:
            return empty
        n = float(self.docs)
        avgdl = self.total_len / n
        size = max(n_rows, int(self.id2row.max()) + 1 if len(self.id2row) else 0)
        acc = np.zeros(size, dtype=np.float64)
        seen = np.zeros(size, dtype=bool)
        touched: list[np.ndarray] = []
        for t in dict.fromkeys(terms):
            tid = self.vocab.get(t)
            if tid is None:
                continue
            df = self._df[tid]
            if n >= self.common_min_docs and df > self.common_df * n:
                continue
            ids = np.frombuffer(self._ids[tid], dtype=np.int64)
            rows = self.id2row[ids]
            keep = rows >= 0
            if allowed is not None:
                keep &= allowed[np.where(keep, rows, 0)]
            if not keep.any():
                continue
            ids, rows = ids[keep], rows[keep]
            tf = np.frombuffer(self._tf[tid], dtype=np.float32)[keep]
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            dl = self.doclen[ids]
            acc[rows] += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * dl / avgdl))
            touched.append(rows[~seen[rows]])  # each row once, without sorting
            seen[rows] = True
        if not touched:
            return empty
        cand = np.concatenate(touched) if len(touched) > 1 else touched[0]
        sc = acc[cand]
        if len(cand) > k:
            top = np.argpartition(-sc, k - 1)[:k]
            cand, sc = cand[top], sc[top]
        order = np.argsort(-sc, kind="stable")
        return LexicalHits(cand[order], sc[order])
