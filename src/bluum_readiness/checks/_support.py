"""Helpers shared by checks: calling the integration safely, reading exchanges, timing waits."""

from __future__ import annotations

import contextlib
import signal
import statistics
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

from bluum_readiness.calling import Call, call
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import guarded
from bluum_readiness.integration import IntegrationError, describe_failure
from bluum_readiness.proxy.recorder import Exchange

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

__all__ = ["BaseUrlIgnored", "Call", "call", "interrupts_kept", "mean", "require_traffic", "robust_spread", "waits"]

DEPOSITS = "/v1/investors/*/deposits"
WITHDRAWALS = "/v1/investors/*/withdrawals"
ORDERS = "/v1/investors/*/orders"
INVESTOR = "/v1/investors/*"

PREFIXES = {
    "create_investor": "inv",
    "upload_document": "doc",
    "link_bank_account": "fs",
    "deposit": "dep",
    "place_order": "ord",
    "withdraw": "wd",
}
"""The id prefix each creating operation must return (``inv_…``, ``fs_…``…)."""


def exception_text(error: BaseException) -> str:
    """Everything an exception shows where it travels (logs, error trackers, the caller's own messages): its
    text, repr and attributes, and those of the exceptions it was raised from."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(getattr(current, "__dict__", ""))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def refusal_cause(error: BaseException | Mapping[str, Any] | None) -> str:
    """The cause a refusal shows, when it shows one, wherever it surfaces (the lifecycle's steps and error paths, whose
    operations meet no fault, so none of their attempts is a retry): Bluum's "Idempotency-Key header is required"
    (BLUM-400-002 on a deposit or withdrawal) is ``no-idempotency-key``; "this Idempotency-Key was already used with a
    different request body" (BLUM-409-002) on an operation's first attempt is ``key-shared-across-operations``; ""
    otherwise. ``error``: the exception, or what the suite read from it (``describe_failure``)."""
    if error is None:
        return ""
    info = error if isinstance(error, Mapping) else describe_failure(error)
    text = f"{info.get('param') or ''} {info.get('message') or ''}".lower()
    if info.get("code") == "BLUM-400-002" and "idempotency-key" in text:
        return "no-idempotency-key"
    if info.get("code") == "BLUM-409-002":
        return "key-shared-across-operations"
    return ""


def target_outage(attempts: Sequence[Exchange]) -> Exchange | None:
    """The last answered attempt when the target itself answered it with a 5xx (no fault of the suite's applied to
    it): the target's outage, which the integration surfacing is right to; else None."""
    answered = [x for x in attempts if x.status is not None]
    last = answered[-1] if answered else None
    return last if last is not None and last.status is not None and last.status >= 500 and last.fault is None else None


def read_capability(integration: Any, name: str) -> tuple[Any, str | None]:
    """What the integration's optional ``name()`` (``request_log``, ``alerts``) returned, or None and why it could
    not be read (not exposed, or it raised: ``harness.guarded``)."""
    read = getattr(integration, name, None)
    if not callable(read):
        return None, f"the integration does not expose {name}() (an optional capability of the adapter)"
    try:
        return guarded(name, read)(), None
    except NotVerifiable as exc:
        return None, exc.reason


def delivering_receiver(h: Harness, integration: Any) -> tuple[str, Callable[[], Any]]:
    """The integration's receiver as the twin delivers to it: its ``webhook_url`` and ``processed_events``; not
    verifiable without either (optional capabilities)."""
    url = h.capability(integration, "webhook_url")
    processed = h.capability(integration, "processed_events")
    if not isinstance(url, str) or not url or not callable(processed):
        raise NotVerifiable("the integration exposes no webhook_url and processed_events() (optional capabilities)")
    return url, processed


def twin_signs_for_the_receiver(h: Harness) -> None:
    """Not verifiable when the receiver's webhook secret is configured: the twin signs its deliveries with the secret
    it issues when the webhook is registered, which the receiver then does not hold."""
    if h.webhook_secret.known:
        raise NotVerifiable(
            "the receiver's secret is configured, so the twin (which issues its own) cannot sign for it"
        )


def is_id(value: Any, operation: str) -> TypeGuard[str]:
    """``value`` is an id of what ``operation`` creates: a string with its prefix and something after it."""
    prefix = PREFIXES[operation]
    return isinstance(value, str) and value.startswith(prefix + "_") and len(value) > len(prefix) + 1


def step(h: Harness, operation: str, run: Callable[[], Any], *, purpose: str) -> Any:
    """An operation a check needs to *set up* what it judges (a journey whose webhooks it watches): its result, or
    NotVerifiable when it failed or returned a wrong id — the integration's defect, judged by the check that is
    about it (``lifecycle.full-journey`` for ids and errors), never a harness problem here. ``purpose`` ends "so …"."""
    outcome = h.invoke(run)
    if not outcome.ok:
        raise NotVerifiable(f"{operation}() {outcome.describe()}, so {purpose}")
    value = outcome.result
    if operation in PREFIXES and not is_id(value, operation):
        raise NotVerifiable(
            f"{operation}() returned {value!r}, not a '{PREFIXES[operation]}_…' id, so {purpose} "
            "(lifecycle.full-journey judges the ids an integration returns)"
        )
    return value


@contextlib.contextmanager
def interrupts_kept() -> Iterator[None]:
    """Run the block with Ctrl-C and SIGTERM remembered as they are raised (by the handlers in force, which stay in
    charge), and raise the first again when the block ends without it — code that catches ``KeyboardInterrupt``
    and returns (Hypothesis between examples, say) must not turn a stopped run into one that goes on. Only the main
    thread can do this (it is where signals are handled); elsewhere the block just runs."""
    seen: list[BaseException] = []
    replaced: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if not callable(handler):
                continue  # ignored, or the default (SIGTERM's ends the process): nothing raises, nothing to keep

            def remembering(number: int, frame: Any, handler: Callable[[int, Any], Any] = handler) -> None:
                try:
                    handler(number, frame)
                except BaseException as raised:
                    seen.append(raised)
                    raise

            replaced[signum] = handler
            signal.signal(signum, remembering)
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException as failure:  # whatever the block raised after it dropped the interrupt: the run stops
        if seen:
            raise seen[0] from failure
        raise
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)
    if seen:
        raise seen[0]


class BaseUrlIgnored(IntegrationError):
    """An operation of the integration succeeded without any request through the suite's proxy: it ignored
    ``IntegrationEnv.base_url`` (a host written into its code, a stub left in, calls queued and sent later). The
    integration's defect, not the suite's: ``Scenario.observe`` records it (``BASE_URL_IGNORED``) and every check that
    reads the scenario fails on it, cause ``operation-not-performed`` (``judge.judge``). Not raised for a read, which a
    cache may answer (``require_traffic``)."""


READS = ("kyc_status", "positions", "get_order")
"""The operations that only read: one may answer from a cache of the integration's own without a request."""


def require_traffic(exchanges: Sequence[Exchange], outcome: Call, what: str) -> None:
    """``BaseUrlIgnored`` for an operation that succeeded without any request through the proxy; for a read
    (``READS``), which a cache of the integration's may answer, ``NotVerifiable``: what the suite wanted to see it
    do with the API was not seen, and a cache is no defect."""
    if exchanges or not outcome.ok:
        return
    if what.startswith(READS):
        raise NotVerifiable(
            f"{what} {outcome.describe()} without sending any request to the base URL the suite gave it (a cache of "
            "the integration's own?), so how it handles what the suite made the API answer could not be seen"
        )
    raise BaseUrlIgnored(
        f"{what} {outcome.describe()} without sending any request to the base URL the suite gave it (the suite's "
        "proxy): it answered from somewhere else (a host written into its code, a stub, a queue sent later)"
    )


def waits(attempts: Sequence[Exchange]) -> list[float]:
    """Seconds between the end of each attempt and the start of the next."""
    ordered = sorted(attempts, key=lambda x: x.seq)
    return [max(0.0, b.started - a.finished) for a, b in zip(ordered, ordered[1:], strict=False)]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def robust_spread(values: Sequence[float]) -> float:
    """How much ``values`` vary relative to their median: the interquartile range over the median. A few outliers —
    scheduling stalls of tens of milliseconds over sockets on a loaded machine — do not move it, as they move the
    standard deviation; and over a couple of dozen values it varies less than a median absolute deviation would."""
    if len(values) < 4:
        return 0.0
    middle = statistics.median(values)
    if middle == 0:
        return 0.0
    first, _, third = statistics.quantiles(values, n=4)
    return (third - first) / middle


# -- what the twin recorded (sandbox controls: twin mode only) ------------------------------------------------


def twin_deliveries(h: Harness, webhook_id: str) -> list[dict[str, Any]]:
    """The twin's deliveries to one webhook, oldest first (``/_sandbox/webhook-deliveries``)."""
    page = h.sandbox("GET", "/webhook-deliveries", params={"webhook_id": webhook_id, "limit": 200})
    found: list[dict[str, Any]] = page.get("data", [])
    return found


def investor_events(h: Harness, investor: str) -> list[dict[str, Any]]:
    """The twin's events about one investor and its resources, oldest first (``/_sandbox/events``, every page)."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = h.sandbox("GET", "/events", params={"limit": 200, "offset": offset})
        for event in page["data"]:
            data = event.get("data") or {}
            if investor in (data.get("id"), data.get("investor_id")):
                found.append(event)
        if not page.get("has_more") or not page["data"]:
            return found
        offset += len(page["data"])
