"""Known-bad webhook receivers (one defect each) and the checks that must flag them; plus correct ones.

Each adapter is the reference integration with its ``ReferenceReceiver`` swapped for a defective subclass.
Usable as ``--integration tests.integrations.webhook_variants:<name>``.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.reference import ReferenceIntegration, create_fast
from bluum_readiness.webhooks.receiver import ReferenceReceiver
from bluum_readiness.webhooks.signing import SignatureError


class NoSignatureCheck(ReferenceReceiver):
    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(body)
        return event


class NoTimestampCheck(ReferenceReceiver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tolerance_s = math.inf


class WideReplayWindow(ReferenceReceiver):
    """A tolerance twice as wide as meant (10 min instead of 5)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tolerance_s = 2 * self.tolerance_s


class RacyDedupe(ReferenceReceiver):
    """Check-then-insert with an await in between: concurrent duplicates all get through."""

    async def accept(self, event: dict[str, Any]) -> Response:
        if event["id"] in self.seen:
            return JSONResponse({"received": True, "duplicate": True})
        await asyncio.sleep(0.05)  # e.g. a database round trip
        self.seen.add(event["id"])
        self._queue.put(event)
        return JSONResponse({"received": True})


class SlowAck(ReferenceReceiver):
    """Processes before answering: 0.5 s per delivery."""

    async def accept(self, event: dict[str, Any]) -> Response:
        await asyncio.sleep(0.5)
        return await super().accept(event)


def slow_receiver(delay_s: float, slow: list[str]) -> Callable[[IntegrationEnv], Any]:
    """A receiver that processes before answering, ``delay_s`` per valid delivery; it appends the user agent of
    every delivery it was slow to answer to ``slow`` (the suite's sender is ``bluum-readiness/…``, the twin's
    ``bluum-readiness-twin/…``), so a test can count how many slow deliveries a check sent."""

    class Slow(ReferenceReceiver):
        async def receive(self, request: Request) -> Response:
            started = time.monotonic()
            response = await super().receive(request)
            if time.monotonic() - started >= 0.9 * delay_s:  # asyncio may wake a timer up to its clock resolution early
                slow.append(request.headers.get("user-agent", ""))
            return response

        async def accept(self, event: dict[str, Any]) -> Response:
            await asyncio.sleep(delay_s)
            return await super().accept(event)

    return _factory(Slow)


class AcceptsReplay(ReferenceReceiver):
    """Looks the event id up before verifying: any copy of a known event gets 200."""

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            if json.loads(body).get("id") in self.seen:
                return JSONResponse({"received": True, "duplicate": True})
        except ValueError:
            pass
        return await super().receive(request)


class ProcessesBeforeVerifying(ReferenceReceiver):
    """Applies the event, then verifies (and answers 400 for a bad signature — too late)."""

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            event = json.loads(body)
            with self.lock:
                fresh = event["id"] not in self.seen
                self.seen.add(event["id"])
            if fresh:
                self.apply(event)
        except (ValueError, KeyError, TypeError):
            pass
        try:
            self.verify(request.headers, body)
        except SignatureError as exc:
            return JSONResponse({"error": exc.reason}, status_code=400)
        return JSONResponse({"received": True})


class LastWriteWins(ReferenceReceiver):
    """Applies whatever arrives last: an older event regresses the state."""

    def apply(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        with self.lock:
            self._processed.append(event["id"])
            self._status[str(data.get("id"))] = (str(event.get("timestamp")), str(data.get("status")))


class NoDedupe(ReferenceReceiver):
    """Processes every verified delivery: a redelivery after a lost acknowledgement takes effect twice."""

    async def accept(self, event: dict[str, Any]) -> Response:
        self._queue.put(event)
        return JSONResponse({"received": True})


class DedupesOnTheSignature(ReferenceReceiver):
    """Dedupes on ``webhook-signature`` instead of the event id: identical copies of one delivery are caught, but
    a redelivery — re-signed with a later timestamp — is processed again."""

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            event = self.verify(request.headers, body)
        except SignatureError as exc:
            return JSONResponse({"error": exc.reason}, status_code=400)
        key = request.headers.get("webhook-signature", "")
        with self.lock:
            duplicate = key in self.seen
            self.seen.add(key)
        if not duplicate:
            self._queue.put(event)
        return JSONResponse({"received": True, "duplicate": duplicate})


class StandardWebhooksLibrary(ReferenceReceiver):
    """A correct receiver verifying with the ``standardwebhooks`` library instead of our own code."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        try:
            event: dict[str, Any] = Webhook(self._secret()).verify(body, dict(headers))
        except (WebhookVerificationError, ValueError, binascii.Error) as exc:
            raise SignatureError("mismatch", type(exc).__name__) from None
        if not isinstance(event, dict) or event.get("id") != headers.get("webhook-id"):
            raise SignatureError("mismatch", "webhook-id differs from the event id")
        return event


def _factory(receiver: type[ReferenceReceiver], *, tls: bool = True) -> Callable[[IntegrationEnv], Any]:
    def create(env: IntegrationEnv) -> ReferenceIntegration:
        integration = create_fast(env)
        if env.webhook_tls is not None and env.webhook_secret is not None:
            integration.receiver = receiver(env.webhook_secret, tls=env.webhook_tls if tls else None)
        return integration

    return create


standardwebhooks_library = _factory(StandardWebhooksLibrary)

# name -> (factory, the checks that must flag it: exactly these, no others)
KNOWN_BAD: dict[str, tuple[Callable[[IntegrationEnv], Any], set[str]]] = {
    "no_signature_check": (
        _factory(NoSignatureCheck),
        {"webhooks.signature-verified", "webhooks.timestamp-tolerance", "webhooks.replay-rejected"},
    ),
    "no_timestamp_check": (
        _factory(NoTimestampCheck),
        {"webhooks.timestamp-tolerance", "webhooks.replay-rejected"},
    ),
    "replay_window_twice_as_wide": (
        _factory(WideReplayWindow),
        {"webhooks.timestamp-tolerance", "webhooks.replay-rejected"},
    ),
    "racy_dedupe": (_factory(RacyDedupe), {"webhooks.duplicates-idempotent"}),
    "plain_http": (
        _factory(ReferenceReceiver, tls=False),
        {"webhooks.https-only", "webhooks.tls-certificate", "webhooks.end-to-end"},
    ),
    "accepts_replay": (_factory(AcceptsReplay), {"webhooks.replay-rejected"}),
    "processes_before_verifying": (
        _factory(ProcessesBeforeVerifying),
        {"webhooks.signature-verified", "webhooks.timestamp-tolerance"},
    ),
    "regresses_on_out_of_order": (_factory(LastWriteWins), {"webhooks.out-of-order"}),
    "no_dedupe": (_factory(NoDedupe), {"webhooks.duplicates-idempotent", "webhooks.end-to-end"}),
    "dedupes_on_the_signature": (_factory(DedupesOnTheSignature), {"webhooks.end-to-end"}),
}

# Slow receivers, judged against a tight latency threshold (the tests use 0.3 s): the other checks stop at their
# first slow answer and are not verifiable, so a threshold a loaded machine can reach would flake the known-bad
# receivers above, and a threshold it cannot reach would pass these.
KNOWN_BAD_SLOW: dict[str, tuple[Callable[[IntegrationEnv], Any], set[str]]] = {
    "slow_ack": (_factory(SlowAck), {"webhooks.fast-ack"}),
}

for _name, (_made, _) in {**KNOWN_BAD, **KNOWN_BAD_SLOW}.items():
    globals()[_name] = _made


def no_receiver(env: IntegrationEnv, **options: Any) -> Any:
    """The reference without a webhook receiver: a correct integration that consumes no Bluum webhooks (it declares
    ``[webhooks] used = false``)."""
    from dataclasses import replace

    from bluum_readiness.reference import create_fast

    return create_fast(replace(env, webhook_tls=None, webhook_secret=None), **options)
