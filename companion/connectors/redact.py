"""Keep credentials out of logs, reprs and records."""
from __future__ import annotations

import logging
import re

_PASS_LINE = re.compile(r"^(PASS\s+)\S.*$", re.I)
_OAUTH = re.compile(r"oauth:[A-Za-z0-9]+", re.I)


class Secret:
    """A credential that prints as ``***``; call :meth:`reveal` only where it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # refuse to be pickled into a record or a cache by accident
        raise TypeError("Secret cannot be pickled")


def redact_line(line: str) -> str:
    """An IRC line safe to log: the PASS argument and anything shaped like an OAuth token hidden."""
    line = _PASS_LINE.sub(r"\1***", line)
    return _OAUTH.sub("oauth:***", line)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites records so no OAuth token (or given secret) is emitted.

    Attach it to the logger handed to the WebSocket library, whose debug log echoes every frame,
    including ``PASS oauth:...``.
    """

    def __init__(self, secrets: list[Secret] | None = None) -> None:
        super().__init__()
        self.secrets = secrets if secrets is not None else []

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix
            return True
        clean = _OAUTH.sub("oauth:***", message)
        for secret in self.secrets:
            value = secret.reveal()
            if value:
                clean = clean.replace(value, "***")
        if clean != message:
            record.msg, record.args = clean, ()
        return True
