"""Checks of the ``webhooks`` item: HTTPS with a valid certificate, signatures verified before processing,
fast acknowledgement, and duplicate and out-of-order deliveries handled idempotently.

The suite plays Bluum: in twin mode it registers the integration's ``webhook_url`` with the twin (all event
types), hands the returned secret to the integration through ``IntegrationEnv.webhook_secret``, and sends
deliveries itself with ``WebhookSender`` (the configured signing scheme). Effects are read through the
optional ``processed_events()``; without it, the signature checks judge status codes only and say so.

Three scenarios drive the receiver, each once per run (``checks/observation.py``), and the judges read only what
they saw (``checks/judge.py``):

- ``webhook-endpoint``: where the receiver listens — its URL with the URLs registered at the target, and a TLS
  handshake with it;
- ``webhook-deliveries``: the suite's battery — latency samples first (a slow acknowledgement stops the battery
  there: it is judged once, by ``fast-ack``), the signature and timestamp vectors, a replayed old copy, duplicates
  in sequence and at once, two events out of order; then what the receiver applied (``processed_events()``, after a
  barrier event) and the order's state (``resource_status()``);
- ``webhook-journey`` (twin mode): the twin delivers a journey's events, then redelivers a second deposit's through
  a relay that loses a delivery and an acknowledgement.
"""

from __future__ import annotations

import math
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bluum_readiness.checks._support import (
    delivering_receiver,
    investor_events,
    step,
    twin_deliveries,
    twin_signs_for_the_receiver,
)
from bluum_readiness.checks.judge import Facts, Finding, Fix, Passed, Unjudged, Verdict, judged
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import guarded, poll
from bluum_readiness.webhooks.sender import Attempt, Delivery, WebhookSender
from bluum_readiness.webhooks.signing import scheme
from bluum_readiness.webhooks.vectors import Case, replay_case, signature_cases, timestamp_cases

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

ITEM = "webhooks"
NEEDS = ("webhook_url",)  # the capability every check is about (not applicable with [webhooks] used = false)
CERT_MIN_DAYS = 14
LATENCY_SAMPLES = 5
VERIFY_FIX = Fix(
    "verify the signature over the raw body bytes with a constant-time compare and a timestamp tolerance before "
    "doing anything with the event (the Standard Webhooks library of your language does it)",
    {
        "python": "standardwebhooks.Webhook(secret).verify(body, headers)",
        "node": "new Webhook(secret).verify(body, headers) from the standardwebhooks package",
        "go": "standardwebhooks.NewWebhook(secret) then wh.Verify(body, headers)",
        "java": "new Webhook(secret).verify(body, headers) from com.standardwebhooks",
    },
)
DEDUPE_FIX = (
    "dedupe by event id (webhook-id) atomically — a unique constraint or a lock around check-and-insert — and answer "
    "2xx to duplicates; the id stays the same across redeliveries, the signature and timestamp do not"
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


# -- the receiver under test ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    """Where the receiver listens, and whether it is the adapter's own (only then are its effects and state
    observable)."""

    url: str
    own: bool


def _endpoint(s: Scene) -> _Endpoint:
    """The receiver's URL — the team's endpoint from ``[webhooks] url``, else the adapter's ``webhook_url`` — with a
    known signing secret (in twin mode the webhook is registered and the twin issues it). NotVerifiable without."""
    h = s.h
    configured = h.config.webhooks
    own_url = getattr(s.integration, "webhook_url", None)
    if configured.external:  # the team's endpoint elsewhere, its secret from config ([webhooks])
        url: Any = configured.url
        h.evidence["webhook"] = {"url": url, "source": "config [webhooks]"}
    else:
        url = h.capability(s.integration, "webhook_url")
    if not isinstance(url, str) or not url:
        raise NotVerifiable("the integration exposes no webhook_url (an optional capability of the adapter)")
    if not h.webhook_secret.known:
        if not h.target.twin:
            raise NotVerifiable("the webhook's signing secret is unknown: name its source in config ([webhooks])")
        h.register_webhook(url)
    return _Endpoint(url, url == own_url)


def _ca_file(h: Harness) -> str | None:
    """The CA to trust for the endpoint: ``[webhooks] ca_file``, else the suite's local CA in twin mode (a
    locally served receiver), else None (the system trust store)."""
    if h.config.webhooks.ca_file:
        return h.config.webhooks.ca_file
    if h.config.webhooks.external:
        return None
    tls = h.webhook_tls
    return tls.ca_file if tls else None


@dataclass
class _Rig:
    """The receiver under test, a sender signed with its secret, and its effects (if observable).

    Send through ``send`` / ``send_concurrently``: they raise ``SlowAcknowledgement`` after the first answer
    slower than ``threshold_s``, which bounds the battery's time to about one slow delivery."""

    h: Harness
    integration: Any
    endpoint: _Endpoint
    sender: WebhookSender
    processed: Callable[[], list[str]] | None
    threshold_s: float

    def send(self, delivery: Delivery) -> Attempt:
        return self._bounded([self.sender.send(delivery)])[0]

    def send_concurrently(self, deliveries: Sequence[Delivery]) -> list[Attempt]:
        return self._bounded(self.sender.send_concurrently(deliveries))

    def _bounded(self, attempts: list[Attempt]) -> list[Attempt]:
        self.record()
        slow = next((a for a in attempts if a.latency_ms / 1000 >= self.threshold_s), None)
        if slow is not None:
            raise SlowAcknowledgement(slow, self.threshold_s)
        return attempts

    def effects(self) -> list[str]:
        """``processed_events()`` once everything sent so far was processed (a valid barrier event is sent and
        awaited). Only when ``processed`` is known."""
        assert self.processed is not None
        processed = self.processed
        barrier = self.sender.delivery(label="barrier", data={"id": "ord_BARRIER", "status": "filled"})
        if self.send(barrier).accepted:
            poll(lambda: barrier.event_id in processed(), bool, 5.0, interval=0.01)
        else:
            time.sleep(0.2)
        return list(processed())

    def record(self) -> None:
        self.h.evidence["deliveries"] = [a.to_dict() for a in self.sender.attempts]


def _rig(s: Scene) -> _Rig:
    h = s.h
    endpoint = _endpoint(s)
    threshold = h.thresholds.webhook_latency_threshold_s
    sender = WebhookSender(
        endpoint.url,
        h.webhook_secret.get,
        scheme(h.thresholds.webhook_scheme),
        ca_file=_ca_file(h),
        timeout_s=_ack_wait_s(threshold),
    )
    h.on_close(sender.close)
    processed = getattr(s.integration, "processed_events", None) if endpoint.own else None
    guarded_read = guarded("processed_events", processed) if callable(processed) else None
    return _Rig(h, s.integration, endpoint, sender, guarded_read, threshold)


# -- the endpoint: https-only, tls-certificate ---------------------------------------------------------------


def _handshake(url: str, ca_file: str | None) -> dict[str, Any]:
    """A TLS handshake with ``url``'s host: the version and certificate it negotiated, or why it failed."""
    parts = urlsplit(url)
    seen: dict[str, Any] = {"url": url, "host": parts.hostname, "scheme": parts.scheme}
    if parts.scheme != "https":
        return seen
    context = ssl.create_default_context(cafile=ca_file)
    host, port = parts.hostname or "", parts.port or 443
    try:
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as conn,
        ):
            version, cert = conn.version(), conn.getpeercert() or {}
    except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
        return {**seen, "error": str(exc)}
    not_after = ssl.cert_time_to_seconds(str(cert.get("notAfter"))) if cert.get("notAfter") else 0.0
    return {
        **seen,
        "version": version,
        "not_after": cert.get("notAfter"),
        "days_left": round((not_after - time.time()) / 86400, 1),
        "ca": ca_file or "the system trust store",
    }


@scenario("webhook-endpoint", facts=("registered", "tls"))
def _webhook_endpoint(s: Scene) -> None:
    """The receiver's URL with every webhook URL registered at the target, and a TLS handshake with it."""
    endpoint = _endpoint(s)
    listed = s.h.call("GET", "/webhooks", params={"limit": 200})
    urls = [str(w.get("url")) for w in listed.get("data", [])]
    s.evidence("registered_urls", urls)
    s.fact("registered", {"endpoint": endpoint.url, "urls": urls})
    tls = _handshake(endpoint.url, _ca_file(s.h))
    if "version" in tls:
        s.evidence("tls", {k: tls[k] for k in ("version", "not_after", "days_left", "ca")})
    s.fact("tls", tls)


@judged(
    "webhooks.https-only",
    item=ITEM,
    requires=NEEDS,
    title="Every registered webhook URL is https",
    needs=("webhook-endpoint.registered",),
)
def https_only(facts: Facts) -> Verdict:
    registered = facts["webhook-endpoint.registered"]
    plain = sorted({u for u in [*registered["urls"], registered["endpoint"]] if urlsplit(u).scheme != "https"})
    if not plain:
        return None
    return Finding(
        "webhook-not-https",
        "https:// for every webhook URL (production refuses anything else)",
        f"non-https webhook URLs: {', '.join(plain)}",
        "serve the receiver over HTTPS and register its https:// URL",
        evidence={"registered_urls": registered["urls"]},
    )


@judged(
    "webhooks.tls-certificate",
    item=ITEM,
    requires=NEEDS,
    title="The endpoint completes a TLS 1.2+ handshake with a valid chain not expiring within 14 days",
    needs=("webhook-endpoint.tls",),
)
def tls_certificate(facts: Facts) -> Verdict:
    tls = facts["webhook-endpoint.tls"]
    fix = "serve a certificate valid for the receiver's host name from a trusted CA, TLS 1.2 or newer, renewed early"
    expected = f"a verified TLS 1.2+ handshake for {tls['host']}, certificate valid for {CERT_MIN_DAYS}+ days"
    if tls["scheme"] != "https":
        return Finding("webhook-not-https", expected, f"{tls['url']} is not served over TLS at all", fix)
    if "error" in tls:
        return Finding("tls-certificate-invalid", expected, f"the handshake failed: {tls['error']}", fix)
    problems = []
    if tls["version"] not in ("TLSv1.2", "TLSv1.3"):
        problems.append(f"negotiated {tls['version']}")
    if tls["days_left"] < CERT_MIN_DAYS:
        problems.append(f"the certificate expires in {tls['days_left']:.1f} days")
    if not problems:
        return None
    shown = {k: tls[k] for k in ("version", "not_after", "days_left", "ca")}
    return Finding("tls-certificate-invalid", expected, "; ".join(problems), fix, evidence={"tls": shown})


# -- the suite's battery of deliveries -----------------------------------------------------------------------

BATTERY = ("signature", "timestamp", "replay", "duplicates", "out-of-order")


def _ids(case: Case) -> list[str]:
    """The event ids a case could take effect as: its own, and the webhook-id it carries (a lifted signature's)."""
    return sorted({case.delivery.event_id, case.delivery.headers.get("webhook-id", case.delivery.event_id)})


def _sent(case: Case, attempts: Sequence[Attempt], ids: Sequence[str] | None = None) -> dict[str, Any]:
    """One case as a fact: what a correct receiver does (``expect``), the ids its effect would show as (none for a
    copy whose effect is counted under the original), and what each send got."""
    return {
        "case": case.name,
        "description": case.description,
        "expect": case.expect,
        "ids": list(_ids(case) if ids is None else ids),
        "attempts": [a.to_dict() for a in attempts],
    }


def _out_of_order_cases(sender: WebhookSender) -> tuple[str, list[Case]]:
    resource = "ord_" + sender.delivery().event_id[4:]
    earlier = datetime.now(UTC) - timedelta(seconds=5)
    filled = sender.delivery(
        "order.filled",
        {"id": resource, "status": "filled"},
        label="newer-first",
        event_at=earlier + timedelta(seconds=1),
    )
    accepted = sender.delivery(
        "order.accepted", {"id": resource, "status": "accepted"}, label="older-second", event_at=earlier
    )
    return resource, [
        Case("newer-first", "order.filled", filled, "accept"),
        Case("older-second", "order.accepted, older", accepted, "accept"),
    ]


@scenario("webhook-deliveries", facts=("latency", *BATTERY, "effects", "state"))
def _webhook_deliveries(s: Scene) -> None:
    """The suite plays Bluum toward the receiver: latency samples, then each group of cases; then the effects and
    the order's state. A slow acknowledgement stops the battery at once (``SlowAcknowledgement``: every fact not
    yet seen is missing with it), after the latency samples that show it."""
    h = s.h
    rig = _rig(s)
    sender = rig.sender

    samples: list[Attempt] = []
    slow: SlowAcknowledgement | None = None
    for _ in range(LATENCY_SAMPLES):
        try:
            samples.append(rig.send(sender.delivery(label="latency")))
        except SlowAcknowledgement as exc:  # with at most 20 samples the p95 is the slowest: the verdict is in
            samples.append(exc.attempt)
            slow = exc
            break
    latency = {"threshold_s": rig.threshold_s, "planned": LATENCY_SAMPLES, "samples": [a.to_dict() for a in samples]}
    s.fact("latency", latency)
    if slow is not None:
        raise slow

    groups: dict[str, list[dict[str, Any]]] = {}
    groups["signature"] = [_sent(c, [rig.send(c.delivery)]) for c in signature_cases(sender)]
    tolerance = h.thresholds.webhook_tolerance_s
    groups["timestamp"] = [_sent(c, [rig.send(c.delivery)]) for c in timestamp_cases(sender, tolerance)]
    original = Case("original", "a valid delivery", sender.delivery(label="original"), "accept")
    replay = replay_case(sender, original.delivery, tolerance)
    first = rig.send(original.delivery)
    groups["replay"] = [_sent(original, [first]), _sent(replay, [rig.send(replay.delivery)], ids=())]
    if rig.processed is not None:  # without effects, copies answered 2xx say nothing: not sent
        repeated = sender.delivery(label="sequential-duplicate")
        simultaneous = sender.delivery(label="concurrent-duplicate")
        sequential = Case("sequential-duplicate", "one event 3 times in a row", repeated, "accept")
        concurrent = Case("concurrent-duplicate", "one event 5 times at once", simultaneous, "accept")
        in_row = [rig.send(sequential.delivery) for _ in range(3)]
        at_once = rig.send_concurrently([concurrent.delivery] * 5)
        groups["duplicates"] = [_sent(sequential, in_row), _sent(concurrent, at_once)]
    resource, ordered = _out_of_order_cases(sender)
    before = _status_before(rig, resource)  # no event about the order yet: its state cannot be "filled"
    groups["out-of-order"] = [_sent(c, [rig.send(c.delivery)]) for c in ordered]

    if rig.processed is None:
        unseen = (
            "the integration does not expose processed_events() (an optional capability of the adapter)"
            if rig.endpoint.own
            else f"the receiver at {rig.endpoint.url} is not the adapter's own webhook_url, so the suite cannot "
            "observe its effects (processed_events())"
        )
        h.evidence["effects"] = f"status-only: {unseen}"
        s.missing(("effects", "duplicates"), f"counting effects needs processed_events(): {unseen}")
    else:
        h.evidence["effects"] = "processed_events()"
        s.fact("effects", rig.effects())
    for name, cases in groups.items():
        s.fact(name, cases)
    _state(s, rig, resource, before)


def _resource_status(rig: _Rig) -> Callable[[str], Any] | None:
    status_of = getattr(rig.integration, "resource_status", None) if rig.endpoint.own else None
    return status_of if callable(status_of) else None


def _read_status(status_of: Callable[[str], Any], resource: str) -> str | None:
    """``resource_status(resource)``, bounded, as the evidence shows it; NotVerifiable when it cannot be read."""
    state = guarded("resource_status", status_of)(resource)
    return state if isinstance(state, str) or state is None else repr(state)


def _status_before(rig: _Rig, resource: str) -> str | None:
    """What ``resource_status()`` answers for the order before any event about it (None when it cannot be read:
    the state read after the events says why)."""
    status_of = _resource_status(rig)
    if status_of is None:
        return None
    try:
        return _read_status(status_of, resource)
    except NotVerifiable:
        return None


def _state(s: Scene, rig: _Rig, resource: str, before: str | None = None) -> None:
    """The order's state as the receiver holds it (``resource_status()``), and what it answered ``before`` any event
    about the order; or why it cannot be read."""
    status_of = _resource_status(rig)
    if status_of is None:
        s.h.evidence["state"] = "not observable: no resource_status() on the adapter for this endpoint"
        s.missing(
            "state",
            "the adapter exposes no resource_status() (an optional capability: for a program, the resource_status "
            "request of the adapter protocol)"
            if rig.endpoint.own
            else "the receiver runs elsewhere ([webhooks] url), where the suite cannot read its state",
        )
        return
    try:
        shown = _read_status(status_of, resource)
    except NotVerifiable as exc:
        s.missing("state", exc.reason)
        return
    s.h.evidence["state"] = {"resource": resource, "status": shown, "before": before}
    s.fact("state", {"resource": resource, "status": shown, "before": before})


# -- judging a battery's cases -------------------------------------------------------------------------------

#: What went wrong with a case, most telling first, and the cause each kind names by default.
KINDS = {
    "not-https": "webhook-not-https",
    "state": "state-regressed",
    "accepted": "signature-not-verified",
    "applied": "processed-before-verifying",
    "applied-again": "duplicate-effects",
    "refused": "valid-delivery-refused",
    "not-applied": "event-not-applied",
}


@dataclass(frozen=True)
class _Problem:
    kind: str
    text: str


def _answer(attempt: Attempt) -> Any:
    return attempt.status if attempt.status is not None else attempt.error


def _problems(cases: Sequence[Mapping[str, Any]], effects: Sequence[str] | None) -> list[_Problem]:
    """What went wrong, case by case: the status class of each send and, when effects were observed, how many
    times the case took effect (once for ``accept``, never for ``reject``)."""
    problems: list[_Problem] = []
    for case in cases:
        attempts = [Attempt(**a) for a in case["attempts"]]
        name = case["case"] if len(attempts) == 1 else f"{case['case']} (sent {len(attempts)} times)"
        for attempt in attempts:
            if case["expect"] == "accept" and not attempt.accepted:
                problems.append(_Problem("refused", f"{case['case']}: answered {_answer(attempt)}, expected 2xx"))
            if case["expect"] == "reject" and not attempt.rejected:
                problems.append(_Problem("accepted", f"{case['case']}: answered {_answer(attempt)}, expected 4xx"))
        if effects is None or not case["ids"]:
            continue
        count = sum(effects.count(i) for i in case["ids"])
        if case["expect"] == "accept" and count != 1:
            kind = "not-applied" if count == 0 else "applied-again"
            problems.append(_Problem(kind, f"{name}: took effect {count} times, expected once"))
        if case["expect"] == "reject" and count:
            text = f"{name}: was processed ({count} effect(s)) although it must be rejected"
            problems.append(_Problem("applied", text))
    return problems


def _cause(problems: Sequence[_Problem], **named: str) -> str:
    """The cause of the most telling problem (``KINDS``' order), by kind: ``named`` overrides the default."""
    kinds = {p.kind for p in problems}
    kind = next(k for k in KINDS if k in kinds)
    return named.get(kind.replace("-", "_"), KINDS[kind])


def _deliveries(cases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"deliveries": [a for case in cases for a in case["attempts"]]}


def _accepts_bad(cases: Sequence[Mapping[str, Any]] | None) -> bool:
    """Whether a group of cases shows deliveries that must be rejected answered with anything but 4xx."""
    return any(p.kind == "accepted" for p in _problems(cases or [], None))


@judged(
    "webhooks.signature-verified",
    item=ITEM,
    requires=NEEDS,
    title="Signatures are verified before processing: bad ones get 4xx and have no effect",
    needs=("webhook-deliveries.signature",),
    uses=("webhook-deliveries.effects",),
)
def signature_verified(facts: Facts) -> Verdict:
    cases = facts["webhook-deliveries.signature"]
    problems = _problems(cases, facts["webhook-deliveries.effects"])
    if not problems:
        return None
    return Finding(
        _cause(problems),
        "2xx for a valid signature; 4xx and no effect for a missing, malformed, wrong-secret, tampered-body or lifted "
        "signature",
        "; ".join(p.text for p in problems),
        VERIFY_FIX,
        evidence=_deliveries(cases),
    )


@judged(
    "webhooks.timestamp-tolerance",
    item=ITEM,
    requires=NEEDS,
    title="Deliveries signed outside the timestamp tolerance (past or future) are rejected",
    needs=("webhook-deliveries.timestamp",),
    uses=("webhook-deliveries.effects", "webhook-deliveries.signature"),
)
def timestamp_tolerance(facts: Facts) -> Verdict:
    cases = facts["webhook-deliveries.timestamp"]
    problems = _problems(cases, facts["webhook-deliveries.effects"])
    if not problems:
        return None
    observed = "; ".join(p.text for p in problems)
    unverified = _accepts_bad(facts["webhook-deliveries.signature"])
    if unverified:
        observed += (
            " (it accepts deliveries with bad signatures too, so whether it checks the timestamp could not be judged "
            "apart: see webhooks.signature-verified)"
        )
    described = "; ".join(f"{c['case']}: {c['description']}" for c in cases)
    return Finding(
        _cause(problems, accepted="signature-not-verified" if unverified else "stale-timestamps-accepted"),
        f"4xx and no effect for deliveries signed outside the timestamp tolerance, past or future ({described})",
        observed,
        "reject a signature timestamp further from now than the tolerance, both ways",
        evidence=_deliveries(cases),
    )


@judged(
    "webhooks.replay-rejected",
    item=ITEM,
    requires=NEEDS,
    title="A captured old delivery of an accepted event, re-sent, is rejected",
    needs=("webhook-deliveries.replay",),
    uses=("webhook-deliveries.effects", "webhook-deliveries.signature", "webhook-deliveries.timestamp"),
)
def replay_rejected(facts: Facts) -> Verdict:
    cases = facts["webhook-deliveries.replay"]
    problems = _problems(cases, facts["webhook-deliveries.effects"])
    if not problems:
        return None
    accepted = "replay-accepted"
    if _accepts_bad(facts["webhook-deliveries.signature"]):
        accepted = "signature-not-verified"
    elif _accepts_bad(facts["webhook-deliveries.timestamp"]):
        accepted = "stale-timestamps-accepted"
    return Finding(
        _cause(problems, accepted=accepted),
        "4xx for a correctly signed but stale copy of an event already received (verify first, dedupe second)",
        "; ".join(p.text for p in problems),
        "verify signature and timestamp before looking up the event id; never answer 2xx to an unverified delivery, "
        "even for an event you already have",
        evidence=_deliveries(cases),
    )


@judged(
    "webhooks.duplicates-idempotent",
    item=ITEM,
    requires=NEEDS,
    title="The same event delivered 3 times in sequence and 5 times at once takes effect once",
    needs=("webhook-deliveries.duplicates", "webhook-deliveries.effects"),
)
def duplicates_idempotent(facts: Facts) -> Verdict:
    cases = facts["webhook-deliveries.duplicates"]
    problems = _problems(cases, facts["webhook-deliveries.effects"])
    if not problems:
        return None
    return Finding(
        _cause(problems),
        "2xx for every copy and exactly one effect per event id",
        "; ".join(p.text for p in problems),
        DEDUPE_FIX,
        evidence=_deliveries(cases),
    )


@judged(
    "webhooks.out-of-order",
    item=ITEM,
    requires=NEEDS,
    title="Out-of-order deliveries are accepted and do not regress state",
    needs=("webhook-deliveries.out-of-order",),
    uses=("webhook-deliveries.effects", "webhook-deliveries.state"),
)
def out_of_order(facts: Facts) -> Verdict:
    cases = facts["webhook-deliveries.out-of-order"]
    problems = _problems(cases, facts["webhook-deliveries.effects"])
    state = facts["webhook-deliveries.state"]
    unseen = facts.why("webhook-deliveries.state") if state is None else ""
    if state is not None and state.get("before") == "filled":  # what it answers does not follow the events
        unseen = (
            "resource_status() answered 'filled' for the order before any event about it was delivered, so what it "
            "answers after them does not show the receiver's state"
        )
        state = None
    if state is not None and state["status"] != "filled":
        text = f"after order.filled then an older order.accepted, the order is {state['status']!r}, not 'filled'"
        problems.insert(0, _Problem("state", text))
    if state is None and not problems:  # both acknowledged; whether the older one regressed the order was not seen
        return Unjudged(
            "both deliveries were acknowledged, but whether the older event regressed the order's state could not be "
            f"seen: {unseen}"
        )
    if not problems:
        return None
    return Finding(
        _cause(problems),
        "both events acknowledged and applied; the newer state kept",
        "; ".join(p.text for p in problems),
        "order events by their timestamp (or re-fetch the resource) instead of applying the last one received",
        evidence=_deliveries(cases),
    )


@judged(
    "webhooks.fast-ack",
    item=ITEM,
    requires=NEEDS,
    title="Valid deliveries are acknowledged with 2xx quickly (p95 under the threshold)",
    needs=("webhook-deliveries.latency",),
)
def fast_ack(facts: Facts) -> Verdict:
    latency = facts["webhook-deliveries.latency"]
    attempts = [Attempt(**a) for a in latency["samples"]]
    threshold, planned = latency["threshold_s"], latency["planned"]
    latencies = sorted(a.latency_ms / 1000 for a in attempts)
    p95 = latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)]
    shown = {"latency": {"p95_s": round(p95, 3), "threshold_s": threshold, "samples_s": latencies}}
    refused = [a for a in attempts if not a.accepted]
    if not refused and p95 < threshold:
        return Passed(shown)
    observed = f"p95 {p95:.3f} s over {len(attempts)} deliveries"
    if len(attempts) < planned:
        observed = (
            f"p95 {p95:.3f} s over {len(attempts)} of {planned} deliveries (stopped at the first one over "
            f"{threshold:g} s)"
        )
    if refused:
        observed += f"; {len(refused)} not acknowledged with 2xx"
    return Finding(
        "slow-acknowledgement" if p95 >= threshold else "valid-delivery-refused",
        f"2xx with a p95 under {threshold:g} s",
        observed,
        "acknowledge as soon as the event is verified and stored; process it asynchronously",
        evidence={**shown, "deliveries": latency["samples"]},
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
        from starlette.requests import Request
        from starlette.responses import Response

        from bluum_readiness.webhooks.tls import serve_deliveries

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

        self.server = serve_deliveries(relay)
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


def _phase(events: Sequence[Mapping[str, Any]], by_event: Mapping[str, Any], applied: Sequence[str]) -> dict[str, Any]:
    """One phase of the journey as a fact: the events the twin emitted, its deliveries of them (by event id: their
    status and each attempt's answer; the evidence keeps them whole) and what the receiver applied
    (``processed_events()``)."""
    deliveries = {
        event_id: {
            "status": d.get("status"),
            "attempt_count": d.get("attempt_count", len(d.get("attempts", []))),
            "attempts": [{"status_code": a.get("status_code"), "error": a.get("error")} for a in d.get("attempts", [])],
        }
        for event_id, d in by_event.items()
    }
    return {
        "events": [{"id": e["id"], "event": e["event"]} for e in events],
        "deliveries": deliveries,
        "applied": list(applied),
    }


@scenario("webhook-journey", facts=("url", "delivered", "redelivered"), twin_only=True)
def _webhook_journey(s: Scene) -> None:
    """A short lifecycle through the integration, whose events the twin delivers to the receiver; then a second
    deposit whose events the twin redelivers through a relay that loses the first attempt of each and the
    acknowledgement of the second (``_FlakyRelay``)."""
    from bluum_readiness.testing import investor_profile, plaid_bank

    h = s.h
    integration = s.integration
    url, processed = delivering_receiver(h, integration)
    twin_signs_for_the_receiver(h)
    hook_id = h.register_webhook(url)
    s.fact("url", url)
    timeout = h.thresholds.settle_timeout_s

    # 1. a short lifecycle through the integration; the twin delivers every event about the investor
    purpose = "the journey whose webhooks this check judges could not run"
    investor = step(h, "create_investor", lambda: integration.create_investor(investor_profile()), purpose=purpose)

    def active() -> Any:  # the integration's own reading, so not h.wait_for (which reads the target's)
        if not poll(lambda: integration.kyc_status(investor) == "active", bool, timeout, h.poll_interval):
            raise TimeoutError(f"kyc_status() did not say 'active' within {timeout:g} s")
        return True

    step(h, "kyc_status", active, purpose=purpose)
    bank = step(h, "link_bank_account", lambda: integration.link_bank_account(investor, plaid_bank()), purpose=purpose)
    deposit = step(h, "deposit", lambda: integration.deposit(investor, bank, "500.00"), purpose=purpose)
    h.wait_for(
        f"deposit {deposit} to complete",
        lambda: h.call("GET", f"/investors/{investor}/deposits/{deposit}")["status"] == "completed",
    )
    events = investor_events(h, investor)
    names = {e["id"]: e["event"] for e in events}
    # straight to the receiver: a slow acknowledgement stops here (the relay below adds delays of its own)
    barrier = _barrier(h, url, processed)
    by_event, applied = _settled(
        h, hook_id, set(names), processed, timeout, h.thresholds.webhook_latency_threshold_s, barrier
    )
    delivered = _phase(events, by_event, applied)
    s.evidence(
        "lifecycle", {"investor": investor, "events": delivered["events"], "deliveries": list(by_event.values())}
    )
    s.fact("delivered", delivered)

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
    by_event, applied = _settled(h, hook_id, {e["id"] for e in fresh}, processed, timeout, barrier=barrier)
    redelivered = {**_phase(fresh, by_event, applied), "forwarded": [list(f) for f in relay.forwarded]}
    s.evidence(
        "redelivery",
        {
            "relay": relay.url,
            "events": redelivered["events"],
            "deliveries": list(by_event.values()),
            "forwarded": redelivered["forwarded"],
        },
    )
    s.fact("redelivered", redelivered)


def _phase_problems(phase: Mapping[str, Any], names: Mapping[str, str]) -> list[_Problem]:
    problems: list[_Problem] = []
    applied: list[str] = phase["applied"]
    for event in phase["events"]:
        event_id = event["id"]
        label = f"{names.get(event_id, 'event')} ({event_id})"
        delivery = phase["deliveries"].get(event_id)
        if delivery is None:
            problems.append(_Problem("refused", f"{label}: the twin made no delivery"))
        elif delivery["status"] != "delivered":
            codes = [a["status_code"] or a["error"] for a in delivery.get("attempts", [])]
            text = f"{label}: not acknowledged with 2xx ({delivery['status']}; attempts: {codes})"
            problems.append(_Problem("refused", text))
        count = applied.count(event_id)
        if count != 1:
            kind = "not-applied" if count == 0 else "applied-again"
            problems.append(_Problem(kind, f"{label}: processed {count} times, expected once"))
    return problems


@judged(
    "webhooks.end-to-end",
    item=ITEM,
    requires=("webhook_url", "processed_events"),
    title="Twin-delivered events take effect once, also redelivered after a lost delivery or ack",
    needs=("webhook-journey.url", "webhook-journey.delivered", "webhook-journey.redelivered"),
    twin_only=True,
)
def end_to_end(facts: Facts) -> Verdict:
    url: str = facts["webhook-journey.url"]
    delivered, redelivered = facts["webhook-journey.delivered"], facts["webhook-journey.redelivered"]
    for phase, what in ((delivered, "the journey"), (redelivered, "the second deposit")):
        if not phase["events"]:
            return Unjudged(f"{what} emitted no event at the twin, so there was no delivery to judge")
    names = {e["id"]: e["event"] for phase in (delivered, redelivered) for e in phase["events"]}
    problems = (
        []
        if urlsplit(url).scheme == "https"
        else [_Problem("not-https", f"{url} is not https: Bluum delivers to https only")]
    )
    problems += _phase_problems(delivered, names) + _phase_problems(redelivered, names)
    not_retried = [
        names[e["id"]]
        for e in redelivered["events"]
        if e["id"] in redelivered["deliveries"]
        and redelivered["deliveries"][e["id"]]["attempt_count"] < _FlakyRelay.LOST_ACK + 1
    ]
    if not_retried:
        text = f"not redelivered after a lost delivery and a lost acknowledgement: {', '.join(not_retried)}"
        problems.append(_Problem("refused", text))
    if not problems:
        return None
    return Finding(
        _cause(problems),
        "every event the twin delivered for the journey acknowledged with 2xx and processed exactly once, also when "
        "an attempt was lost (500, never reached the receiver) or its acknowledgement was lost (processed, but the "
        "twin saw 500) and the twin redelivered",
        "; ".join(p.text for p in problems),
        "serve the receiver over https, answer 2xx once the event is verified and stored, and " + DEDUPE_FIX,
    )
