"""Pure parsing of IRCv3 lines (as Twitch sends them) into typed values. No I/O, no state.

Grammar (IRCv3 message-tags): ``['@' tags SPACE] [':' source SPACE] command [params] [' :' trailing]``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_COMMAND_RE = re.compile(r"^(?:[A-Za-z]+|\d{3})$")
MAX_LINE_BYTES = 16 * 1024  # tags may take 8191 bytes, the rest 512; leave room for Twitch's extras
# ASCII digits only: str.isdigit() is also true for "²" and "١٢٣", which int() then rejects or reads.
_ASCII_INT = re.compile(r"[0-9]{1,9}")


class IrcParseError(ValueError):
    """A line that is not a valid IRC message."""


@dataclass(slots=True, frozen=True)
class IrcMessage:
    """One parsed IRC line. ``params`` includes the trailing parameter as its last element."""

    command: str
    params: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    raw: str = ""

    @property
    def nick(self) -> str | None:
        """The nick part of ``nick!user@host`` (or the server name)."""
        if self.source is None:
            return None
        return self.source.split("!", 1)[0].split("@", 1)[0]

    @property
    def channel(self) -> str | None:
        """The first parameter, without ``#``, when it names a channel."""
        if self.params and self.params[0].startswith("#"):
            return self.params[0][1:].lower()
        return None

    @property
    def trailing(self) -> str:
        """The last parameter (the message text for PRIVMSG), or ''."""
        return self.params[-1] if self.params else ""


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag-value escaping: ``\\:`` -> ``;``, ``\\s`` -> space, ``\\\\`` -> ``\\``,
    ``\\r``/``\\n`` -> CR/LF; any other escaped char stands for itself; a lone trailing ``\\`` is dropped."""
    if "\\" not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == "\\":
            if i + 1 < n:
                nxt = value[i + 1]
                out.append(_UNESCAPE.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """Inverse of :func:`unescape_tag_value`."""
    return "".join(_ESCAPE.get(ch, ch) for ch in value)


def parse_tags(raw: str) -> dict[str, str]:
    """Parse ``a=1;b=x\\sy;c`` into a dict. A key without ``=`` has value ''. Later keys win."""
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not key:
            raise IrcParseError(f"empty tag key in {raw[:80]!r}")
        tags[key] = unescape_tag_value(value) if sep else ""
    return tags


def parse_line(line: str) -> IrcMessage:
    """Parse one IRC line (without or with its trailing CRLF). Raises :class:`IrcParseError`."""
    raw = line.rstrip("\r\n")
    if not raw.strip():
        raise IrcParseError("empty line")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
        raise IrcParseError("line too long")
    if "\r" in raw or "\n" in raw or "\x00" in raw:
        raise IrcParseError("control character inside line")
    rest = raw
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        tag_part, sep, rest = rest[1:].partition(" ")
        if not sep:
            raise IrcParseError("tags without a command")
        tags = parse_tags(tag_part)
        rest = rest.lstrip(" ")
    source: str | None = None
    if rest.startswith(":"):
        source, sep, rest = rest[1:].partition(" ")
        if not sep or not source:
            raise IrcParseError("source without a command")
        rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    parts = head.split()
    if not parts:
        raise IrcParseError("missing command")
    command = parts[0]
    if not _COMMAND_RE.match(command):
        raise IrcParseError(f"invalid command {command[:40]!r}")
    params = parts[1:]
    if sep:
        params.append(trailing)
    return IrcMessage(command=command.upper(), params=tuple(params), tags=tags, source=source, raw=raw)


def format_line(command: str, *params: str, tags: dict[str, str] | None = None, trailing: bool = False) -> str:
    """Build an outgoing IRC line (no CRLF). The last param gets the trailing ``:`` when it needs it
    or ``trailing`` is set (Twitch's documented ``PONG :tmi.twitch.tv``). Refuses CR/LF/NUL
    in any part, which would let chat text inject extra commands."""
    parts: list[str] = []
    for p in (command, *params):
        if any(c in p for c in "\r\n\x00"):
            raise ValueError("CR, LF and NUL are not allowed in an IRC line")
    if tags:
        parts.append("@" + ";".join(f"{k}={escape_tag_value(v)}" if v != "" else k for k, v in tags.items()))
    parts.append(command)
    if params:
        middle, last = params[:-1], params[-1]
        for p in middle:
            if not p or " " in p or p.startswith(":"):
                raise ValueError(f"invalid middle parameter {p!r}")
        parts.extend(middle)
        # The trailing colon only where the grammar needs it ("JOIN #c", "PRIVMSG #c :hi there").
        needs_colon = trailing or not last or " " in last or last.startswith(":")
        parts.append(":" + last if needs_colon else last)
    return " ".join(parts)


def parse_badges(value: str) -> dict[str, str]:
    """``broadcaster/1,subscriber/12`` -> ``{"broadcaster": "1", "subscriber": "12"}``."""
    out: dict[str, str] = {}
    for item in value.split(","):
        if not item:
            continue
        name, _, version = item.partition("/")
        out[name] = version
    return out


def is_ascii_int(value: str) -> bool:
    """True for 1-9 ASCII digits: what Twitch sends in numeric tags, bounded so ``int`` is cheap."""
    return _ASCII_INT.fullmatch(value) is not None


def parse_emote_ranges(value: str) -> list[tuple[int, int, str]]:
    """``25:0-4,12-16/1902:6-10`` -> ``[(0, 4, "25"), (6, 10, "1902"), (12, 16, "25")]``.

    Positions are inclusive code-point indices into the message text (Python ``str`` indices).
    Raises :class:`IrcParseError` on a malformed range.
    """
    spans: list[tuple[int, int, str]] = []
    for group in value.split("/"):
        if not group:
            continue
        emote_id, sep, ranges = group.partition(":")
        if not sep or not emote_id:
            raise IrcParseError(f"bad emotes group {group[:40]!r}")
        for rng in ranges.split(","):
            a, sep2, b = rng.partition("-")
            if not sep2 or not is_ascii_int(a) or not is_ascii_int(b) or int(b) < int(a):
                raise IrcParseError(f"bad emote range {rng[:40]!r}")
            spans.append((int(a), int(b), emote_id))
    spans.sort()
    return spans


def split_frame(data: str) -> list[str]:
    """Twitch may put several CRLF-terminated lines in one WebSocket frame."""
    return [part for part in re.split(r"\r\n|\n", data) if part.strip()]
