"""``InProcessProxy``: the fault proxy without a socket, on a virtual clock (the project's own fast tests).

It offers what ``Harness`` and ``SuiteSession`` use of a ``ProxyServer`` — ``base_url``, ``add_rule``,
``remove_rule``, ``clear_faults``, ``set_plan``, ``exchanges``, ``reset``, ``engine``, ``recorder``, ``start``,
``stop`` — but the fault engine runs in the integration's own thread, as a ``FaultTransport`` around a real
``httpx.HTTPTransport`` to the upstream (the twin, still on its loopback socket). Integrations must be built
with ``transport()`` and ``sleep`` (``integration_options()``): every wait then advances one ``VirtualTime``
instead of sleeping — the integration's backoff and Retry-After sleeps, and the proxy's holds (a hung request
costs its read timeout in virtual seconds, not in real ones). Recorded exchanges are stamped on the same
virtual clock, so the waits the checks judge (``waits()``, durations) are exactly what the integration chose.

What differs from the socket placement: no connection is really held, dropped or reset (the client gets the
exception it would have got, see ``FaultTransport``); an integration that ignores the transport bypasses the
faults (its traffic is not recorded, which the checks report as a harness error); no pacing (embedded twin only).
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness.clock import ManualClock
from bluum_readiness.errors import HarnessError
from bluum_readiness.proxy.engine import FaultEngine
from bluum_readiness.proxy.plan import Plan
from bluum_readiness.proxy.recorder import Exchange, Recorder
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.proxy.server import parse_upstream
from bluum_readiness.proxy.transport import FaultTransport

__all__ = ["InProcessProxy", "VirtualTime"]


class VirtualTime(ManualClock):
    """A ``ManualClock`` shared by threads: ``now`` (also as ``monotonic``), ``sleep``/``advance`` move it at once.

    ``sleep(s)`` returns immediately with the clock ``s`` later; ``slept`` totals what was asked for."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        super().__init__(start)
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> float:
        with self._lock:
            return super().now()

    monotonic = now

    def advance(self, seconds: float) -> None:
        with self._lock:
            super().advance(seconds)

    def sleep(self, seconds: float) -> None:
        """What an integration calls instead of ``time.sleep``: the clock moves by ``seconds`` (negatives: 0)."""
        seconds = max(0.0, float(seconds))
        with self._lock:
            super().advance(seconds)
            self.slept += seconds

    def set(self, timestamp: float) -> None:
        with self._lock:
            super().set(timestamp)


class _Tap(httpx.BaseTransport):
    """One integration's handle on the shared ``FaultTransport``: closing its client closes nothing shared."""

    def __init__(self, faults: FaultTransport) -> None:
        self._faults = faults

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._faults.handle_request(request)

    def close(self) -> None:
        pass


class InProcessProxy:
    """The fault engine in front of ``upstream`` as an in-process httpx transport on ``time`` (a context manager).

    :param upstream: the API's base URL (the embedded twin's ``base_url``); requests keep their URL and reach
        it through ``httpx.HTTPTransport``, so ``base_url`` is the upstream's own.
    :param plan: the initial rules (none: pure pass-through).
    :param time: the virtual clock (a fresh ``VirtualTime`` by default).
    :param recorder: where exchanges go (a fresh ``Recorder`` by default).
    """

    def __init__(
        self,
        upstream: str,
        plan: Plan | None = None,
        recorder: Recorder | None = None,
        *,
        time: VirtualTime | None = None,
    ) -> None:
        self.upstream = parse_upstream(upstream)
        self.base_url = str(self.upstream).rstrip("/")
        self.url = str(self.upstream.copy_with(raw_path=b"")).rstrip("/")
        self.time = time if time is not None else VirtualTime()
        self._inner: httpx.HTTPTransport | None = None
        self._faults = FaultTransport(_Closed(), plan, recorder=recorder, clock=self.time, sleep=self.time.advance)
        self.fresh_connections = False  # as ProxyServer's; no connection is kept here, so nothing to close

    @property
    def engine(self) -> FaultEngine:
        return self._faults.engine

    @property
    def recorder(self) -> Recorder:
        return self._faults.recorder

    # -- what integrations are built with -------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """A transport for one integration's httpx client (its ``close`` leaves the proxy running)."""
        if self._inner is None:
            raise HarnessError("the in-process proxy is not started (or already stopped); call start() first")
        return _Tap(self._faults)

    def sleep(self, seconds: float) -> None:
        """The integration's sleep: advances ``time`` by ``seconds`` at once."""
        self.time.sleep(seconds)

    def integration_options(self) -> dict[str, Any]:
        """The keyword arguments every adapter factory gets in a virtual-time session: ``transport``, ``sleep``."""
        return {"transport": self.transport(), "sleep": self.sleep}

    # -- control, as ProxyServer ----------------------------------------------------------------------------

    def set_plan(self, plan: Plan) -> None:
        self._faults.set_plan(plan)

    def add_rule(self, rule: FaultRule) -> None:
        self._faults.add_rule(rule)

    def remove_rule(self, name: str) -> bool:
        return self._faults.remove_rule(name)

    def clear_faults(self) -> None:
        """Remove every rule; recorded exchanges stay."""
        self._faults.clear_faults()

    def exchanges(self, settle: float = 0.0) -> list[Exchange]:
        """Every exchange so far, in arrival order. ``settle`` is accepted for ``ProxyServer``'s signature and
        not needed: a sync transport records an exchange before its client sees the outcome."""
        return self._faults.exchanges()

    def reset(self) -> None:
        """Remove every rule and recorded exchange, and re-seed: as freshly started."""
        self._faults.reset()

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> InProcessProxy:
        if self._inner is not None:
            raise HarnessError(f"the in-process proxy to {self.url} is already started; start it once")
        self._inner = httpx.HTTPTransport(verify=tls_context_for(self.upstream))
        self._faults.inner = self._inner
        return self

    def stop(self) -> None:
        """Close the connections to the upstream. Idempotent."""
        if self._inner is not None:
            self._inner.close()
            self._inner = None
            self._faults.inner = _Closed()

    def __enter__(self) -> InProcessProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Closed(httpx.BaseTransport):
    """The inner transport of a proxy not started or stopped: every request is a harness error."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise HarnessError(f"the in-process proxy is not running; {request.method} {request.url} was not sent")
