"""Checks of the ``webhooks`` item: HTTPS with a valid certificate, signatures verified before processing,
fast acknowledgement, and duplicate and out-of-order deliveries handled idempotently.

The suite plays Bluum: in twin mode it registers the integration's ``webhook_url`` with the twin (all event
types), hands the returned secret to the integration through ``IntegrationEnv.webhook_secret``, and sends
deliveries itself with ``WebhookSender`` (the configured signing scheme). Effects are read through the
optional ``processed_events()``; without it, the signature checks judge status codes only and say so.
"""

from __future__ import annotations

import math
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bluum_readiness.checks._support import investor_events, step, twin_deliveries
from bluum_readiness.checks.judge import failure
from bluum_readiness.checks.registry import check
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.harness import guarded, poll
from bluum_readiness.webhooks.sender import Attempt, Delivery, WebhookSender
from bluum_readiness.webhooks.signing import scheme
from bluum_readiness.webhooks.vectors import Case, replay_case, signature_cases, timestamp_cases

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

ITEM = "webhooks"
NEEDS = ("webhook_url",)
CERT_MIN_DAYS = 14
VERIFY_FIX = (
    "verify the signature over the raw body bytes with a constant-time compare and a timestamp tolerance "
    "before doing anything with the event (the Standard Webhooks library of your language does it: "
    "Webhook(secret).verify(body, headers) in Python, Node, Go and Java)"
)


def _ack_wait_s(threshold_s: float) -> float:
    """How long the suite waits for one acknowledgement: twice the latency threshold, and at least a second more
    than it (Bluum itself gives up after 30 s). Anything slower is judged slow however it ends."""
    return max(2 * threshold_s, threshold_s + 1.0)


class SlowAcknowledgement(NotVerifiable):
    """A delivery was answered more slowly than the latency threshold. ``webhooks.fast-ack`` judges that (once);
    every other check stops at the first slow answer instead of waiting out each of its deliveries, and is not
    verifiable with this reason."""

    def __init__(self, attempt: Attempt, threshold_s: float, why: str | None = None) -> None:
        self.attempt = attempt
        answer = f"answered {attempt.status}" if attempt.status is not None else f"gave no answer: {attempt.error}"
        super().__init__(
            f"the receiver took {attempt.latency_ms / 1000:.2f} s for delivery '{attempt.label}' ({answer}), "
            f"{why or f'over the {threshold_s:g} s acknowledgement threshold'}, so the check stopped there: a slow "
            "acknowledgement is judged once, by webhooks.fast-ack"
        )


@dataclass
class _Rig:
    """The receiver under test, a sender signed with its secret, and its effects (if observable).

    Send through ``send`` / ``send_concurrently``: they raise ``SlowAcknowledgement`` after the first answer
    slower than ``threshold_s``, which bounds every check's time to about one slow delivery."""

    h: Harness
    integration: Any
    url: str
    sender: WebhookSender
    processed: Callable[[], list[str]] | None
    own: bool  # the endpoint is the adapter's own receiver, so its state (effects, statuses) is observable
    threshold_s: float

    def send(self, delivery: Delivery) -> Attempt:
        return self._bounded([self.sender.send(delivery)])[0]

    def send_concurrently(self, deliveries: Sequence[Delivery]) -> list[Attempt]:
        return self._bounded(self.sender.send_concurrently(deliveries))

    def _bounded(self, attempts: list[Attempt]) -> list[Attempt]:
        slow = next((a for a in attempts if a.latency_ms / 1000 >= self.threshold_s), None)
        if slow is not None:
            self.record()
            raise SlowAcknowledgement(slow, self.threshold_s)
        return attempts

    def effects(self) -> list[str] | None:
        """``processed_events()`` once everything sent so far was processed (a valid barrier event is sent and
        awaited), or None when the integration does not expose it."""
        if self.processed is None:
            self.h.evidence["effects"] = "status-only: the integration does not expose processed_events()"
            return None
        self.h.evidence["effects"] = "processed_events()"
        processed = self.processed
        barrier = self.sender.delivery(label="barrier", data={"id": "ord_BARRIER", "status": "filled"})
        if self.send(barrier).accepted:
            poll(lambda: barrier.event_id in processed(), bool, 5.0, interval=0.01)
        else:
            time.sleep(0.2)
        return list(processed())

    def record(self) -> None:
        self.h.evidence["deliveries"] = [a.to_dict() for a in self.sender.attempts]


def _rig(h: Harness) -> _Rig:
    integration = h.integration()
    configured = h.config.webhooks
    own_url = getattr(integration, "webhook_url", None)
    if configured.external:  # the team's endpoint elsewhere, its secret from config ([webhooks])
        url: Any = configured.url
        h.evidence["webhook"] = {"url": url, "source": "config [webhooks]"}
    else:
        url = h.capability(integration, "webhook_url")
    if not isinstance(url, str) or not url:
        raise NotVerifiable("the integration exposes no webhook_url (an optional capability of the adapter)")
    if not h.webhook_secret.known:
        if not h.target.twin:
            raise NotVerifiable("the webhook's signing secret is unknown: name its source in config ([webhooks])")
        h.register_webhook(url)
    threshold = h.thresholds.webhook_latency_threshold_s
    sender = WebhookSender(
        url,
        h.webhook_secret.get,
        scheme(h.thresholds.webhook_scheme),
        ca_file=_ca_file(h),
        timeout_s=_ack_wait_s(threshold),
    )
    h.on_close(sender.close)
    own = url == own_url  # effects are observable only on the adapter's own receiver
    processed = getattr(integration, "processed_events", None) if own else None
    processed = guarded("processed_events", processed) if callable(processed) else None
    return _Rig(h, integration, url, sender, processed if callable(processed) else None, own, threshold)


def _ca_file(h: Harness) -> str | None:
    """The CA to trust for the endpoint: ``[webhooks] ca_file``, else the suite's local CA in twin mode (a
    locally served receiver), else None (the system trust store)."""
    if h.config.webhooks.ca_file:
        return h.config.webhooks.ca_file
    if h.config.webhooks.external:
        return None
    tls = h.webhook_tls
    return tls.ca_file if tls else None


def _fail(expected: str, observed: str, fix: str, rig: _Rig | None = None, **evidence: Any) -> ConformanceFailure:
    if rig is not None:
        rig.record()
        evidence = {"deliveries": [a.to_dict() for a in rig.sender.attempts], **evidence}
    return failure(expected=expected, observed=observed, fix=fix, evidence=evidence)


def _ids(case: Case) -> set[str]:
    return {case.delivery.event_id, case.delivery.headers.get("webhook-id", case.delivery.event_id)}


def _judge(cases: Sequence[Case], attempts: Sequence[Attempt], effects: list[str] | None) -> list[str]:
    """What went wrong, one line per case: the status class and, when observable, the number of effects."""
    problems: list[str] = []
    for case, attempt in zip(cases, attempts, strict=True):
        answer = attempt.status if attempt.status is not None else attempt.error
        if case.expect == "accept" and not attempt.accepted:
            problems.append(f"{case.name}: answered {answer}, expected 2xx")
        if case.expect == "reject" and not attempt.rejected:
            problems.append(f"{case.name}: answered {answer}, expected 4xx")
        if effects is not None:
            count = sum(effects.count(i) for i in _ids(case))
            if case.expect == "accept" and count != 1:
                problems.append(f"{case.name}: took effect {count} times, expected once")
            if case.expect == "reject" and count:
                problems.append(f"{case.name}: was processed ({count} effect(s)) although it must be rejected")
    return problems


def _send_cases(rig: _Rig, cases: Sequence[Case]) -> list[str]:
    attempts = [rig.send(case.delivery) for case in cases]
    problems = _judge(cases, attempts, rig.effects())
    rig.record()
    return problems


# -- signatures ----------------------------------------------------------------------------------------------


@check(
    "webhooks.signature-verified",
    item=ITEM,
    needs=NEEDS,
    title="Signatures are verified before processing: bad ones get 4xx and have no effect",
)
def signature_verified(h: Harness) -> None:
    rig = _rig(h)
    problems = _send_cases(rig, signature_cases(rig.sender))
    if problems:
        raise _fail(
            "2xx for a valid signature; 4xx and no effect for a missing, malformed, wrong-secret, "
            "tampered-body or lifted signature",
            "; ".join(problems),
            VERIFY_FIX,
            rig,
        )


@check(
    "webhooks.timestamp-tolerance",
    item=ITEM,
    needs=NEEDS,
    title="Deliveries signed outside the timestamp tolerance (past or future) are rejected",
)
def timestamp_tolerance(h: Harness) -> None:
    rig = _rig(h)
    tolerance = h.thresholds.webhook_tolerance_s
    problems = _send_cases(rig, timestamp_cases(rig.sender, tolerance))
    if problems:
        raise _fail(
            f"4xx and no effect for deliveries signed more than {tolerance:g} s before or after now",
            "; ".join(problems),
            f"reject a signature timestamp over {tolerance:g} s from now, both ways",
            rig,
        )


@check(
    "webhooks.replay-rejected",
    item=ITEM,
    needs=NEEDS,
    title="A captured old delivery of an accepted event, re-sent, is rejected",
)
def replay_rejected(h: Harness) -> None:
    rig = _rig(h)
    original = Case("original", "a valid delivery", rig.sender.delivery(label="original"), "accept")
    replay = replay_case(rig.sender, original.delivery, h.thresholds.webhook_tolerance_s)
    first = rig.send(original.delivery)
    again = rig.send(replay.delivery)
    effects = rig.effects()
    problems = _judge([original, replay], [first, again], None)
    if effects is not None and effects.count(original.delivery.event_id) != 1:
        problems.append(f"the event took effect {effects.count(original.delivery.event_id)} times, expected once")
    rig.record()
    if problems:
        raise _fail(
            "4xx for a correctly signed but stale copy of an event already received (verify first, dedupe second)",
            "; ".join(problems),
            "verify signature and timestamp before looking up the event id; never answer 2xx to an "
            "unverified delivery, even for an event you already have",
            rig,
        )


# -- duplicates and order ------------------------------------------------------------------------------------


@check(
    "webhooks.duplicates-idempotent",
    item=ITEM,
    needs=NEEDS,
    title="The same event delivered 3 times in sequence and 5 times at once takes effect once",
)
def duplicates_idempotent(h: Harness) -> None:
    rig = _rig(h)
    if rig.processed is None:
        raise NotVerifiable(
            "counting effects needs processed_events() (an optional capability of the adapter)"
            if rig.own
            else f"counting effects needs processed_events() of the receiver at {rig.url}, and it is not the "
            "adapter's own webhook_url, so the suite cannot observe its effects"
        )
    sequential = rig.sender.delivery(label="sequential-duplicate")
    concurrent = rig.sender.delivery(label="concurrent-duplicate")
    attempts = [rig.send(sequential) for _ in range(3)]
    attempts += rig.send_concurrently([concurrent] * 5)
    effects = rig.effects() or []
    problems = [f"{a.label}: answered {a.status or a.error}, expected 2xx" for a in attempts if not a.accepted]
    for delivery, times in ((sequential, 3), (concurrent, 5)):
        count = effects.count(delivery.event_id)
        if count != 1:
            problems.append(f"{delivery.label} (sent {times} times): took effect {count} times, expected once")
    rig.record()
    if problems:
        raise _fail(
            "2xx for every copy and exactly one effect per event id",
            "; ".join(problems),
            "dedupe by event id atomically (a unique constraint or a lock around check-and-insert), "
            "and answer 2xx to duplicates",
            rig,
        )


@check(
    "webhooks.out-of-order",
    item=ITEM,
    needs=NEEDS,
    title="Out-of-order deliveries are accepted and do not regress state",
)
def out_of_order(h: Harness) -> None:
    rig = _rig(h)
    resource = "ord_" + rig.sender.delivery().event_id[4:]
    earlier = datetime.now(UTC) - timedelta(seconds=5)
    filled = rig.sender.delivery(
        "order.filled",
        {"id": resource, "status": "filled"},
        label="newer-first",
        event_at=earlier + timedelta(seconds=1),
    )
    accepted = rig.sender.delivery(
        "order.accepted", {"id": resource, "status": "accepted"}, label="older-second", event_at=earlier
    )
    cases = [
        Case("newer-first", "order.filled", filled, "accept"),
        Case("older-second", "order.accepted, older", accepted, "accept"),
    ]
    problems = _send_cases(rig, cases)
    status_of = getattr(rig.integration, "resource_status", None) if rig.own else None
    if callable(status_of):
        state = guarded("resource_status", status_of)(resource)
        h.evidence["state"] = {"resource": resource, "status": state}
        if state != "filled":
            problems.append(f"after order.filled then an older order.accepted, the order is {state!r}, not 'filled'")
    else:
        h.evidence["state"] = "not observable: no resource_status() on the adapter for this endpoint"
        if not problems:  # both acknowledged; whether the older one regressed the order could not be seen
            unseen = (
                "the adapter exposes no resource_status() (an optional capability: for a program, the resource_status "
                "request of the adapter protocol)"
                if rig.own
                else "the receiver runs elsewhere ([webhooks] url), where the suite cannot read its state"
            )
            raise NotVerifiable(
                f"both deliveries were acknowledged, but whether the older event regressed the order's state could "
                f"not be seen: {unseen}"
            )
    if problems:
        raise _fail(
            "both events acknowledged and applied; the newer state kept",
            "; ".join(problems),
            "order events by their timestamp (or re-fetch the resource) instead of applying the last one received",
            rig,
        )


# -- transport -----------------------------------------------------------------------------------------------


@check("webhooks.https-only", item=ITEM, needs=NEEDS, title="Every registered webhook URL is https")
def https_only(h: Harness) -> None:
    rig = _rig(h)
    listed = h.call("GET", "/webhooks", params={"limit": 200})
    urls = [str(w.get("url")) for w in listed.get("data", [])]
    h.evidence["registered_urls"] = urls
    plain = sorted({u for u in [*urls, rig.url] if urlsplit(u).scheme != "https"})
    if plain:
        raise _fail(
            "https:// for every webhook URL (production refuses anything else)",
            f"non-https webhook URLs: {', '.join(plain)}",
            "serve the receiver over HTTPS and register its https:// URL",
            registered_urls=urls,
        )


@check(
    "webhooks.tls-certificate",
    item=ITEM,
    needs=NEEDS,
    title="The endpoint completes a TLS 1.2+ handshake with a valid chain not expiring within 14 days",
)
def tls_certificate(h: Harness) -> None:
    rig = _rig(h)
    parts = urlsplit(rig.url)
    fix = "serve a certificate valid for the receiver's host name from a trusted CA, TLS 1.2 or newer, renewed early"
    expected = f"a verified TLS 1.2+ handshake for {parts.hostname}, certificate valid for {CERT_MIN_DAYS}+ days"
    if parts.scheme != "https":
        raise _fail(expected, f"{rig.url} is not served over TLS at all", fix)
    ca_file = _ca_file(h)
    context = ssl.create_default_context(cafile=ca_file)
    host, port = parts.hostname or "", parts.port or 443
    try:
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as conn,
        ):
            version, cert = conn.version(), conn.getpeercert() or {}
    except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
        raise _fail(expected, f"the handshake failed: {exc}", fix) from None
    not_after = ssl.cert_time_to_seconds(str(cert.get("notAfter"))) if cert.get("notAfter") else 0.0
    days_left = (not_after - time.time()) / 86400
    h.evidence["tls"] = {
        "version": version,
        "not_after": cert.get("notAfter"),
        "days_left": round(days_left, 1),
        "ca": ca_file or "the system trust store",
    }
    problems = []
    if version not in ("TLSv1.2", "TLSv1.3"):
        problems.append(f"negotiated {version}")
    if days_left < CERT_MIN_DAYS:
        problems.append(f"the certificate expires in {days_left:.1f} days")
    if problems:
        raise _fail(expected, "; ".join(problems), fix, tls=h.evidence["tls"])


# -- latency -------------------------------------------------------------------------------------------------

LATENCY_SAMPLES = 5


@check(
    "webhooks.fast-ack",
    item=ITEM,
    needs=NEEDS,
    title="Valid deliveries are acknowledged with 2xx quickly (p95 under the threshold)",
)
def fast_ack(h: Harness) -> None:
    rig = _rig(h)
    threshold = rig.threshold_s
    attempts: list[Attempt] = []
    for _ in range(LATENCY_SAMPLES):
        try:
            attempts.append(rig.send(rig.sender.delivery(label="latency")))
        except SlowAcknowledgement as slow:  # with at most 20 samples the p95 is the slowest: the verdict is in
            attempts.append(slow.attempt)
            break
    latencies = sorted(a.latency_ms / 1000 for a in attempts)
    p95 = latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)]
    h.evidence["latency"] = {"p95_s": round(p95, 3), "threshold_s": threshold, "samples_s": latencies}
    rig.record()
    refused = [a for a in attempts if not a.accepted]
    if refused or p95 >= threshold:
        observed = f"p95 {p95:.3f} s over {len(attempts)} deliveries"
        if len(attempts) < LATENCY_SAMPLES:
            observed = (
                f"p95 {p95:.3f} s over {len(attempts)} of {LATENCY_SAMPLES} deliveries (stopped at the "
                f"first one over {threshold:g} s)"
            )
        if refused:
            observed += f"; {len(refused)} not acknowledged with 2xx"
        raise _fail(
            f"2xx with a p95 under {threshold:g} s",
            observed,
            "acknowledge as soon as the event is verified and stored; process it asynchronously",
            rig,
            latency=h.evidence["latency"],
        )


# -- end to end: the twin delivers -------------------------------------------------------------------------


class _FlakyRelay:
    """An HTTPS relay (the suite's local CA) in front of the receiver that fails the first two attempts of each
    event id in the two ways a redelivery follows in production:

    1. *lost delivery*: answers 500 without forwarding (the receiver never saw it; the redelivery must be
       processed);
    2. *lost acknowledgement*: forwards byte-for-byte (body and ``webhook-*`` headers), then answers 500
       whatever the receiver said (the receiver did process it; the redelivery must not be processed again).

    Later attempts are forwarded and the receiver's answer passed back. Each redelivery carries a new timestamp
    and so a new signature, as Bluum's minutes-apart retries do (the twin signs every attempt of a delivery in a
    later second than the one before), so a receiver that dedupes on the signature instead of the event id
    processes it again."""

    LOST_DELIVERY, LOST_ACK = 1, 2

    def __init__(self, target: str, ca_file: str | None) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        from bluum_readiness._serving import BackgroundServer
        from bluum_readiness.webhooks.tls import shared_local_tls

        self.attempts: dict[str, int] = {}
        self.forwarded: list[tuple[str, int | None]] = []
        self._target = target
        self._verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True

        async def relay(request: Request) -> Response:
            event_id = request.headers.get("webhook-id", "")
            body = await request.body()
            attempt = self.attempts[event_id] = self.attempts.get(event_id, 0) + 1
            if attempt == self.LOST_DELIVERY:
                return Response('{"error": "relay: lost delivery"}', status_code=500, media_type="application/json")
            headers = {k: v for k, v in request.headers.items() if k.startswith("webhook-") or k == "content-type"}
            async with httpx.AsyncClient(verify=self._verify, timeout=5.0, trust_env=False) as client:
                try:
                    answer = await client.post(self._target, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    self.forwarded.append((event_id, None))
                    return Response(f"relay: {type(exc).__name__}", status_code=502)
            self.forwarded.append((event_id, answer.status_code))
            if attempt == self.LOST_ACK:
                return Response(
                    '{"error": "relay: lost acknowledgement"}', status_code=500, media_type="application/json"
                )
            return Response(
                answer.content, status_code=answer.status_code, media_type=answer.headers.get("content-type")
            )

        tls = shared_local_tls()  # a certificate for 127.0.0.1 from the CA the twin trusts
        app = Starlette(routes=[Route("/", relay, methods=["POST"])])
        self.server = BackgroundServer(app, ssl_certfile=tls.cert_file, ssl_keyfile=tls.key_file).start()
        self.url = self.server.url + "/"

    def stop(self) -> None:
        self.server.stop()


def _slow_attempt(by_event: dict[str, dict[str, Any]], threshold_s: float) -> Attempt | None:
    """The first of the twin's delivery attempts answered more slowly than ``threshold_s``, or not at all within
    the twin's own delivery timeout (which may be shorter), if any."""
    for delivery in by_event.values():
        for a in delivery.get("attempts", []):
            timed_out = str(a.get("error") or "").startswith("timeout")
            if timed_out or (a.get("latency_ms") or 0) / 1000 >= threshold_s:
                return Attempt(
                    f"{delivery.get('event_type', 'event')}, delivered by the twin",
                    delivery["event_id"],
                    a.get("status_code"),
                    float(a.get("latency_ms") or 0),
                    a.get("error"),
                )
    return None


BARRIER_WAIT_S = 1.0


def _barrier(h: Harness, url: str, processed: Callable[[], list[str]]) -> Callable[[], bool]:
    """A barrier for ``_settled``: one valid event sent by the suite straight to the receiver at ``url`` (signed with
    the webhook's secret); True once it took effect — the receiver applies events in the order it acknowledged
    them (as ``_Rig.effects`` relies on too), so every delivery acknowledged before it was applied, a late duplicate
    effect included. False when the receiver does not acknowledge it or does not apply it within
    ``BARRIER_WAIT_S``."""
    sender = WebhookSender(
        url,
        h.webhook_secret.get,
        scheme(h.thresholds.webhook_scheme),
        ca_file=_ca_file(h),
        timeout_s=_ack_wait_s(h.thresholds.webhook_latency_threshold_s),
    )
    h.on_close(sender.close)

    def wait() -> bool:
        barrier = sender.delivery(label="barrier", data={"id": "ord_BARRIER", "status": "filled"})
        if not sender.send(barrier).accepted:
            return False
        return bool(poll(lambda: barrier.event_id in processed(), bool, BARRIER_WAIT_S, interval=0.01))

    return wait


def _settled(
    h: Harness,
    webhook_id: str,
    event_ids: set[str],
    processed: Callable[[], list[str]],
    timeout: float,
    slow_s: float | None = None,
    barrier: Callable[[], bool] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Wait (bounded) until every event's delivery is no longer pending and each was processed; returns the
    deliveries by event id and ``processed_events()`` as last read. With ``slow_s``, stop at the first attempt
    answered more slowly than that (``SlowAcknowledgement``). A late duplicate effect is waited for with
    ``barrier`` (``_barrier``), or 0.1 s when there is none or it fails."""

    def read() -> tuple[dict[str, dict[str, Any]], list[str]]:
        by_event = {d["event_id"]: d for d in twin_deliveries(h, webhook_id) if d["event_id"] in event_ids}
        return by_event, list(processed())

    def complete(state: tuple[dict[str, dict[str, Any]], list[str]]) -> bool:
        by_event, applied = state
        if slow_s is not None and _slow_attempt(by_event, slow_s) is not None:
            return True
        done = [d for d in by_event.values() if d["status"] != "pending"]
        return len(done) == len(event_ids) and all(e in applied for e in event_ids)

    by_event, _ = poll(read, complete, timeout, interval=h.poll_interval * 2)
    if slow_s is not None and (slow := _slow_attempt(by_event, slow_s)) is not None:
        h.evidence["deliveries"] = list(by_event.values())
        late = slow.latency_ms / 1000 >= slow_s
        raise SlowAcknowledgement(slow, slow_s, None if late else "no answer within the twin's delivery timeout")
    if barrier is None or not barrier():
        time.sleep(0.1)  # let a late duplicate effect show up
    return by_event, list(processed())


def _problems(
    event_ids: Sequence[str], by_event: dict[str, dict[str, Any]], applied: list[str], names: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    for event_id in event_ids:
        label = f"{names.get(event_id, 'event')} ({event_id})"
        delivery = by_event.get(event_id)
        if delivery is None:
            problems.append(f"{label}: the twin made no delivery")
        elif delivery["status"] != "delivered":
            codes = [a["status_code"] or a["error"] for a in delivery.get("attempts", [])]
            problems.append(f"{label}: not acknowledged with 2xx ({delivery['status']}; attempts: {codes})")
        count = applied.count(event_id)
        if count != 1:
            problems.append(f"{label}: processed {count} times, expected once")
    return problems


@check(
    "webhooks.end-to-end",
    item=ITEM,
    needs=("webhook_url", "processed_events"),
    twin_only=True,
    title="Twin-delivered events take effect once, also redelivered after a lost delivery or ack",
)
def end_to_end(h: Harness) -> None:
    from bluum_readiness.testing import investor_profile, plaid_bank

    integration = h.integration()
    url = h.capability(integration, "webhook_url")
    processed = h.capability(integration, "processed_events")
    if not isinstance(url, str) or not url or not callable(processed):
        raise NotVerifiable("the integration exposes no webhook_url and processed_events() (optional capabilities)")
    if h.webhook_secret.known:
        raise NotVerifiable(
            "the receiver's secret is configured, so the twin (which issues its own) cannot sign for it"
        )
    hook_id = h.register_webhook(url)
    problems: list[str] = (
        [] if urlsplit(url).scheme == "https" else [f"{url} is not https: Bluum delivers to https only"]
    )
    timeout = h.thresholds.settle_timeout_s

    # 1. a short lifecycle through the integration; the twin delivers every event about the investor
    purpose = "the journey whose webhooks this check judges could not run"
    investor = step(h, "create_investor", lambda: integration.create_investor(investor_profile()), purpose=purpose)

    def active() -> Any:
        return h.wait_for(f"investor {investor} to become active", lambda: integration.kyc_status(investor) == "active")

    step(h, "kyc_status", active, purpose=purpose)
    bank = step(h, "link_bank_account", lambda: integration.link_bank_account(investor, plaid_bank()), purpose=purpose)
    deposit = step(h, "deposit", lambda: integration.deposit(investor, bank, "500.00"), purpose=purpose)
    h.wait_for(
        f"deposit {deposit} to complete",
        lambda: h.call("GET", f"/investors/{investor}/deposits/{deposit}")["status"] == "completed",
    )
    events = investor_events(h, investor)
    names = {e["id"]: e["event"] for e in events}
    ids = [e["id"] for e in events]
    # straight to the receiver: a slow acknowledgement stops here (the relay below adds delays of its own)
    barrier = _barrier(h, url, processed)
    by_event, applied = _settled(
        h, hook_id, set(ids), processed, timeout, h.thresholds.webhook_latency_threshold_s, barrier
    )
    h.evidence["lifecycle"] = {
        "investor": investor,
        "events": [{"id": e["id"], "event": e["event"]} for e in events],
        "deliveries": list(by_event.values()),
    }
    if not events:
        problems.append("the lifecycle emitted no event")
    problems += _problems(ids, by_event, applied, names)

    # 2. redelivery: a relay in front of the receiver loses the first attempt of each new event, and the
    #    acknowledgement of the second (both answer 500): the third must be acknowledged, one effect in all
    tls = h.webhook_tls
    relay = _FlakyRelay(url, tls.ca_file if tls else None)
    h.on_close(relay.stop)
    h.call("PATCH", f"/webhooks/{hook_id}", json={"url": relay.url})  # the same webhook: the same secret
    again = step(h, "deposit", lambda: integration.deposit(investor, bank, "25.00"), purpose=purpose)
    h.wait_for(
        f"deposit {again} to complete",
        lambda: h.call("GET", f"/investors/{investor}/deposits/{again}")["status"] == "completed",
    )
    fresh = [e for e in investor_events(h, investor) if e["id"] not in names]
    names.update({e["id"]: e["event"] for e in fresh})
    fresh_ids = [e["id"] for e in fresh]
    by_event, applied = _settled(h, hook_id, set(fresh_ids), processed, timeout, barrier=barrier)
    h.evidence["redelivery"] = {
        "relay": relay.url,
        "events": [{"id": e["id"], "event": e["event"]} for e in fresh],
        "deliveries": list(by_event.values()),
        "forwarded": relay.forwarded,
    }
    if not fresh:
        problems.append("the second deposit emitted no event")
    problems += _problems(fresh_ids, by_event, applied, names)
    not_retried = [
        names[i] for i in fresh_ids if i in by_event and by_event[i]["attempt_count"] < _FlakyRelay.LOST_ACK + 1
    ]
    if not_retried:
        problems.append(f"not redelivered after a lost delivery and a lost acknowledgement: {', '.join(not_retried)}")
    if problems:
        raise _fail(
            "every event the twin delivered for the journey acknowledged with 2xx and processed exactly "
            "once, also when an attempt was lost (500, never reached the receiver) or its acknowledgement "
            "was lost (processed, but the twin saw 500) and the twin redelivered",
            "; ".join(problems),
            "serve the receiver over https, answer 2xx once the event is verified and stored, and apply "
            "each event id once: dedupe on the event id (webhook-id), which stays the same across "
            "redeliveries, not on the signature or timestamp, which change with every attempt",
            lifecycle=h.evidence["lifecycle"],
            redelivery=h.evidence.get("redelivery"),
        )
