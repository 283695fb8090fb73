"""``WebhookSender``: plays Bluum toward a receiver — builds deliveries, signs them, sends them, records attempts.

A ``Delivery`` is the exact body bytes and headers of one POST; builders (``with_headers``, ``with_body``,
``without``) derive broken variants from a valid one, one field at a time. Every ``send`` is recorded as an
``Attempt`` (label, event id, status, latency, error) — never the secret or the signature values.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bluum_readiness._client_tls import ca_file_context, default_tls_context
from bluum_readiness._version import __version__
from bluum_readiness.webhooks.signing import DEFAULT_SCHEME, SigningScheme, scheme, utc_now

__all__ = ["Attempt", "Delivery", "WebhookSender", "event_payload", "new_event_id"]

CONNECT_TRIES = 2  # a delivery whose connection could not be opened is tried once more (``WebhookSender.send``)


def new_event_id() -> str:
    """A fresh ``evt_`` id (26 Crockford base32 characters, as the twin makes them)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    n = uuid.uuid4().int
    return "evt_" + "".join(alphabet[(n >> (5 * i)) & 31] for i in range(26))


def event_payload(event_id: str, event: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """A Bluum webhook payload ``{"id", "event", "timestamp", "data"}``."""
    return {"id": event_id, "event": event, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}


@dataclass(frozen=True)
class Delivery:
    """One POST: ``body`` (the exact bytes) and ``headers``; ``label`` names the case in evidence."""

    event_id: str
    body: bytes
    headers: dict[str, str]
    signed_at: int
    label: str = "valid"

    def with_headers(self, label: str, **changes: str) -> Delivery:
        """The same delivery with headers replaced (``webhook_id="x"`` sets ``webhook-id``)."""
        headers = {**self.headers, **{k.replace("_", "-"): v for k, v in changes.items()}}
        return dataclasses.replace(self, headers=headers, label=label)

    def without(self, label: str, *names: str) -> Delivery:
        headers = {k: v for k, v in self.headers.items() if k not in names}
        return dataclasses.replace(self, headers=headers, label=label)

    def with_body(self, label: str, body: bytes) -> Delivery:
        return dataclasses.replace(self, body=body, label=label)


@dataclass(frozen=True)
class Attempt:
    """What one send got: ``status`` (None when no response) and latency in milliseconds."""

    label: str
    event_id: str
    status: int | None
    latency_ms: float
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def rejected(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class WebhookSender:
    """Signs with ``scheme`` and the secret from ``secret()``; sends to ``url`` trusting ``ca_file`` (or the
    system store). ``now`` is the clock used for timestamps (injectable)."""

    url: str
    secret: Callable[[], str] = field(repr=False)
    scheme: SigningScheme = field(default_factory=lambda: scheme(DEFAULT_SCHEME))
    ca_file: str | None = None
    timeout_s: float = 10.0
    now: Callable[[], datetime] = utc_now
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        verify = ca_file_context(self.ca_file) if self.ca_file else default_tls_context()
        self._client = httpx.Client(timeout=self.timeout_s, verify=verify, trust_env=False, follow_redirects=False)

    def delivery(
        self,
        event: str = "order.filled",
        data: dict[str, Any] | None = None,
        *,
        event_id: str | None = None,
        offset_s: float = 0.0,
        secret: str | None = None,
        event_at: datetime | None = None,
        label: str = "valid",
    ) -> Delivery:
        """A validly signed delivery of a fresh event, signed ``offset_s`` seconds from now (negative: past).
        ``secret`` overrides the configured one (the wrong-secret case); ``event_at`` sets the payload's
        ``timestamp`` (when the event happened; default now)."""
        at = self.now()
        event_id = event_id or new_event_id()
        data = data or {"id": "ord_" + new_event_id()[4:], "status": "filled"}
        payload = event_payload(event_id, event, event_at or at, data)
        body = json.dumps(payload, separators=(",", ":")).encode()
        signed_at = int(at.timestamp() + offset_s)
        signing = self.scheme.sign(secret if secret is not None else self.secret(), event_id, signed_at, body)
        headers = {"content-type": "application/json", "user-agent": f"bluum-readiness/{__version__}", **signing}
        return Delivery(event_id=event_id, body=body, headers=headers, signed_at=signed_at, label=label)

    def send(self, delivery: Delivery) -> Attempt:
        """Deliver once and record the answer. A connection that could not be opened (``ConnectError``: nothing was
        sent) is tried once more at once, as Bluum retries a delivery: a receiver's verdict never rests on one
        connection a loaded machine failed to open; a second failure is recorded."""
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        for _ in range(CONNECT_TRIES):
            try:
                status = self._client.post(self.url, content=delivery.body, headers=delivery.headers).status_code
            except httpx.ConnectError as exc:
                error = type(exc).__name__
                continue
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            else:
                error = None
            break
        latency = round((time.perf_counter() - started) * 1000, 3)
        attempt = Attempt(delivery.label, delivery.event_id, status, latency, error)
        with self._lock:
            self.attempts.append(attempt)
        return attempt

    def send_concurrently(self, deliveries: Sequence[Delivery]) -> list[Attempt]:
        """Send all at once (one thread each), released together; attempts in the order given."""
        barrier = threading.Barrier(len(deliveries))

        def go(d: Delivery) -> Attempt:
            barrier.wait(timeout=10)
            return self.send(d)

        with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
            return list(pool.map(go, deliveries))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
