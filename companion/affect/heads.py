"""The bundle of trained heads that read the shared encoder's features.

``AffectHeads.predict(features, lexicon)`` runs every per-message head on a batch of features and
returns numpy arrays; the analyser and the evaluation both go through it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from companion.affect.ekman_conversation import label_from_head
from companion.affect.modules import FeatureProjector, MLPHead, SavedModule
from companion.affect.mood_tracker import MoodTracker
from companion.affect.toxicity_ngrams import WideDeepHead
from companion.affect.trm import TRMRefiner
from companion.records import GOEMOTIONS_LABELS

HEAD_NAMES = ("emotions", "ekman", "sentiment", "toxicity", "intimacy", "politeness")
# Optional: the conversation-trained head behind ``ekman.label`` (ekman_conversation). Bundles
# without it read the label off the ``ekman`` head, as before.
EKMAN_LABEL_HEAD = "ekman_label"


@dataclass(slots=True)
class HeadOutputs:
    emotions: np.ndarray  # (n, 28) probabilities
    ekman: np.ndarray  # (n, 7) probabilities
    sentiment: np.ndarray  # (n, 3) softmax
    toxicity: np.ndarray  # (n, 3) softmax (hate, offensive, none), hate bias applied
    intimacy: np.ndarray  # (n,)
    politeness: np.ndarray  # (n,)
    pad: np.ndarray  # (n, 3) final-step PAD
    pad_conf: np.ndarray  # (n, K) per-step confidence
    projected: np.ndarray  # (n, HEAD_DIM) normalised, projected features (the mood tracker's input)
    toxicity_categories: np.ndarray | None = None  # (n, 7) sigmoid, TOXICITY_CATEGORIES order
    ekman_label: np.ndarray | None = None  # (n,) EKMAN_LABELS index (ekman_conversation.label_from_head)

    def aux(self) -> np.ndarray:
        """The per-turn summary fed to the mood tracker: emotions, sentiment, ekman."""
        return np.concatenate([self.emotions, self.sentiment, self.ekman], axis=1).astype(np.float32)


AUX_DIM = 28 + 3 + 7


# GoEmotions -> Ekman grouping (Demszky et al. 2020), in EKMAN_LABELS order.
EKMAN_GROUPS = (
    ("anger", "annoyance", "disapproval"), ("disgust",), ("fear", "nervousness"),
    ("joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief", "pride",
     "admiration", "desire", "caring"),
    ("neutral",), ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    ("surprise", "realization", "confusion", "curiosity"),
)
_GROUP_IDX = [[GOEMOTIONS_LABELS.index(n) for n in g] for g in EKMAN_GROUPS]


def ekman_probs(head: torch.Tensor, emotions: torch.Tensor) -> torch.Tensor:
    """Ekman-7 probability: mean of the Ekman head and the noisy-OR of its GoEmotions group
    (the two views disagree in useful ways; the mean scored higher on dev than either)."""
    grouped = torch.stack([1 - torch.prod(1 - emotions[:, idx], dim=1) for idx in _GROUP_IDX], dim=1)
    return (head + grouped) / 2


LEX_DIM = 6  # ensemble.lexicon_features: VADER compound/hit, emoji score/count, emote score/count
LEX_SCALE = 3.0  # the lexicon columns are few among ~550 inputs; scaled up so dropout/init don't drown them


def pad_input(x: torch.Tensor, emotions: torch.Tensor, sentiment: torch.Tensor, ekman: torch.Tensor,
              lexicon: torch.Tensor | None = None) -> torch.Tensor:
    """The PAD refiner reads the normalised features plus the emotion/sentiment heads' outputs
    (centred), so VAD regression borrows what the larger GoEmotions set taught those heads, and,
    when given, the lexicon scores the analyser computes anyway (VADER, emoji, emotes)."""
    parts = [x, 2 * emotions - 1, 2 * sentiment - 1, 2 * ekman - 1]
    if lexicon is not None:
        parts.append(LEX_SCALE * lexicon)
    return torch.cat(parts, dim=1)


def reads_lexicon(pad: TRMRefiner | torch.nn.Module) -> bool:
    """Whether a PAD model was trained on ``pad_input`` with the lexicon columns."""
    return bool(getattr(pad, "config", {}).get("extra", {}).get("lexicon", False))


class AffectHeads:
    def __init__(self, norm: FeatureProjector, heads: dict[str, MLPHead], pad: TRMRefiner,
                 mood: MoodTracker | None) -> None:
        self.norm, self.heads, self.pad, self.mood = norm, heads, pad, mood

    def modules(self) -> dict[str, SavedModule]:
        out: dict[str, SavedModule] = {"feature_norm": self.norm, **self.heads, "pad_trm": self.pad}
        if self.mood is not None:
            out["mood_tracker"] = self.mood
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        mods = self.modules()
        for name, m in mods.items():
            m.save(folder / name)
        (folder / "modules.json").write_text(json.dumps(list(mods), indent=1))

    @classmethod
    def load(cls, folder: Path) -> "AffectHeads":
        names = json.loads((folder / "modules.json").read_text())
        mods = {n: SavedModule.load(folder / n) for n in names}
        heads = {n: mods[n] for n in (*HEAD_NAMES, EKMAN_LABEL_HEAD) if n in mods}
        return cls(mods["feature_norm"], heads, mods["pad_trm"], mods.get("mood_tracker"))

    @torch.inference_mode()
    def predict(self, features: np.ndarray, lexicon: np.ndarray | None = None,
                texts: Sequence[str] | None = None) -> HeadOutputs:
        """Every head on (n, FEATURE_DIM) features. ``lexicon`` is (n, LEX_DIM) from
        ``ensemble.lexicon_features``; a PAD refiner that reads it gets zeros without it (a degraded
        PAD; fine for callers that don't read ``pad``). ``texts`` feed a toxicity head's n-gram
        branch (``toxicity_ngrams``) where it adds to the label or categories; without them that
        head is its deep branch alone."""
        x = self.norm(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)))
        h = self.heads
        tox_all = self._toxicity(x, texts)
        tox = tox_all[:, :3].clone()  # a multi-task head (affect.toxicity.LAYOUT) has more views after these
        tox[:, 0] += float(h["toxicity"].config["extra"].get("hate_bias", 0.0))
        # a 3-class-only head (before the categories) scores every category 0: only the rules raise them
        cats = (torch.sigmoid(tox_all[:, 3:10]) if tox_all.shape[1] >= 10 else torch.zeros(x.shape[0], 7)).numpy()
        emotions = torch.sigmoid(h["emotions"](x))
        ekman_head = torch.sigmoid(h["ekman"](x))
        ekman = ekman_probs(ekman_head, emotions)
        sentiment = torch.softmax(h["sentiment"](x), 1)
        lex = None
        if reads_lexicon(self.pad):
            lex = (torch.zeros(x.shape[0], LEX_DIM) if lexicon is None
                   else torch.from_numpy(np.ascontiguousarray(lexicon, dtype=np.float32)))
        ys, cs = self.pad(pad_input(x, emotions, sentiment, ekman, lex))
        return HeadOutputs(
            emotions=emotions.numpy(),
            ekman=ekman.numpy(),
            sentiment=sentiment.numpy(),
            toxicity=torch.softmax(tox, 1).numpy(),
            intimacy=h["intimacy"](x).squeeze(1).numpy(),
            politeness=h["politeness"](x).squeeze(1).numpy(),
            pad=ys[-1].numpy(),
            pad_conf=torch.stack(cs, 1).numpy(),
            projected=x.numpy(),
            toxicity_categories=cats,
            ekman_label=self._ekman_label(x, ekman_head.numpy(), ekman.numpy()),
        )

    def _toxicity(self, x: torch.Tensor, texts: Sequence[str] | None) -> torch.Tensor:
        """The toxicity head's outputs; its n-gram branch runs only where it changes what the
        analyser reads (label, categories: the first 10 columns)."""
        m = self.heads["toxicity"]
        if texts is not None and isinstance(m, WideDeepHead) and m.adds_to(0, 10):
            return m(x, m.bags(texts))
        return m(x)

    def _ekman_label(self, x: torch.Tensor, head: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """``ekman.label``: the separate conversation head when the bundle has one (its dev-chosen
        ``label_bias``; see ekman_conversation for why it is separate), else the ``ekman`` head's
        own read-out when it has a ``label_bias``, else the argmax of the published scores (heads
        trained before MELD joined)."""
        conv = self.heads.get(EKMAN_LABEL_HEAD)
        if conv is not None:
            return label_from_head(torch.sigmoid(conv(x)).numpy(), np.asarray(conv.config["extra"]["label_bias"]))
        bias = self.heads["ekman"].config.get("extra", {}).get("label_bias")
        return scores.argmax(1) if bias is None else label_from_head(head, np.asarray(bias))

    @torch.inference_mode()
    def mood_predict(self, projected: np.ndarray, aux: np.ndarray, same: np.ndarray,
                     pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Windows (B, N, ...) of projected features (``HeadOutputs.projected``) -> emotion (B, 7)
        and sentiment (B, 3) probabilities."""
        assert self.mood is not None
        x = torch.from_numpy(np.ascontiguousarray(projected, dtype=np.float32))
        e, s = self.mood(x, torch.from_numpy(aux), torch.from_numpy(same), torch.from_numpy(pad))
        return torch.softmax(e, 1).numpy(), torch.softmax(s, 1).numpy()
