"""A local WebSocket server that speaks Twitch's chat IRC protocol, for loopback tests.

Replies follow the examples in Twitch's documentation (dev.twitch.tv/docs/chat/irc): the
``CAP * ACK``, the 001-004/375/372/376 welcome, JOIN echo + 353/366 + ROOMSTATE (+ USERSTATE when
logged in), ``Login authentication failed`` for a bad token. Message builders below produce the
tagged PRIVMSG / USERNOTICE / CLEARCHAT / CLEARMSG lines Twitch sends.

Usage::

    server = FakeTwitchServer(expected_token="oauth:abc")
    await server.start()              # binds 127.0.0.1 on an ephemeral port
    os.environ["TWITCH_IRC_URL"] = server.url
    await server.wait_joined("chan")
    await server.send_line(privmsg("chan", "alice", "hello"))
    await server.drop()               # abrupt socket loss
    await server.stop()
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Callable

from websockets.asyncio.server import ServerConnection, serve

HOST = "tmi.twitch.tv"
_ids = itertools.count(1)


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\:").replace(" ", "\\s").replace("\r", "\\r").replace("\n", "\\n")
    )


def _tags(tags: dict[str, object]) -> str:
    return "@" + ";".join(f"{k}={_escape(str(v))}" for k, v in tags.items())


def privmsg(
    channel: str,
    login: str,
    text: str,
    *,
    msg_id: str | None = None,
    user_id: str = "1337",
    display_name: str | None = None,
    badges: str = "",
    emotes: str = "",
    bits: int | None = None,
    first_msg: bool = False,
    mod: bool = False,
    ts_ms: int = 1_700_000_000_000,
    extra: dict[str, object] | None = None,
) -> str:
    """A PRIVMSG as Twitch sends it with the tags capability."""
    tags: dict[str, object] = {
        "badge-info": "",
        "badges": badges,
        "color": "#0D4200",
        "display-name": display_name or login,
        "emotes": emotes,
        "first-msg": int(first_msg),
        "flags": "",
        "id": msg_id or f"b34ccfc7-4977-403a-8a94-{next(_ids):012d}",
        "mod": int(mod),
        "returning-chatter": 0,
        "room-id": "12345678",
        "subscriber": 0,
        "tmi-sent-ts": ts_ms,
        "turbo": 0,
        "user-id": user_id,
        "user-type": "mod" if mod else "",
    }
    if bits is not None:
        tags["bits"] = bits
    tags.update(extra or {})
    return f"{_tags(tags)} :{login}!{login}@{login}.{HOST} PRIVMSG #{channel} :{text}"


def usernotice(
    channel: str,
    msg_id: str,
    login: str,
    system_msg: str,
    text: str | None = None,
    *,
    notice_id: str | None = None,
    user_id: str = "1337",
    params: dict[str, object] | None = None,
    ts_ms: int = 1_700_000_000_000,
) -> str:
    """A USERNOTICE (sub, resub, subgift, raid, announcement...). ``params`` are msg-param-* tags."""
    tags: dict[str, object] = {
        "badge-info": "",
        "badges": "staff/1,broadcaster/1,turbo/1",
        "color": "#008000",
        "display-name": login,
        "emotes": "",
        "id": notice_id or f"db25007f-7a18-43eb-9379-{next(_ids):012d}",
        "login": login,
        "mod": 0,
        "msg-id": msg_id,
        "room-id": "12345678",
        "subscriber": 0,
        "system-msg": system_msg,
        "tmi-sent-ts": ts_ms,
        "user-id": user_id,
        "user-type": "staff",
    }
    for k, v in (params or {}).items():
        tags[f"msg-param-{k}"] = v
    line = f"{_tags(tags)} :{HOST} USERNOTICE #{channel}"
    return line + (f" :{text}" if text is not None else "")


def clearmsg(channel: str, login: str, target_msg_id: str, text: str, ts_ms: int = 1_700_000_000_000) -> str:
    """A moderator deleted one message."""
    tags = {"login": login, "room-id": "", "target-msg-id": target_msg_id, "tmi-sent-ts": ts_ms}
    return f"{_tags(tags)} :{HOST} CLEARMSG #{channel} :{text}"


def clearchat(channel: str, login: str | None = None, duration: int | None = None, target_user_id: str = "87654321") -> str:
    """A timeout (duration), a ban (no duration) or, without ``login``, the whole chat cleared."""
    tags: dict[str, object] = {"room-id": "12345678", "tmi-sent-ts": 1_700_000_000_000}
    if login is not None:
        tags["target-user-id"] = target_user_id
        if duration is not None:
            tags = {"ban-duration": duration, **tags}
    line = f"{_tags(tags)} :{HOST} CLEARCHAT #{channel}"
    return line + (f" :{login}" if login is not None else "")


class FakeTwitchServer:
    """Twitch chat's IRC-over-WebSocket endpoint, on loopback. Reusable across tests."""

    def __init__(
        self,
        *,
        expected_token: str | None = None,
        moderator_in: set[str] | None = None,
        host: str = "127.0.0.1",
        welcome: bool = True,
        port: int = 0,
    ) -> None:
        self.expected_token = expected_token
        self.moderator_in = moderator_in or set()
        self.host = host
        self.welcome = welcome  # False: accept NICK but never send 001 (a hung login)
        self.port = port  # 0: an ephemeral port, known after start()
        self.received: list[str] = []  # every line any client sent, in order
        self.sent: list[str] = []  # every line this server sent
        self.connections: list[ServerConnection] = []  # open now
        self.connection_count = 0  # accepted since start
        self.joins: list[str] = []  # channels joined, one entry per JOIN (rejoins repeat)
        self._server = None
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> "FakeTwitchServer":
        # Its own logger, so tests can tell what the client logged from what the server logged.
        self._server = await serve(self._handler, self.host, self.port, logger=logging.getLogger("twitch_fake_server"))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> "FakeTwitchServer":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # -- driving the client ---------------------------------------------------------------

    async def send_line(self, line: str) -> None:
        """Send one line to every open connection."""
        await self.send_frame([line])

    async def send_frame(self, lines: list[str]) -> None:
        """Send several lines in one WebSocket frame, as Twitch does."""
        payload = "".join(line + "\r\n" for line in lines)
        self.sent.extend(lines)
        for ws in list(self.connections):
            await ws.send(payload)

    async def drop(self) -> None:
        """Cut every connection without a close handshake (a network failure)."""
        for ws in list(self.connections):
            ws.transport.abort()

    async def wait_for(self, predicate: Callable[["FakeTwitchServer"], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate(self)`` holds (re-checked whenever something arrives)."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))

        await asyncio.wait_for(_wait(), timeout)

    async def wait_for_line(self, prefix: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        """Wait until ``count`` received lines start with ``prefix``; return them."""
        await self.wait_for(lambda s: sum(1 for ln in s.received if ln.startswith(prefix)) >= count, timeout)
        return [ln for ln in self.received if ln.startswith(prefix)]

    async def wait_joined(self, channel: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``channel`` has been joined ``count`` times (reconnects rejoin)."""
        await self.wait_for(lambda s: s.joins.count(channel) >= count, timeout)

    # -- protocol --------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _reply(self, ws: ServerConnection, lines: list[str]) -> None:
        self.sent.extend(lines)
        await ws.send("".join(line + "\r\n" for line in lines))

    async def _handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self.connection_count += 1
        state = {"nick": None, "pass": None, "caps": False}
        await self._notify()
        try:
            async for frame in ws:
                text = frame.decode() if isinstance(frame, bytes) else frame
                for line in text.split("\r\n"):
                    if line:
                        self.received.append(line)
                        await self._on_line(ws, state, line)
                await self._notify()
        except Exception:  # noqa: BLE001 - a dropped client is part of the test
            pass
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
            await self._notify()

    async def _on_line(self, ws: ServerConnection, state: dict, line: str) -> None:
        command, _, rest = line.partition(" ")
        nick = state["nick"] or "*"
        if command == "CAP" and rest.startswith("REQ"):
            caps = rest.partition(":")[2]
            state["caps"] = True
            await self._reply(ws, [f":{HOST} CAP * ACK :{caps}"])
        elif command == "PASS":
            state["pass"] = rest
        elif command == "NICK":
            state["nick"] = nick = rest.strip().lstrip(":").lower()
            if not self.welcome:
                return
            anonymous = nick.startswith("justinfan") and state["pass"] is None
            if not anonymous and (self.expected_token is None or state["pass"] != self.expected_token):
                await self._reply(ws, [f":{HOST} NOTICE * :Login authentication failed"])
                await ws.close()
                return
            welcome = [
                f":{HOST} 001 {nick} :Welcome, GLHF!",
                f":{HOST} 002 {nick} :Your host is {HOST}",
                f":{HOST} 003 {nick} :This server is rather new",
                f":{HOST} 004 {nick} :-",
                f":{HOST} 375 {nick} :-",
                f":{HOST} 372 {nick} :You are in a maze of twisty passages, all alike.",
                f":{HOST} 376 {nick} :>",
            ]
            if not anonymous:
                welcome.append(
                    f"@badge-info=;badges=;color=;display-name={nick};emote-sets=0;user-id=424242;user-type= "
                    f":{HOST} GLOBALUSERSTATE"
                )
            await self._reply(ws, welcome)
        elif command == "JOIN":
            for chan in rest.strip().lstrip(":").split(","):
                chan = chan.lstrip("#")
                self.joins.append(chan)
                lines = [
                    f":{nick}!{nick}@{nick}.{HOST} JOIN #{chan}",
                    f":{nick}.{HOST} 353 {nick} = #{chan} :{nick}",
                    f":{nick}.{HOST} 366 {nick} #{chan} :End of /NAMES list",
                    f"@emote-only=0;followers-only=-1;r9k=0;room-id=12345678;slow=0;subs-only=0 :{HOST} ROOMSTATE #{chan}",
                ]
                if not nick.startswith("justinfan"):
                    lines.append(self._userstate(nick, chan))
                await self._reply(ws, lines)
        elif command == "PRIVMSG" or (command.startswith("@") and " PRIVMSG " in line):
            chan = line.split("PRIVMSG #", 1)[1].split(" ", 1)[0]
            await self._reply(ws, [self._userstate(nick, chan)])

    def _userstate(self, nick: str, chan: str) -> str:
        mod = chan in self.moderator_in
        badges = "moderator/1" if mod else ""
        return (
            f"@badge-info=;badges={badges};color=;display-name={nick};emote-sets=0;mod={int(mod)};"
            f"subscriber=0;user-type={'mod' if mod else ''} :{HOST} USERSTATE #{chan}"
        )
