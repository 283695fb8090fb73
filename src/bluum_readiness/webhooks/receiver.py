"""``ReferenceReceiver``: the reference integration's webhook endpoint, done the way Bluum asks.

- served over HTTPS (``LocalTLS`` in twin mode) by uvicorn in a background thread;
- verifies the signature over the raw body bytes (constant time, timestamp tolerance) **before** anything else;
  a bad one gets 400 and has no effect;
- rejects replays: a stale timestamp fails verification, and a fresh re-send of a known event is a duplicate;
- acknowledges fast (200 as soon as the event is queued) and processes on a background worker;
- dedupes by event id under a lock, so concurrent duplicates take effect once;
- tolerates out-of-order events: a resource's status only moves to an event at least as recent as the last
  one applied (``resource_status``).

Subclass hooks (``verify``, ``accept``, ``apply``) are what the project's known-bad receivers override.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bluum_readiness._serving import BackgroundServer
from bluum_readiness.integration import LocalTLS
from bluum_readiness.webhooks.signing import (
    DEFAULT_SCHEME,
    DEFAULT_TOLERANCE_S,
    SignatureError,
    SigningScheme,
    scheme,
    utc_now,
)

__all__ = ["PATH", "ReferenceReceiver"]

log = logging.getLogger("bluum_readiness.webhooks")

PATH = "/webhooks/bluum"


class ReferenceReceiver:
    """A verifying, deduplicating webhook receiver. ``start()`` serves it; ``url`` is then its address.

    :param secret: returns the webhook's signing secret (read per delivery: it may be set or rotated later).
    :param tls: certificate and key to serve HTTPS with; None serves plain HTTP (tests of the checks only).
    :param scheme: the signing scheme's name (see ``bluum_readiness.webhooks.signing.SCHEMES``).
    """

    def __init__(
        self,
        secret: Callable[[], str],
        *,
        tls: LocalTLS | None,
        scheme: str = DEFAULT_SCHEME,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        now: Callable[[], datetime] = utc_now,
        host: str = "127.0.0.1",
    ) -> None:
        self._secret = secret
        self.tls = tls
        self.scheme: SigningScheme = _scheme(scheme)
        self.tolerance_s = tolerance_s
        self.now = now
        self.host = host
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self._processed: list[str] = []
        self._status: dict[str, tuple[str, str]] = {}  # resource id -> (event timestamp, status)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._server: BackgroundServer | None = None
        self.app = Starlette(routes=[Route(PATH, self.receive, methods=["POST"])])

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> ReferenceReceiver:
        if self._server is None:
            self._worker = threading.Thread(target=self._work, name="webhook-worker", daemon=True)
            self._worker.start()
            self._server = BackgroundServer(
                self.app,
                host=self.host,
                ssl_certfile=self.tls.cert_file if self.tls else None,
                ssl_keyfile=self.tls.key_file if self.tls else None,
            ).start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not started; call start() first")
        return self._server.url + PATH

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
            self._worker = None

    # -- what the integration exposes -----------------------------------------------------------------------

    def processed_events(self) -> list[str]:
        """Event ids whose effects were applied, one entry per application."""
        with self.lock:
            return list(self._processed)

    def resource_status(self, resource_id: str) -> str | None:
        """The status the receiver holds for a resource (from the most recent event applied)."""
        with self.lock:
            entry = self._status.get(resource_id)
        return entry[1] if entry else None

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until every queued event was applied (tests)."""
        done = threading.Event()
        self._queue.put({"__barrier__": done})
        done.wait(timeout)

    # -- the endpoint ---------------------------------------------------------------------------------------

    async def receive(self, request: Request) -> Response:
        body = await request.body()  # the raw bytes: verified exactly as received
        try:
            event = self.verify(request.headers, body)
        except SignatureError as exc:
            return JSONResponse({"error": "invalid_signature", "reason": exc.reason}, status_code=400)
        except _NoSecret:
            return JSONResponse({"error": "not_configured"}, status_code=503)
        return await self.accept(event)

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """Verify the signature, then parse; returns the event, or raises ``SignatureError``."""
        try:
            secret = self._secret()
        except Exception:
            raise _NoSecret() from None
        self.scheme.verify(secret, headers, body, tolerance_s=self.tolerance_s, now=self.now)
        try:
            event = json.loads(body)
        except ValueError:
            raise SignatureError("malformed", "the signed body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise SignatureError("malformed", "the signed body has no event id")
        msg_id = headers.get("webhook-id")
        if msg_id is not None and msg_id != event["id"]:
            raise SignatureError("mismatch", "webhook-id differs from the event id")
        return event

    async def accept(self, event: dict[str, Any]) -> Response:
        """Dedupe by event id (atomically) and queue for processing; acknowledge at once."""
        with self.lock:
            duplicate = event["id"] in self.seen
            self.seen.add(event["id"])
        if not duplicate:
            self._queue.put(event)
        return JSONResponse({"received": True, "duplicate": duplicate})

    def apply(self, event: dict[str, Any]) -> None:
        """The event's effect: record it, and move the resource's status unless the event is older."""
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        assert isinstance(data, dict)
        resource, at = data.get("id"), str(event.get("timestamp", ""))
        status = str(data.get("status") or str(event.get("event", "")).rsplit(".", 1)[-1])
        with self.lock:
            self._processed.append(event["id"])
            if isinstance(resource, str):
                current = self._status.get(resource)
                if current is None or _instant(at) >= _instant(current[0]):
                    self._status[resource] = (at, status)

    def _work(self) -> None:
        while (event := self._queue.get()) is not None:
            barrier = event.get("__barrier__")
            if isinstance(barrier, threading.Event):
                barrier.set()
                continue
            try:
                self.apply(event)
            except Exception:  # one bad event must not stop the worker
                log.exception("processing webhook event %s failed", event.get("id"))


class _NoSecret(Exception):
    """The webhook secret is not known yet (the webhook is not registered)."""


def _instant(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _scheme(name: str) -> SigningScheme:
    return scheme(name)
