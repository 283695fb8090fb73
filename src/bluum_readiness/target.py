"""Where the API lives: ``Target``, and the one rule for reading a target setting (``parse_target``).

A target is ``"embedded"`` (a sandbox twin started for the run) or the API's base URL: ``http(s)://host[:port]``
followed by ``/v1`` (a trailing slash is dropped), e.g. ``https://sandbox.api.bluumfinance.com/v1``. The config
file, ``--target`` and ``bluum-readiness smoke`` all go through ``parse_target``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from urllib.parse import urlsplit

from bluum_readiness.errors import ConfigError

__all__ = ["EMBEDDED", "Target", "parse_target"]

EMBEDDED = "embedded"
EXAMPLE = "https://sandbox.api.bluumfinance.com/v1"


@dataclass(frozen=True)
class Target:
    """Where the API lives. ``origin`` + ``/v1`` is the API; ``twin`` targets also have ``/_sandbox``."""

    origin: str
    twin: bool

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def host(self) -> str:
        return urlsplit(self.origin).hostname or self.origin


def parse_target(value: str, *, what: str = "target") -> Target | None:
    """``"embedded"`` → None (a twin is started for the run); an API base URL → a remote ``Target``; anything else
    is a ``ConfigError`` naming ``what`` (the setting or flag) and an example."""
    if value == EMBEDDED:
        return None
    base = value.rstrip("/")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - a port out of range or not a number raises here
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", …
        raise ConfigError(f"{what} {value!r} is not a valid URL ({exc}); use e.g. {EXAMPLE}") from None
    if any(c.isspace() or ord(c) < 32 for c in base):
        raise ConfigError(f"{what} {value!r} holds a space or a control character; use e.g. {EXAMPLE}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        close = difflib.get_close_matches(value, [EMBEDDED], n=1)
        hint = " Did you mean 'embedded'?" if close else ""
        raise ConfigError(f"{what} {value!r} is neither 'embedded' nor an http(s) URL.{hint} Use e.g. {EXAMPLE}")
    if parts.path != "/v1" or parts.query or parts.fragment:
        raise ConfigError(f"{what} {value!r} must be the API base URL ending in /v1, e.g. {EXAMPLE}")
    return Target(origin=base[: -len("/v1")], twin=False)
