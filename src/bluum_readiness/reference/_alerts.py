"""``AlertMonitor``: the reference integration's alerts, raised from what the client and the receiver saw.

Four kinds (the adapter contract's ``alerts()``), each with the evidence an on-call engineer needs:

- ``elevated_5xx``: at least ``elevated_5xx_count`` 5xx answers within ``window_s`` (one alert per episode: it
  re-arms once the window holds fewer again). A single retried 5xx is normal weather, not an alert.
- ``rate_limited``: at least ``rate_limited_count`` 429s within ``window_s`` (one per episode): the integration
  is exceeding its quota (sandbox 10 req/s, production 25) and users are waiting on ``Retry-After``.
- ``stuck_order``: an order this integration placed is still non-terminal after ``stuck_order_after_s``
  (market orders, and any order still ``pending``) or ``resting_order_after_s`` (limit and stop orders resting
  ``open``/``partial``). The watch starts at placement and follows the integration's own reads; before
  alerting, the order is read once more (``sweep``'s ``confirm``), so an order that filled quietly is dropped,
  not reported.
- ``webhook_failure``: no webhook arrived about a deposit, withdrawal or order this integration created within
  ``webhook_grace_s`` while its receiver was serving. ◆ Bluum offers no API for delivery status, so an
  integration learns of failing deliveries by the gap: every such create emits an event (``…initiated``,
  ``order.accepted``) that Bluum delivers, with retries, to the registered endpoint.

Feeding: ``observe(…)`` from the request log (every attempt), ``order_placed``/``order_seen`` from the order
operations, ``expect_webhook`` from creates; ``sweep``'s ``received`` asks the receiver what arrived (or call
``webhook_seen`` from your own receiver).
Time comes from the injected ``clock`` (seconds since the epoch), so tests drive it without sleeping.
``sweep`` is what a scheduler calls (the adapter's ``alerts()`` calls it first): it makes the only HTTP
calls, and only for orders past their threshold.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["FAST_ALERTS", "AlertMonitor", "AlertPolicy", "TERMINAL_ORDER_STATUSES"]

logger = logging.getLogger("bluum_readiness.reference.alerts")

#: Order statuses after which nothing more happens (Bluum's, plus the event-name spellings).
TERMINAL_ORDER_STATUSES = frozenset({"filled", "cancelled", "canceled", "failed", "rejected", "expired"})
_RESTING_TYPES = frozenset({"limit", "stop", "stop_limit", "trailing_stop"})


@dataclass(frozen=True)
class AlertPolicy:
    """When each alert fires. Defaults are production values; ``FAST_ALERTS`` shrinks the waits for the twin."""

    window_s: float = 60.0
    elevated_5xx_count: int = 5
    rate_limited_count: int = 1
    stuck_order_after_s: float = 300.0
    resting_order_after_s: float | None = 86_400.0  # None: resting limit/stop orders are never stuck
    webhook_grace_s: float = 600.0

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.stuck_order_after_s <= 0 or self.webhook_grace_s <= 0:
            raise ValueError("alert windows and thresholds must be > 0 seconds")
        if self.elevated_5xx_count < 2 or self.rate_limited_count < 1:
            raise ValueError("elevated_5xx_count must be >= 2 (one 5xx is not elevated) and rate_limited_count >= 1")


#: For runs against the twin, where waiting minutes proves nothing more (``create_fast``). Orders: the twin fills or
#: holds an order within a tick (10 ms), so 0.25 s is a wide margin. Webhooks keep 0.5 s: a delivery crosses the
#: twin's scheduler, TLS and the receiver, and a false webhook_failure alert would fail the checks.
FAST_ALERTS = AlertPolicy(stuck_order_after_s=0.25, resting_order_after_s=0.25, webhook_grace_s=0.5)


@dataclass
class _Episode:
    """Timestamps of one kind of answer within the window, and whether its alert is currently raised."""

    seen: deque[float] = field(default_factory=deque)
    raised: bool = False

    def add(self, now: float, window_s: float, threshold: int) -> bool:
        """Record one occurrence; True when this one crosses ``threshold`` (the alert should fire)."""
        self.prune(now, window_s, threshold)
        self.seen.append(now)
        if len(self.seen) >= threshold and not self.raised:
            self.raised = True
            return True
        return False

    def prune(self, now: float, window_s: float, threshold: int) -> None:
        while self.seen and self.seen[0] <= now - window_s:
            self.seen.popleft()
        if len(self.seen) < threshold:
            self.raised = False


@dataclass
class _WatchedOrder:
    investor_id: str
    order_id: str
    order_type: str
    status: str
    placed_at: float


class AlertMonitor:
    """Thread-safe alert state for one integration. ``alerts()`` lists what fired, oldest first."""

    def __init__(
        self, policy: AlertPolicy | None = None, *, clock: Callable[[], float] = time.time, keep: int = 1000
    ) -> None:
        self.policy = policy if policy is not None else AlertPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._alerts: deque[dict[str, Any]] = deque(maxlen=keep)
        self._5xx = _Episode()
        self._429 = _Episode()
        self._orders: dict[str, _WatchedOrder] = {}
        self._expected: dict[str, tuple[str, float]] = {}  # resource id -> (what, since)
        self.webhooks_expected = False  # set when the receiver serves: only then is a missing webhook news

    # -- what fired -----------------------------------------------------------------------------------------

    def alerts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self._alerts]

    def _fire(self, kind: str, message: str, **details: Any) -> None:
        alert = {"kind": kind, "at": datetime.fromtimestamp(self._clock(), UTC).isoformat(), "message": message,
                 **details}  # fmt: skip
        self._alerts.append(alert)
        logger.error("ALERT %s: %s", kind, message, extra={"bluum_alert": alert})

    # -- HTTP answers (every attempt, from the request log) -------------------------------------------------

    def observe(self, method: str, path: str, status: int | None, request_id: str | None) -> None:
        now = self._clock()
        p = self.policy
        with self._lock:
            if status is not None and status >= 500:
                if self._5xx.add(now, p.window_s, p.elevated_5xx_count):
                    self._fire("elevated_5xx", f"{len(self._5xx.seen)} server errors (5xx) from Bluum within "
                               f"{p.window_s:g} s; latest {method} {path} -> {status} (request id {request_id})",
                               count=len(self._5xx.seen), window_s=p.window_s, status=status, path=path,
                               request_id=request_id)  # fmt: skip
            else:
                self._5xx.prune(now, p.window_s, p.elevated_5xx_count)
            if status == 429:
                if self._429.add(now, p.window_s, p.rate_limited_count):
                    self._fire("rate_limited", f"{len(self._429.seen)} rate-limited answers (429) within "
                               f"{p.window_s:g} s; latest {method} {path} (request id {request_id})",
                               count=len(self._429.seen), window_s=p.window_s, path=path,
                               request_id=request_id)  # fmt: skip
            else:
                self._429.prune(now, p.window_s, p.rate_limited_count)

    # -- orders ---------------------------------------------------------------------------------------------

    def order_placed(self, investor_id: str, order: dict[str, Any]) -> None:
        """Start watching an order this integration placed (as Bluum answered the placement)."""
        order_id, status = str(order.get("id", "")), str(order.get("status", "pending"))
        if not order_id or status in TERMINAL_ORDER_STATUSES:
            return
        with self._lock:
            self._orders[order_id] = _WatchedOrder(investor_id, order_id, str(order.get("type", "market")), status,
                                                   self._clock())  # fmt: skip

    def order_seen(self, order_id: str, status: str) -> None:
        """A newer status for a watched order (from a read or a webhook); terminal ends the watch."""
        with self._lock:
            watched = self._orders.get(order_id)
            if watched is None:
                return
            if status in TERMINAL_ORDER_STATUSES:
                del self._orders[order_id]
            else:
                watched.status = status

    def _overdue(self, order: _WatchedOrder, now: float) -> bool:
        p = self.policy
        resting = order.order_type in _RESTING_TYPES and order.status != "pending"
        limit = p.resting_order_after_s if resting else p.stuck_order_after_s
        return limit is not None and now - order.placed_at > limit

    # -- webhooks -------------------------------------------------------------------------------------------

    def expect_webhook(self, resource_id: str, what: str) -> None:
        """A create whose event Bluum will deliver; no-op unless the receiver is serving."""
        with self._lock:
            if self.webhooks_expected and resource_id:
                self._expected[resource_id] = (what, self._clock())

    def webhook_seen(self, resource_id: str) -> None:
        with self._lock:
            self._expected.pop(resource_id, None)

    # -- the periodic sweep ---------------------------------------------------------------------------------

    def sweep(
        self, confirm: Callable[[str, str], str | None], received: Callable[[str], str | None] | None = None
    ) -> None:
        """Raise ``stuck_order`` and ``webhook_failure`` for what is overdue now.

        :param confirm: ``(investor_id, order_id) -> current status`` (None: could not tell); called once per
            overdue order, outside the lock, so an order that finished quietly is not reported.
        :param received: ``resource_id -> status`` from the webhooks the receiver applied (None: none arrived),
            consulted for expectations not already met through ``webhook_seen``.
        """
        now = self._clock()
        with self._lock:
            due = [o for o in self._orders.values() if self._overdue(o, now)]
            late = [(rid, what, since) for rid, (what, since) in self._expected.items()
                    if now - since > self.policy.webhook_grace_s]  # fmt: skip
            for rid, what, since in late:
                del self._expected[rid]
                if received is not None and received(rid) is not None:
                    continue
                self._fire("webhook_failure", f"no webhook about {what} {rid} within {now - since:.1f} s of "
                           "creating it: deliveries to the receiver are failing or not arriving",
                           resource_id=rid, resource=what, waited_s=round(now - since, 3))  # fmt: skip
        for order in due:
            try:
                status = confirm(order.investor_id, order.order_id)
            except Exception:  # an unreadable order is still stuck as far as we know
                logger.warning("could not re-read order %s before alerting", order.order_id, exc_info=True)
                status = None
            if status is not None:
                self.order_seen(order.order_id, status)
            with self._lock:
                current = self._orders.get(order.order_id)
                if current is None or not self._overdue(current, now):
                    continue
                del self._orders[order.order_id]  # one alert per order
                age = now - current.placed_at
                self._fire("stuck_order", f"order {current.order_id} ({current.order_type}) is still "
                           f"{current.status} {age:.1f} s after it was placed",
                           order_id=current.order_id, investor_id=current.investor_id, status=current.status,
                           order_type=current.order_type, age_s=round(age, 3))  # fmt: skip
