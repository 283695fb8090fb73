"""Webhook delivery: send due deliveries, record every attempt, retry on the schedule, then park.

``events.emit`` queues one ``deliveries`` row per subscribed webhook. ``dispatch_due``
(called every background tick and by ``POST /_sandbox/tick``) picks the rows that are
``pending`` and due, POSTs the event's exact body bytes with Standard Webhooks
signature headers (see ``signing``), and records the outcome:

- 2xx → ``delivered``;
- anything else (non-2xx, timeout, connection error) → ``attempts + 1`` and the next
  attempt ``webhook_retry_schedule_s[attempts - 1]`` seconds later; once the schedule
  is exhausted the delivery is ``parked`` (replay it with ``POST /_sandbox/webhook-deliveries/{id}/retry``);
- ◆ the webhook was deleted or is inactive → ``parked`` at once, without an attempt.

◆ Every attempt of a delivery is signed in a later whole second than the attempt before it
(``webhook-timestamp`` = max(now, previous + 1)). Bluum's retries come minutes apart, so each one's timestamp, and so
its signature, differs; the fast twin retries within a second and would otherwise send a redelivery byte-for-byte
identical to the attempt before, hiding a receiver that dedupes on the signature instead of the event id. The
previous second is kept in memory: after a restart the clock has long moved on.

Deliveries live in SQLite, so pending ones resume after a restart (a crash mid-send
means the event is sent again: receivers must expect duplicates, as with Bluum).
No transaction is held across an ``await``: rows are read, the requests sent, and each
outcome written in its own short transaction. A delivery is never sent twice at once:
an in-memory in-flight set per twin guards against overlapping ticks.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from bluum_readiness._client_tls import ca_file_context, default_tls_context
from bluum_readiness._version import __version__
from bluum_readiness.twin.signing import signature_headers

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["MAX_CONCURRENCY", "MAX_BATCH", "dispatch_due"]

log = logging.getLogger("bluum_readiness.twin")

MAX_CONCURRENCY = 16
"""Deliveries sent at the same time by one ``dispatch_due`` call."""
MAX_BATCH = 500
"""Deliveries picked up by one ``dispatch_due`` call (the rest wait for the next tick)."""

_in_flight: weakref.WeakKeyDictionary[Twin, set[str]] = weakref.WeakKeyDictionary()
_in_flight_lock = threading.Lock()  # ticks may run on different threads' event loops (server, sandbox tick, tests)
_signed: weakref.WeakKeyDictionary[Twin, dict[str, int]] = weakref.WeakKeyDictionary()  # delivery → its last second


@dataclass(frozen=True)
class _Due:
    id: str
    tenant_id: str
    event_id: str
    webhook_id: str
    attempts: int
    body: str


@dataclass(frozen=True)
class _Outcome:
    at: float
    url: str
    status_code: int | None
    error: str | None
    latency_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(twin: Twin, ids: list[str]) -> set[str]:
    with _in_flight_lock:
        busy = _in_flight.setdefault(twin, set())
        claimed = {i for i in ids if i not in busy}
        busy.update(claimed)
        return claimed


def _release(twin: Twin, delivery_id: str) -> None:
    with _in_flight_lock:
        _in_flight.get(twin, set()).discard(delivery_id)


def _signing_second(twin: Twin, delivery_id: str, now: float) -> int:
    """The whole second to sign an attempt of ``delivery_id`` in: now, or one after its previous attempt's."""
    with _in_flight_lock:
        seconds = _signed.setdefault(twin, {})
        second = max(int(now), seconds.get(delivery_id, -1) + 1)
        seconds[delivery_id] = second
        return second


def _forget_signing(twin: Twin, delivery_id: str) -> None:
    with _in_flight_lock:
        _signed.get(twin, {}).pop(delivery_id, None)


def _verify(settings_ca_file: str | None) -> ssl.SSLContext:
    """The TLS context deliveries verify receivers with: the public CAs, or ``webhook_ca_file``'s. Made once per
    process and CA file (as it is on disk, ``ca_file_context``): building one costs ~18 ms of CPU, and a busy twin
    sends a batch every tick. ``ssl.SSLContext`` is safe to share."""
    if settings_ca_file is None:
        return default_tls_context()
    return ca_file_context(settings_ca_file)


async def dispatch_due(
    twin: Twin, *, transport: httpx.AsyncBaseTransport | None = None, tenant_id: str | None = None
) -> int:
    """Send every due delivery once; returns the number of attempts made.

    :param transport: an httpx transport to send through instead of the network (tests).
    :param tenant_id: send only this tenant's deliveries (``POST /_sandbox/tick``); None: every tenant's.
    """
    only_tenant = "" if tenant_id is None else "AND d.tenant_id = ? "
    rows = twin.db.all(
        "SELECT d.id, d.tenant_id, d.event_id, d.webhook_id, d.attempts, e.body FROM deliveries d "
        "JOIN events e ON e.id = d.event_id "
        f"WHERE d.status = 'pending' AND d.next_attempt_at <= ? {only_tenant}"
        "ORDER BY d.next_attempt_at, d.created LIMIT ?",
        (twin.clock.now(), MAX_BATCH) if tenant_id is None else (twin.clock.now(), tenant_id, MAX_BATCH),
    )
    if not rows:
        return 0
    claimed = _claim(twin, [r["id"] for r in rows])
    due = [_Due(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows if r["id"] in claimed]
    sendable: list[tuple[_Due, str, str]] = []
    try:
        for delivery in due:
            hook = twin.store.get(delivery.tenant_id, "webhook", delivery.webhook_id)
            if hook is None or hook.get("status") != "active":
                _park_unsendable(twin, delivery, "deleted" if hook is None else "inactive")
                _release(twin, delivery.id)
            else:
                sendable.append((delivery, str(hook["url"]), str(hook["_secret"])))
    except BaseException:
        for delivery in due:
            _release(twin, delivery.id)
        raise
    if not sendable:
        return 0

    limit = asyncio.Semaphore(MAX_CONCURRENCY)
    settings = twin.settings

    async def send_one(client: httpx.AsyncClient, delivery: _Due, url: str, secret: str) -> None:
        try:
            async with limit:
                outcome = await _send(twin, client, delivery, url, secret)
            _record(twin, delivery, outcome)
        except Exception:  # a bug must not lose the other deliveries; this one stays pending
            log.exception("webhook delivery %s failed unexpectedly", delivery.id)
        finally:
            _release(twin, delivery.id)

    try:
        async with httpx.AsyncClient(
            timeout=settings.webhook_timeout_s,
            verify=_verify(settings.webhook_ca_file),
            transport=transport,
            trust_env=False,  # ◆ deliver straight to the receiver, never through an environment proxy
            follow_redirects=False,
        ) as client:
            await asyncio.gather(*(send_one(client, d, url, secret) for d, url, secret in sendable))
    finally:
        for delivery, _, _ in sendable:
            _release(twin, delivery.id)
    return len(sendable)


async def _send(twin: Twin, client: httpx.AsyncClient, delivery: _Due, url: str, secret: str) -> _Outcome:
    at = twin.clock.now()
    headers = {
        "content-type": "application/json",
        "user-agent": f"bluum-readiness-twin/{__version__}",
        **signature_headers(secret, delivery.event_id, _signing_second(twin, delivery.id, at), delivery.body),
    }
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        response = await client.post(url, content=delivery.body.encode("utf-8"), headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except httpx.TimeoutException as exc:
        error = f"timeout after {twin.settings.webhook_timeout_s:g} s ({type(exc).__name__})"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL: a URL stored before validate_url refused it
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except ssl.SSLError as exc:  # pragma: no cover - httpx normally wraps these
        error = f"SSLError: {exc}"
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return _Outcome(at=at, url=url, status_code=status_code, error=error, latency_ms=latency_ms)


def _record(twin: Twin, delivery: _Due, outcome: _Outcome) -> None:
    """Write one attempt and the delivery's new state (a short transaction of its own)."""
    attempts = delivery.attempts + 1
    schedule = twin.settings.webhook_retry_schedule_s
    if outcome.ok:
        status, next_at = "delivered", None
    elif attempts <= len(schedule):
        status, next_at = "pending", twin.clock.now() + schedule[attempts - 1]
    else:
        status, next_at = "parked", None
    with twin.db.tx():
        cur = twin.db.execute(
            "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ? "
            "WHERE id = ? AND status = 'pending' AND attempts = ?",
            (status, attempts, next_at, delivery.id, delivery.attempts),
        )
        if cur.rowcount != 1:  # reset or changed meanwhile: leave no orphan attempt
            return
        twin.db.execute(
            "INSERT INTO delivery_attempts (delivery_id, tenant_id, attempt, at, url, status_code, error, latency_ms) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (
                delivery.id,
                delivery.tenant_id,
                attempts,
                outcome.at,
                outcome.url,
                outcome.status_code,
                outcome.error,
                outcome.latency_ms,
            ),
        )
    if status != "pending":
        _forget_signing(twin, delivery.id)
    if status == "parked":
        log.warning("webhook delivery %s of %s parked after %d attempts", delivery.id, delivery.event_id, attempts)


def _park_unsendable(twin: Twin, delivery: _Due, why: str) -> None:
    with twin.db.tx():
        twin.db.execute(
            "UPDATE deliveries SET status = 'parked', next_attempt_at = NULL WHERE id = ? AND status = 'pending'",
            (delivery.id,),
        )
    log.info("webhook delivery %s parked: webhook %s is %s", delivery.id, delivery.webhook_id, why)
