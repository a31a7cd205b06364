"""How much real Twitch chat the emote lexicon reads, before and after merging and morphology.

    python -m benchmarks.emote_coverage [--sample 5000]

On the 1,333 labelled Twitch-Sentiment messages (collapsed, all splits) and a seeded sample of the
unlabelled lines (``../shared/data/twitch_sentiment``), for three emote readers:
- ``project_exact``: the project lexicon (``lexicon/twitch_emotes.json``), exact/case-folded names only;
- ``merged_exact``: the shipped merged lexicon (``artifacts/emote_lexicon.json``), names only;
- ``merged_morphology``: the shipped reader (merged lexicon + ``emote_morphology``).
Rates: ``emote_found`` (at least one token read as an emote, meaning known or not),
``emote_scored`` (at least one emote with a valence, weight > 0) and ``any_lexicon_scored``
(an emote with a valence, or a VADER sentiment word in the text without its emotes).
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import random

from companion.affect import datasets as ds
from companion.affect.emote_morphology import W_LEXICON, EmoteReading
from companion.affect.lexicons import ARTIFACT_LEXICON, LEXICON_DIR, EmoteScorer, VaderScorer


class _ExactOnly:
    """A reader that knows only the lexicon's names (the state before morphology)."""

    def __init__(self, scorer: EmoteScorer) -> None:
        self.morph = scorer.morphology

    def reading(self, token: str) -> EmoteReading | None:
        hit = self.morph.known(token.strip(".,!?:;\"'()") or token)
        return None if hit is None else EmoteReading(hit[0], hit[1], W_LEXICON, "lexicon")


def rates(texts: list[str], reading, vader: VaderScorer) -> dict:
    found = scored = any_lex = 0
    for t in texts:
        toks = t.split()
        rs = [reading(x) for x in toks]
        f = any(r is not None for r in rs)
        s = any(r is not None and r.weight > 0 and r.valence != 0 for r in rs)
        words = " ".join(x for x, r in zip(toks, rs) if r is None)
        found += f
        scored += s
        any_lex += s or vader(words).hits > 0
    n = len(texts)
    return {"emote_found": round(found / n, 4), "emote_scored": round(scored / n, 4),
            "any_lexicon_scored": round(any_lex / n, 4), "n": n}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default=str(ds.default_data_dir()))
    p.add_argument("--sample", type=int, default=5000)
    p.add_argument("--seed", type=int, default=13)
    a = p.parse_args()
    from pathlib import Path

    data = Path(a.data)
    keys = ds.twitch_split_keys(data)
    labelled = [t for s in ("train", "dev", "test") for t in ds.twitch_sentiment(data, s, keys).texts]
    lines = ds.twitch_unlabelled(data)
    sample = random.Random(a.seed).sample(lines, min(a.sample, len(lines)))
    vader = VaderScorer()
    project = EmoteScorer(LEXICON_DIR / "twitch_emotes.json")
    readers = {"project_exact": _ExactOnly(project).reading}
    if ARTIFACT_LEXICON.exists():
        merged = EmoteScorer(ARTIFACT_LEXICON)
        readers["merged_exact"] = _ExactOnly(merged).reading
        readers["merged_morphology"] = merged.reading
    readers["project_morphology"] = project.reading
    out = {name: {"labelled": rates(labelled, r, vader), "unlabelled_sample": rates(sample, r, vader)}
           for name, r in readers.items()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
