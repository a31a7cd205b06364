"""Core facts a viewer states about themselves, found with a few anchored patterns. A matching
message becomes a pinned memory (it never decays) and the value is stored in the profile.

Patterns (case-insensitive; values are cut at punctuation and limited to 40 characters):
  name            "my name is X", "call me X"
  pronouns        "my pronouns are she/her", "I use they/them"
  from            "I'm from X", "I am from X", "I live in X"
  age             "I'm 25 years old", "I am 25 y/o"
  birthday        "my birthday is X"
  favourite_<k>   "my favourite/favorite/fav <k> is X" (game, food, anime, song, ...)
  job             "I work as a X", "I'm a X by trade"
  pet_<animal>    "my cat is called X", "my dog's name is X", "I have a parrot named X"

A later statement of the same key is a correction ("actually my cat is called Luna"): the
store unpins the old fact's memory and pins the new one (``ViewerProfile.fact_ids``).
"""
from __future__ import annotations

import re

_END = r"([^.!?,;\n]{1,40}?)\s*(?:[.!?,;\n]|$| and | but | lol| haha)"
_PETS = (r"(cat|dog|puppy|kitten|parrot|bird|rabbit|bunny|hamster|fish|goldfish|turtle|ferret|snake|"
         r"horse|gecko|lizard|guinea pig)")
_PET_NAME = r"([A-Za-z][\w'-]{0,30})"
_PATTERNS: list[tuple[str | None, re.Pattern[str]]] = [
    ("name", re.compile(r"\bmy name(?:'s| is)\s+([A-Za-z][\w'-]{0,30})", re.I)),
    ("name", re.compile(r"\bcall me\s+([A-Za-z][\w'-]{0,30})", re.I)),
    ("pronouns", re.compile(r"\bmy pronouns are\s+([a-z]+/[a-z]+)", re.I)),
    ("pronouns", re.compile(r"\bi use\s+(she/her|he/him|they/them|she/they|he/they)\b", re.I)),
    ("age", re.compile(r"\bi(?:'m| am)\s+(\d{1,2})\s*(?:years? old|y/?o)\b", re.I)),
    ("from", re.compile(r"\bi(?:'m| am) from\s+" + _END, re.I)),
    ("from", re.compile(r"\bi live in\s+" + _END, re.I)),
    ("birthday", re.compile(r"\bmy birthday is\s+" + _END, re.I)),
    (None, re.compile(r"\bmy (?:favou?rite|fav)\s+([a-z]+(?: [a-z]+)?)\s+is\s+" + _END, re.I)),
    ("job", re.compile(r"\bi work as an?\s+" + _END, re.I)),
    ("pet_", re.compile(r"\bmy (?:new |old |little )?" + _PETS + r"(?:'s name is| is (?:called|named)|"
                        r" is (?:now )?called)\s+" + _PET_NAME, re.I)),
    ("pet_", re.compile(r"\bi (?:have|got|adopted) an? (?:new |little )?" + _PETS
                        + r" (?:called|named)\s+" + _PET_NAME, re.I)),
]


def extract_facts(text: str) -> dict[str, str]:
    """Return {key: value} for every pattern that matches ``text``."""
    found: dict[str, str] = {}
    for key, pat in _PATTERNS:
        m = pat.search(text)
        if not m:
            continue
        if key is None:
            k = "favourite_" + m.group(1).lower().replace(" ", "_")
            v = m.group(2)
        elif key == "pet_":
            k, v = "pet_" + m.group(1).lower().replace(" ", "_"), m.group(2)
        else:
            k, v = key, m.group(1)
        v = v.strip().strip("\"'")
        if v and k not in found:
            found[k] = v
    return found


def fact_text(user: str, key: str, value: str) -> str:
    """A sentence for a pinned fact, written so that a question about it retrieves it."""
    label = key.replace("favourite_", "favourite ").replace("pet_", "").replace("_", " ")
    return f"{user}'s {label} is {value}"
