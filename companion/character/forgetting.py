"""What the character engine must drop when a viewer or a message is forgotten.

Forgetting reaches every place the engine keeps chat: candidates in the pick pools, the
per-channel context, the ``viewers`` table and pending recommendations (their picks, their prompt
context and their memories), all of which persist in the state file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from companion.character.prompt_context import escape_untrusted, safe_id
from companion.recommendation import Recommendation


@dataclass(slots=True)
class Forget:
    """Who or what to forget: viewer keys, logins (lower case) in ``channel`` (any channel when
    empty), and message ids."""

    viewer_keys: set[str] = field(default_factory=set)
    logins: set[str] = field(default_factory=set)
    message_ids: set[str] = field(default_factory=set)
    channel: str = ""

    def _channel_ok(self, channel: str) -> bool:
        return not self.channel or channel.lstrip("#").lower() == self.channel.lstrip("#").lower()

    def matches_message(self, message_id: str, viewer_key: str, login: str, channel: str) -> bool:
        """Whether one chat message falls under this forget."""
        if message_id in self.message_ids:
            return True
        if not self._channel_ok(channel):
            return False
        return viewer_key in self.viewer_keys or login.lower() in self.logins

    def mentioned_in(self, rec: Recommendation) -> bool:
        """Whether a recommendation carries anything forgotten (a pick, a context line, a memory)."""
        if any(p.message_id in self.message_ids for p in rec.picks):
            return True
        content = " ".join(str(m.get("content", "")) for m in rec.prompt.get("messages", []))
        if any(f'id="{escape_untrusted(safe_id(mid))}"' in content for mid in self.message_ids):
            return True
        if not self._channel_ok(rec.channel):
            return False
        if any(p.user.lower() in self.logins for p in rec.picks):
            return True
        if any(m.viewer and m.viewer in self.viewer_keys for m in rec.memories):
            return True
        return any(f'user="{escape_untrusted(login)}"' in content.lower() for login in self.logins)


def login_of(viewer_key: str) -> str:
    """The login part of a viewer key (``twitch:alice`` -> ``alice``)."""
    return viewer_key.split(":", 1)[-1].lower()
