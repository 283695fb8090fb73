"""The fault contract: what a fault sees (``ProxyRequest``), what it may call (``forward``), what it returns.

A fault is placement-independent: the same object runs inside the socket proxy (``ProxyServer``) and
in-process (``FaultTransport``). It never matches requests, counts or rolls dice (the engine does that,
once); it only decides what happens to one request that was selected for it::

    Outcome
     ├── Respond   send this response (from ``forward()``, or made up by the fault)
     ├── Hold      keep the connection open without answering for ``seconds``, then close it
     ├── Close     close the connection with no response (FIN)
     └── Abort     reset the connection (RST)

Whether the upstream committed is not part of the outcome: it is whether the fault awaited ``forward()``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "MAX_FAULT_SECONDS",
    "Abort",
    "Close",
    "Fault",
    "Forward",
    "Headers",
    "Hold",
    "Outcome",
    "ProxyRequest",
    "Respond",
    "Sleep",
    "check_seconds",
]

MAX_FAULT_SECONDS = 3600.0
"""◆ The longest delay or hold a fault may ask for (one hour): far past any client's timeout, and short enough
that a typo (``seconds = 1e309`` is infinity in TOML) cannot hold a connection for ever. A ``Hold`` returned by
a custom fault is cut to it too."""


def check_seconds(name: str, value: float, *, allow_zero: bool) -> None:
    """``ValueError`` unless ``value`` is a finite number of seconds in range (``> 0``, or ``>= 0``, up to
    ``MAX_FAULT_SECONDS``); faults call it from ``__post_init__`` so a plan error names the parameter."""
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_FAULT_SECONDS):
        lowest = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value} must be {lowest} and at most {MAX_FAULT_SECONDS:g} seconds")


Headers = tuple[tuple[str, str], ...]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Respond:
    """Answer the client with this response. ``upstream`` is True when it came from ``forward()`` unchanged."""

    status: int
    headers: Headers = ()
    body: bytes = b""
    upstream: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class Hold:
    """Keep the connection open and silent for ``seconds`` (meant to exceed the client's timeout), then close."""

    seconds: float


@dataclass(frozen=True)
class Close:
    """Close the connection without any response (an orderly FIN: the client sees "server disconnected")."""


@dataclass(frozen=True)
class Abort:
    """Reset the connection (TCP RST, SO_LINGER 0: the client sees "connection reset by peer")."""


Outcome = Respond | Hold | Close | Abort
Forward = Callable[[], Awaitable[Respond]]


async def _no_sleep(seconds: float) -> None:
    return None


@dataclass(frozen=True)
class ProxyRequest:
    """One complete request as the client sent it (body fully read), plus the placement's sleeper.

    :param path: the request path without the query string, e.g. ``/v1/investors``.
    :param query: the raw query string without ``?`` ("" when none).
    :param headers: the request headers in order, names as sent.
    :param sleep: wait this many seconds. Real ``asyncio.sleep`` in the proxy, virtual in ``FaultTransport``:
        faults must wait only through it, never with ``asyncio.sleep`` or ``time.sleep``.
    """

    method: str
    path: str
    query: str = ""
    headers: Headers = ()
    body: bytes = b""
    sleep: Sleep = field(default=_no_sleep, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@runtime_checkable
class Fault(Protocol):
    """One kind of misbehaviour, applied to one request the engine selected.

    Implement it as a small frozen dataclass whose fields are its parameters (they become the TOML keys),
    and register the class in ``bluum_readiness.proxy.faults.FAULTS`` (see CREATING_FAULTS.md).

    ``apply`` decides the request's fate: return ``Respond``/``Hold``/``Close``/``Abort``. Await ``forward()``
    to send the request upstream (the upstream then commits, whatever the client sees next); never call it
    more than once. Wait only with ``request.sleep``. Raise nothing on purpose: an upstream failure raised by
    ``forward()`` propagates and the placement answers 502.
    """

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        """Decide what the client gets for ``request``; await ``forward()`` to involve the upstream."""
        ...
