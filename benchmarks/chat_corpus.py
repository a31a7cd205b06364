"""Unique, chat-like synthetic messages for benchmarks (deterministic for a seed)."""
from __future__ import annotations

import random

_OPENERS = ["lol", "omg", "wait", "bro", "yo", "ok", "no way", "honestly", "chat", "guys", "aiko",
            "@Aiko", "hey", "bruh", "ngl", "pls", "yes", "nah", "hmm", "LETS GO"]
_MIDDLES = ["that boss fight was insane", "the music in this part is so good", "you got this",
            "why did it go left", "i have a question about the build", "this is my first stream here",
            "the chat is wild today", "that jump was clean", "what rank are you", "how long is the game",
            "i missed the start what happened", "we need more potions", "that was so unlucky",
            "i love this song", "what keyboard do you use", "the lore is confusing", "send help",
            "is this the final area", "play it again", "who else is watching at 3am"]
_TAILS = ["KEKW", "LUL", "Pog", "PogChamp", "monkaS", "Sadge", "PepeHands", "Kappa", "OMEGALUL",
          "😂", "🔥", "❤️", "😭", "👀", "🎉", "!!", "?", "...", "", "", ""]


def chat_messages(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct short chat lines (median ~8 words) with emotes and emoji."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(_OPENERS), rng.choice(_MIDDLES)]
        if rng.random() < 0.3:
            words.append(rng.choice(_MIDDLES).split(" ", 2)[-1])
        words.append(rng.choice(_TAILS))
        # A counter word keeps every line unique, as in a real chat where caches rarely hit.
        words.insert(rng.randrange(1, len(words)), f"x{i}")
        out.append(" ".join(w for w in words if w))
    return out
