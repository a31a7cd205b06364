"""Cheap text features for the analytics windows: words and emotes/emoji."""
from __future__ import annotations

import re

import emoji
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from companion.messages import ChatMessage

_WORD = re.compile(r"[^\W\d_][\w']{1,30}", re.UNICODE)
# Chat filler that tells nothing about the topic, beyond sklearn's English stop words.
_CHAT_STOP = frozenset({"lol", "im", "dont", "just", "like", "yeah", "yes", "ok", "oh", "u", "ur", "it's", "i'm"})


def emotes_in(message: ChatMessage) -> list[str]:
    """Emote names from the platform's emote spans, plus every emoji in the text."""
    names = [name for _, _, name in message.emotes]
    if not message.text.isascii():  # the emoji tokenizer is slow; ASCII text has no emoji
        names.extend(e["emoji"] for e in emoji.emoji_list(message.text))
    return names


def words_in(message: ChatMessage, emotes: list[str]) -> list[str]:
    """Lower-cased content words, without stop words, emote names or mentions."""
    skip = {e.lower() for e in emotes}
    out = []
    for w in _WORD.findall(message.text):
        lw = w.lower()
        if lw in ENGLISH_STOP_WORDS or lw in _CHAT_STOP or lw in skip or len(lw) < 3:
            continue
        out.append(lw)
    return out
