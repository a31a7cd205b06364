"""The analyser seam: ``Analyzer.load().analyze_batch(texts)`` (DESIGN.md) and
``analyze_messages(msgs, deep)`` (what the pipeline calls).

Deep mode runs one MiniLM pass per message (the shipped LoRA adapter merged in, see
``companion/affect/lora.py``); its features feed every trained head in ``companion/affect`` and its
mean-pooled, L2-normalised output is the message embedding (kept within cosine ~0.998 of the stock
all-MiniLM-L6-v2 sentence embedding by the fine-tuning's keep term; also returned by
:meth:`Analyzer.embed`).
Lexicon mode (``deep=False``, or when no artifacts are installed) runs VADER, emoji and Twitch
emotes only, leaves model fields ``None`` and marks the record ``degraded``.

Per-channel state (for the mood tracker and novelty) lives inside the analyser:
- mood: the last ``mood_window`` turns of each channel go through the conversation GRU;
  ``mood.valence`` = P(positive) - P(negative) of its sentiment output, ``mood.arousal`` = its
  emotion distribution weighted by per-emotion arousal (anger .8, disgust .5, fear .8, joy .6,
  neutral .2, sadness .3, surprise .8), and ``mood.persistence`` = 1 - JSD (base 2) between its
  sentiment distribution now and at the channel's previous turn: 1 when the channel's mood carries
  over unchanged, 0 when it flips completely (0 for a channel's first turn).
- novelty: cosine similarity against the channel's last ``novelty_window`` embeddings.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from companion.affect.injection import looks_like_injection
from companion.affect.lexicons import LexiconScore, strip_emotes
from companion.affect.toxicity import RuleHits, assemble, not_chat, rule_hits, thresholds_from_config
from companion.messages import ChatMessage
from companion.records import (EKMAN_LABELS, GOEMOTIONS_LABELS, PAD, SENTIMENT_LABELS, AnalysisRecord, Ekman,
                               Emotions, MemoryInfo, Mood, Sentiment, SentimentComponents, Social)

DEFAULT_ARTIFACTS = Path(__file__).parent / "affect" / "artifacts"
MOOD_AROUSAL = np.array([0.8, 0.5, 0.8, 0.6, 0.2, 0.3, 0.8])  # MELD/Ekman order


def _round(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def _jsd(p: np.ndarray, q: np.ndarray) -> float:
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        a = np.clip(a, 1e-9, 1.0)
        return float(np.sum(a * np.log2(a / np.clip(b, 1e-9, 1.0))))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


class _Lexical(NamedTuple):
    """What the lexicon pass finds in one message (both analysis modes use it)."""

    vader: LexiconScore
    emoji: LexiconScore
    emote: LexiconScore
    injection: bool
    tox: RuleHits  # the toxicity phrase rules (threat, self-harm, sexual, profanity, system notice)


def _columns(lex: list[_Lexical]) -> tuple[list[LexiconScore], list[LexiconScore], list[LexiconScore]]:
    """VADER, emoji and emote scores of a batch, as the ensemble's feature builders take them."""
    return [x.vader for x in lex], [x.emoji for x in lex], [x.emote for x in lex]


@dataclass
class _ChannelState:
    turns: deque = field(default_factory=deque)  # (features, aux, user)
    recent: np.ndarray | None = None  # ring buffer of the last novelty_window embeddings
    n_recent: int = 0
    text_hashes: deque = field(default_factory=deque)
    last_sentiment: np.ndarray | None = None


class Analyzer:
    """Affect analysis of chat messages. Build with :meth:`load`."""

    def __init__(self, encoder, heads, ensemble, character_names: Sequence[str] = ("Aiko",),
                 mood_window: int = 8, novelty_window: int = 200, emoji_table: Path | None = None,
                 clock: Callable[[], float] = time.time, cache_entries: int = 8192,
                 emote_lexicon: Path | None = None) -> None:
        from companion.affect.analysis_cache import AnalysisCache
        from companion.affect.importance import ImportanceScorer
        from companion.affect.lexicons import EmojiScorer, EmoteScorer, VaderScorer

        self.encoder, self.heads, self.ensemble = encoder, heads, ensemble
        # the artifacts' merged emote lexicon (emote_lexicon.py), else the default EmoteScorer's
        self.vader = VaderScorer()
        self.emote = EmoteScorer(emote_lexicon if emote_lexicon is not None and emote_lexicon.exists() else None)
        if emoji_table is not None and emoji_table.exists():
            self.emoji = EmojiScorer.load(emoji_table)
        else:
            from companion.affect.datasets import default_data_dir

            self.emoji = EmojiScorer(default_data_dir() / "emoji_sentiment" / "Emoji_Sentiment_Data_v1.0.csv")
        self.importance = ImportanceScorer(tuple(character_names))
        self.mood_window = mood_window
        self.novelty_window = novelty_window
        self.clock = clock
        # Per-text model outputs (encoder + heads), keyed by normalised text; 0 turns it off.
        self.text_cache = AnalysisCache(cache_entries)
        self._channels: dict[str, _ChannelState] = {}
        self._lock = threading.Lock()
        self.thresholds = (np.asarray(heads.heads["emotions"].config["extra"]["thresholds"])
                           if heads is not None else None)
        # toxicity.flagged's operating point, chosen on the chat dev set (affect.toxicity)
        self.flag_thresholds = thresholds_from_config(heads.heads["toxicity"].config["extra"] if heads is not None else {})

    @classmethod
    def load(cls, artifacts_dir: str | Path | None = None, device: str = "cpu",
             character_names: Sequence[str] = ("Aiko",), precision: str = "bf16",
             threads: int | None = None, **kw) -> "Analyzer":
        """Load the encoder and the committed artifacts, offline. Without artifacts only the
        lexicon analysis is available (every record ``degraded``). ``precision`` is the encoder's:
        bf16 (default, what the heads were trained on: ~1.6x faster than fp32 on AVX512-BF16 CPUs),
        fp32, int8 (ONNX Runtime, fused and quantised for VNNI: ``affect.onnx_encoder``) or int8-torch
        (torch dynamic quantisation: less accurate). See docs/BENCHMARKS.md, "Speed of the whole pipeline"."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
        from companion.affect.encoder import SharedEncoder
        from companion.affect.ensemble import SentimentEnsemble
        from companion.affect.heads import AffectHeads

        art = Path(artifacts_dir) if artifacts_dir is not None else DEFAULT_ARTIFACTS
        heads = AffectHeads.load(art) if (art / "modules.json").exists() else None
        ens = SentimentEnsemble.load(art / "sentiment_ensemble.json") if (art / "sentiment_ensemble.json").exists() else None
        from companion.affect.lora import artifact_adapter

        encoder = SharedEncoder(device=device, precision=precision, adapter=artifact_adapter(art))
        return cls(encoder, heads, ens, character_names=character_names,
                   emoji_table=art / "emoji_sentiment.json", emote_lexicon=art / "emote_lexicon.json", **kw)

    # ------------------------------------------------------------------ public API
    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32 L2-normalised MiniLM sentence embeddings (same space as Event.embedding)."""
        return self.encoder.encode([t or "" for t in texts]).embedding

    def analyze_batch(self, texts: list[str]) -> list[AnalysisRecord]:
        """DESIGN.md API: one record per text, in order."""
        msgs = [ChatMessage(text=t or "") for t in texts]
        return [e.record for e in self.analyze_messages(msgs, deep=True)]

    def analyze_messages(self, msgs: list[ChatMessage], deep: bool = True) -> list:
        """Analyse a micro-batch; returns ``pipelines.event.Event`` objects in input order."""
        from pipelines.event import Event

        if not msgs:
            return []
        t0 = time.perf_counter()
        deep = deep and self.heads is not None and self.ensemble is not None
        lex = [self.text_cache.lexical(m, self._lexicon) for m in msgs]
        if deep:
            from companion.affect.ensemble import lexicon_features

            enc, out = self.text_cache.analyse([m.text for m in msgs], lexicon_features(*_columns(lex)),
                                               self.encoder, self.heads)
            records = self._deep_records(msgs, lex, enc, out)
            embeddings = list(enc.embedding)
        else:
            records = self._lexicon_records(msgs, lex)
            embeddings = [None] * len(msgs)
        ms = (time.perf_counter() - t0) * 1000.0 / len(msgs)
        for r in records:
            r.latency_ms = _round(ms, 3)
        return [Event(message=m, record=r, embedding=e) for m, r, e in zip(msgs, records, embeddings)]

    def reset(self) -> None:
        """Forget every channel's conversation state."""
        with self._lock:
            self._channels.clear()

    # ------------------------------------------------------------------ internals
    def _lexicon(self, m: ChatMessage) -> _Lexical:
        emote = self.emote(m.text, m.emotes or None)
        emo = self.emoji(m.text)
        vader = self.vader(strip_emotes(m.text, self.emote, m.emotes or None))
        return _Lexical(vader, emo, emote, looks_like_injection(m.text), rule_hits(m.text))

    def _base(self, m: ChatMessage) -> AnalysisRecord:
        kind = m.kind.value if hasattr(m.kind, "value") else str(m.kind)
        return AnalysisRecord(id=m.id, ts=m.ts, platform=m.platform, channel=m.channel, user=m.user,
                              text=m.text, kind=kind, user_id=m.user_id, truncated=m.truncated)

    def _sentiment(self, probs: np.ndarray, i: int, lex: _Lexical, model_score: float | None) -> Sentiment:
        vader, emo, emote = lex.vader, lex.emoji, lex.emote
        p = probs[i]
        return Sentiment(label=SENTIMENT_LABELS[int(p.argmax())], score=_round(p[2] - p[0]),
                         components=SentimentComponents(
                             model=None if model_score is None else _round(model_score),
                             vader=None if vader.score is None else _round(vader.score),
                             emoji=None if emo.score is None else _round(emo.score),
                             emote=None if emote.score is None else _round(emote.score)))

    def _lexicon_records(self, msgs: list[ChatMessage], lex: list[_Lexical]) -> list[AnalysisRecord]:
        from companion.affect.ensemble import component_matrix
        from companion.affect.formality import formality

        X = component_matrix(None, *_columns(lex))
        if self.ensemble is not None:
            probs = self.ensemble.proba(X, deep=False)
        else:
            # no fitted weights at all: mean of the present lexicon scores
            s = np.array([np.mean([v for v in (x.vader.score, x.emoji.score, x.emote.score) if v is not None] or [0.0])
                          for x in lex])
            probs = np.stack([(s < -0.05).astype(float), (np.abs(s) <= 0.05).astype(float), (s > 0.05).astype(float)], 1)
            probs[:, 2] = np.where(s > 0.05, (1 + s) / 2, 0)
            probs[:, 0] = np.where(s < -0.05, (1 - s) / 2, 0)
            probs[:, 1] = 1 - probs[:, 0] - probs[:, 2]
        records = []
        with self._lock:
            for i, m in enumerate(msgs):
                r = self._base(m)
                r.sentiment = self._sentiment(probs, i, lex[i], None)
                r.social = Social(formality=_round(formality(m.text, lex[i].emote.hits, lex[i].emoji.hits)))
                st = self._channels.setdefault(m.channel, _ChannelState())
                h = hashlib.blake2b(m.text.strip().lower().encode("utf-8", "replace"), digest_size=8).digest()
                novelty = 0.0 if h in st.text_hashes else 1.0
                st.text_hashes.append(h)
                while len(st.text_hashes) > self.novelty_window:
                    st.text_hashes.popleft()
                cues = self.importance.cues(m, abs(r.sentiment.score), novelty)
                r.memory = MemoryInfo(importance=self.importance.score(cues))
                r.toxicity = not_chat() if m.is_event else assemble(None, None, m.text, lex[i].tox, self.flag_thresholds)
                r.injection = lex[i].injection
                r.degraded = True
                records.append(r)
        return records

    def _deep_records(self, msgs: list[ChatMessage], lex: list[_Lexical], enc, out) -> list[AnalysisRecord]:
        from companion.affect.ensemble import component_matrix
        from companion.affect.formality import formality

        X = component_matrix(out.sentiment, *_columns(lex))
        probs = self.ensemble.proba(X, deep=True)
        mood_e, mood_s = self._mood(msgs, out.projected, out.aux())
        emotions_r = np.round(out.emotions.astype(np.float64), 4).tolist()  # one rounding pass per batch
        ekman_r = np.round(out.ekman.astype(np.float64), 4).tolist()
        records = []
        with self._lock:
            for i, m in enumerate(msgs):
                r = self._base(m)
                ps = out.sentiment[i]
                r.sentiment = self._sentiment(probs, i, lex[i], float(ps[2] - ps[0]))
                em = out.emotions[i]
                r.emotions = Emotions(labels=[GOEMOTIONS_LABELS[j] for j in np.flatnonzero(em >= self.thresholds)],
                                      scores=dict(zip(GOEMOTIONS_LABELS, emotions_r[i])))
                r.ekman = Ekman(label=EKMAN_LABELS[int(out.ekman_label[i])],
                                scores=dict(zip(EKMAN_LABELS, ekman_r[i])))
                cats = None if out.toxicity_categories is None else out.toxicity_categories[i]
                r.toxicity = (not_chat() if m.is_event
                              else assemble(out.toxicity[i], cats, m.text, lex[i].tox, self.flag_thresholds))
                score, label = r.toxicity.score, r.toxicity.label
                r.pad = PAD(pleasure=_round(out.pad[i, 0]), arousal=_round(out.pad[i, 1]),
                            dominance=_round(out.pad[i, 2]), confidence=[_round(c) for c in out.pad_conf[i]])
                st = self._channels.setdefault(m.channel, _ChannelState())
                persistence = 0.0 if st.last_sentiment is None else 1.0 - _jsd(mood_s[i], st.last_sentiment)
                st.last_sentiment = mood_s[i]
                r.mood = Mood(valence=_round(mood_s[i, 2] - mood_s[i, 0]),
                              arousal=_round(float(mood_e[i] @ MOOD_AROUSAL)),
                              persistence=_round(min(1.0, max(0.0, persistence))))
                r.social = Social(politeness=_round(out.politeness[i]),
                                  intimacy=_round(min(1.0, max(-1.0, out.intimacy[i]))),
                                  formality=_round(formality(m.text, lex[i].emote.hits, lex[i].emoji.hits)))
                novelty = self._novelty(st, enc.embedding[i])
                non_neutral = float(np.max(np.delete(em, GOEMOTIONS_LABELS.index("neutral"))))
                emotional = max(abs(r.sentiment.score), non_neutral, score if label != "none" else 0.0)
                cues = self.importance.cues(m, emotional, novelty)
                r.memory = MemoryInfo(importance=self.importance.score(cues))
                r.injection = lex[i].injection
                records.append(r)
        return records

    def _novelty(self, st: _ChannelState, emb: np.ndarray) -> float:
        """1 - max cosine to the channel's recent embeddings (1 for its first message); then remember ``emb``."""
        if st.recent is None:
            st.recent = np.zeros((self.novelty_window, emb.shape[0]), dtype=np.float32)
        k = min(st.n_recent, self.novelty_window)
        novelty = 1.0 - float(np.max(st.recent[:k] @ emb)) if k else 1.0
        st.recent[st.n_recent % self.novelty_window] = emb
        st.n_recent += 1
        return novelty

    def _mood(self, msgs: list[ChatMessage], feats: np.ndarray, aux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the conversation tracker over each message's channel window (history + this batch)."""
        n, w = len(msgs), self.heads.mood.config["window"] if self.heads.mood is not None else 1
        if self.heads.mood is None:
            return np.full((n, 7), 1 / 7), np.full((n, 3), 1 / 3)
        F = np.zeros((n, w, feats.shape[1]), dtype=np.float32)
        A = np.zeros((n, w, aux.shape[1]), dtype=np.float32)
        S = np.zeros((n, w), dtype=np.float32)
        P = np.ones((n, w), dtype=np.float32)
        with self._lock:
            for i, m in enumerate(msgs):
                st = self._channels.setdefault(m.channel, _ChannelState())
                st.turns.append((feats[i], aux[i], m.user))
                while len(st.turns) > w:
                    st.turns.popleft()
                turns = list(st.turns)
                off = w - len(turns)
                for k, (f, a, u) in enumerate(turns):
                    F[i, off + k], A[i, off + k] = f, a
                    S[i, off + k] = float(u == m.user)
                    P[i, off + k] = 0.0
        return self.heads.mood_predict(F, A, S, P)
