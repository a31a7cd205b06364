"""Build the shipped emote lexicon: the project's hand-set lexicon merged with the annotated
Twitch-Sentiment emote lexicon (``twitch_sentiment/emote_lexicon.tsv``, 355 emotes, three
annotators, VADER format: mean valence -4..4).

    python -m companion.affect.emote_lexicon --data ../shared/data --out companion/affect/artifacts/emote_lexicon.json

Rules (also in ``lexicon/README.md``):
- an annotated emote's valence is its annotators' mean / 4 (-1..1);
- for an emote in both lexicons the annotated value wins, except when the annotators disagree
  (standard deviation >= ``DISAGREE_SD`` on the -4..4 scale, e.g. Pepega [3, -3, -4]): then the
  mean of the annotated and the project value;
- arousal is the project's where it has one, else ``DEFAULT_AROUSAL`` (the annotators scored
  valence only);
- a new name matches case-insensitively only when it could not be an ordinary word: it has an
  upper-case letter or digit after its first character (``pepeL``, ``monkaS``, ``5Head``) and is
  not all capitals (``HUH``, ``NOPE``, ``BASED`` match only as written);
- ``--licensed-only``: the annotated lexicon is left out (it has no licence), the project's alone.
The file has the project lexicon's schema, so ``lexicons.EmoteScorer`` reads either.
"""
from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

from companion.affect.lexicons import LEXICON_DIR

DISAGREE_SD = 1.5
DEFAULT_AROUSAL = 0.5


def read_annotated(path: Path) -> dict[str, tuple[float, float]]:
    """{name: (mean valence -4..4, standard deviation)} from the VADER-format TSV."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0]:
            scores = ast.literal_eval(parts[3]) if len(parts) > 3 else None
            mean = sum(scores) / len(scores) if scores else float(parts[1])
            out[parts[0]] = (mean, float(parts[2]))
    return out


def _case_insensitive(name: str) -> bool:
    inner = name[1:]
    return any(c.isupper() or c.isdigit() for c in inner) and not name.isupper() and any(c.isalpha() for c in name)


def build(data: Path | None, licensed_only: bool = False) -> dict:
    """The merged lexicon as a JSON-ready dict (the project lexicon's schema plus ``sources``)."""
    lex = json.loads((LEXICON_DIR / "twitch_emotes.json").read_text(encoding="utf-8"))
    emotes = {n: {**e, "source": "project"} for n, e in lex["emotes"].items()}
    sources = ["project lexicon (lexicon/twitch_emotes.json)"]
    tsv = None if data is None else data / "twitch_sentiment" / "emote_lexicon.tsv"
    if not licensed_only and tsv is not None and tsv.exists():
        sources.append("Twitch-Sentiment annotated emote lexicon (no licence)")
        for name, (mean, sd) in read_annotated(tsv).items():
            v = max(-1.0, min(1.0, mean / 4.0))
            old = emotes.get(name)
            if old is None:
                emotes[name] = {"provider": "annotated", "valence": round(v, 3), "arousal": DEFAULT_AROUSAL,
                                "case_insensitive": _case_insensitive(name), "source": "annotated"}
            else:
                merged = v if sd < DISAGREE_SD else (v + old["valence"]) / 2
                emotes[name] = {**old, "valence": round(merged, 3),
                                "source": "annotated" if sd < DISAGREE_SD else "annotated+project"}
    return {"version": 2, "doc": "Built by companion.affect.emote_lexicon; see lexicon/README.md.",
            "sources": sources, "emotes": emotes, "channel_emote_suffixes": lex["channel_emote_suffixes"]}


def write(data: Path | None, out: Path, licensed_only: bool = False) -> Path:
    """Build and save the lexicon to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(data, licensed_only), indent=1, ensure_ascii=False), encoding="utf-8")
    return out


def main() -> None:
    from companion.affect import datasets as ds
    from companion.affect.lexicons import ARTIFACT_LEXICON

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--out", type=Path, default=ARTIFACT_LEXICON)
    p.add_argument("--licensed-only", action="store_true")
    a = p.parse_args()
    d = build(a.data, a.licensed_only)
    write(a.data, a.out, a.licensed_only)
    print(f"wrote {a.out}: {len(d['emotes'])} emotes from {d['sources']}")


if __name__ == "__main__":
    main()
