"""Checks of the ``idempotency`` item: keys on every money movement, fresh, unguessable, reused on retries,
and money moved exactly once through a storm of faults.

Scenarios drive the integration once each and record what they saw (``checks/observation.py``); the judges read
only those facts and name the cause of a failure (``checks/judge.py``)."""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Sequence
from typing import Any

from bluum_readiness.checks._support import DEPOSITS, WITHDRAWALS
from bluum_readiness.checks.judge import Facts, Finding, Fix, Unjudged, Verdict, judged
from bluum_readiness.checks.observation import Outcome, Probe, Scene, scenario
from bluum_readiness.failures import Severity
from bluum_readiness.proxy.faults import DropAfterFault, Fault, StatusFault, WithholdAfterFault
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule

ITEM = "idempotency"
KEY_FIX = Fix(
    "generate one random key (e.g. a UUID v4) per logical deposit/withdrawal, before its first attempt, and send it "
    "as Idempotency-Key on every attempt",
    {
        "python": "str(uuid.uuid4())",
        "node": "crypto.randomUUID()",
        "go": "a random UUID (github.com/google/uuid's uuid.NewString(), or 16 bytes of crypto/rand, hex-encoded)",
        "java": "UUID.randomUUID().toString()",
    },
)
SAME_KEY_FIX = Fix(
    "create the key once per logical operation, before the first attempt, and reuse it on every retry",
    KEY_FIX.hints,
)
DEPOSIT_AMOUNTS = ("21.00", "22.00", "23.00", "24.00")
RETRY_FAULTS = (
    "503 before the target saw it",
    "timeout after the target committed",
    "connection dropped after the target committed",
)


# -- a key on every transfer -----------------------------------------------------------------------------------------


@scenario("transfers", facts=("deposit", "withdrawal"))
def _transfers(s: Scene) -> None:
    """One deposit and one withdrawal, unfaulted: the POSTs each sent."""
    investor, bank = s.h.funded_investor()
    s.fact(
        "deposit",
        s.probe("deposit()", lambda i: i.deposit(investor, bank, "25.00"), method="POST", path_endswith="/deposits"),
    )
    s.fact(
        "withdrawal",
        s.probe(
            "withdraw()", lambda i: i.withdraw(investor, bank, "5.00"), method="POST", path_endswith="/withdrawals"
        ),
    )


@judged(
    "idempotency.key-on-every-transfer",
    item=ITEM,
    title="Every deposit and withdrawal carries an Idempotency-Key",
    needs=("transfers.deposit", "transfers.withdrawal"),
)
def key_on_every_transfer(facts: Facts) -> Verdict:
    for kind in ("deposit", "withdrawal"):
        probe: Probe = facts[f"transfers.{kind}"]
        missing = [x for x in probe.attempts if not x.idempotency_key]
        if missing:
            path = f"POST …/{kind}s"
            return Finding(
                "no-idempotency-key",
                f"an Idempotency-Key header on every {path}",
                f"{len(missing)} of {probe.count} {path} had none (the operation {probe.outcome.describe()})",
                KEY_FIX,
                probe.attempts,
            )
    return None


# -- fresh, unguessable keys -----------------------------------------------------------------------------------------


@scenario("deposits-in-a-row", facts=("deposits", "clock"))
def _deposits_in_a_row(s: Scene) -> None:
    """Four deposits one after the other: the keys they carried (fresh per operation? random?)."""
    investor, bank = s.h.funded_investor()

    def deposit(integration: Any, amount: str) -> Any:
        return integration.deposit(investor, bank, amount)

    probes = [
        s.probe("deposit()", functools.partial(deposit, amount=amount), method="POST", path_endswith="/deposits")
        for amount in DEPOSIT_AMOUNTS
    ]
    s.fact("clock", time.time())  # a timestamp key is judged against when it was made
    s.fact("deposits", probes)


def _keyed(probes: Sequence[Probe]) -> list[Any]:
    return [x for probe in probes for x in probe.attempts if x.idempotency_key]


@judged(
    "idempotency.fresh-key-per-operation",
    item=ITEM,
    title="A new key for each logical operation",
    needs=("deposits-in-a-row.deposits",),
)
def fresh_key_per_operation(facts: Facts) -> Verdict:
    probes: list[Probe] = facts["deposits-in-a-row.deposits"]
    firsts = [probe.attempts[0] for probe in probes if probe.attempts and probe.attempts[0].idempotency_key]
    if len(firsts) < 3:
        return Unjudged("fewer than three keyed deposits were sent, so key reuse cannot be judged")
    keys = [x.idempotency_key for x in firsts]
    if len(set(keys)) == len(keys):
        return None
    return Finding(
        "key-shared-across-operations",
        f"{len(keys)} deposits with {len(keys)} different Idempotency-Keys",
        f"keys {keys} (a key was reused: the second deposit would replay the first and move no money)",
        KEY_FIX,
        firsts,
    )


def guessable(keys: list[str], now: float) -> str | None:
    """Why these keys are guessable (a counter, a timestamp, too short), or None when they look random. ``now``:
    seconds since the epoch when they were made (a timestamp key is near it, in any unit)."""
    short = [k for k in keys if len(k) < 16]
    if short:
        return f"keys as short as {len(min(short, key=len))} characters ({short[0]!r}); use at least 16 random ones"
    if len({re.sub(r"\d+", "#", k) for k in keys}) == 1:  # the keys differ only in their digits
        runs = [int(run) for k in keys for run in re.findall(r"\d{9,}", k)]
        if any(abs(n - now * scale) < 86400 * scale for n in runs for scale in (1, 1e3, 1e6, 1e9)):
            return f"the keys are built from a timestamp ({keys[:2]}); they can be predicted and can collide"
        varying = [re.findall(r"\d+", k) for k in keys]
        changed = [int("".join(v)) for v in varying]
        if max(changed) - min(changed) < 10**6:
            return f"the keys differ only in a small counter ({keys[:3]}); use random keys"
    prefix = os.path.commonprefix(keys)
    suffix = os.path.commonprefix([k[::-1] for k in keys])[::-1]
    if all(len(k) - len(prefix) - len(suffix) < 8 for k in keys):
        return f"the keys share all but a few characters ({keys[:2]}); too little entropy"
    return None


@judged(
    "idempotency.unguessable-keys",
    item=ITEM,
    title="Keys are random (not counters or timestamps)",
    needs=("deposits-in-a-row.deposits", "deposits-in-a-row.clock"),
)
def unguessable_keys(facts: Facts) -> Verdict:
    posts = _keyed(facts["deposits-in-a-row.deposits"])
    keys = [str(x.idempotency_key) for x in posts]
    if len(set(keys)) < 2:
        return Unjudged("fewer than two distinct keys were observed; see idempotency.fresh-key-per-operation")
    reason = guessable(keys, facts["deposits-in-a-row.clock"])
    if reason is None:
        return None
    return Finding("guessable-keys", "random Idempotency-Keys (e.g. a UUID v4)", reason, KEY_FIX, posts)


# -- the same key on every retry ---------------------------------------------------------------------------------------


@scenario("retried-deposits", facts=RETRY_FAULTS, side_by_side=True)
def _retried_deposits(s: Scene) -> None:
    """A deposit whose first attempt meets each fault: the keys of its attempts. Each attempt comes on a connection
    of its own (``Harness.fresh_connections``), so the dropped connection reaches the integration's code: on a
    reused one, Go's ``http.Transport`` resends a keyed POST itself, and the retry judged would be the runtime's."""
    investor, bank = s.h.funded_investor()
    timeout = s.thresholds.request_timeout_s
    faults: dict[str, Fault] = dict(
        zip(RETRY_FAULTS, (StatusFault(503), WithholdAfterFault(seconds=timeout * 3), DropAfterFault()), strict=True)
    )
    with s.h.fresh_connections():
        for label, fault in faults.items():
            rule = FaultRule(f"retry-{fault.__class__.__name__}", fault, method="POST", path=DEPOSITS, first=1)
            probe = s.probe(
                "deposit()",
                lambda i: i.deposit(investor, bank, "31.00"),
                rule,
                method="POST",
                path_endswith="/deposits",
            )
            s.fact(label, probe)


@judged(
    "idempotency.same-key-on-retry",
    item=ITEM,
    title="The same key on every retry of an operation",
    needs=tuple(f"retried-deposits.{label}" for label in RETRY_FAULTS),
)
def same_key_on_retry(facts: Facts) -> Verdict:
    retried = 0
    for label in RETRY_FAULTS:
        probe: Probe = facts[f"retried-deposits.{label}"]
        keys = {x.idempotency_key for x in probe.attempts}
        if probe.count < 2 or keys == {None}:
            # no retry (error-handling judges one after a 503, a timeout or a dropped connection), or no key at all
            # (key-on-every-transfer)
            continue
        retried += 1
        if len(keys) != 1 or None in keys:
            return Finding(
                "new-key-per-attempt",
                f"every attempt of one deposit to send the same Idempotency-Key ({label})",
                f"{probe.attempts_text()} with keys {[x.idempotency_key for x in probe.attempts]}",
                SAME_KEY_FIX,
                probe.attempts,
            )
    if not retried:
        return Unjudged("no keyed deposit was retried, so key reuse was not observable")
    return None


# -- exactly once through a storm -------------------------------------------------------------------------------------


@scenario("storm", facts=("operations",), twin_only=True, side_by_side=True)
def _storm(s: Scene) -> None:
    """Three deposits and two withdrawals, each meeting a fault (post-commit timeouts, dropped responses, a 502);
    then the truth from the twin: the resources created with each amount and the ledger movements of each. Each
    attempt comes on a connection of its own (``Harness.fresh_connections``): a dropped response then reaches the
    integration's code, which must retry it with the same key, as it must when a dropped connection was a new one
    (on a reused one Go's ``http.Transport`` resends a keyed POST itself, and a client that gives up on a dropped
    connection would pass)."""
    h = s.h
    investor, bank = h.funded_investor("1000.00")
    timeout = s.thresholds.request_timeout_s
    storm: list[tuple[str, str, Fault]] = [
        ("deposits", "41.00", WithholdAfterFault(seconds=timeout * 3)),
        ("deposits", "42.00", DropAfterFault()),
        ("deposits", "43.00", StatusFault(502)),
        ("withdrawals", "44.00", WithholdAfterFault(seconds=timeout * 3)),
        ("withdrawals", "45.00", DropAfterFault()),
    ]
    probes: list[tuple[str, str, Probe]] = []
    with h.fresh_connections():
        for i, (kind, amount, fault) in enumerate(storm):
            path = DEPOSITS if kind == "deposits" else WITHDRAWALS
            rule = FaultRule(f"storm-{i}", fault, method="POST", path=path, first=1)
            operation = "deposit" if kind == "deposits" else "withdraw"

            def move(integration: Any, operation: str = operation, amount: str = amount) -> Any:
                return getattr(integration, operation)(investor, bank, amount)

            probe = s.probe(f"{operation}()", move, rule, method="POST", path_endswith=f"/{kind}")
            probes.append((kind, amount, probe))
    if not any(probe.attempts for _, _, probe in probes):
        first = probes[0][2].outcome.describe()
        s.missing(
            "operations",
            f"no deposit or withdrawal reached the target during the storm (the first call "
            f"{first}), so exactly-once could not be observed",
        )
        return
    operations = []
    for kind in ("deposits", "withdrawals"):
        created = h.call("GET", f"/investors/{investor}/{kind}", params={"limit": 200})["data"]
        for _, amount, probe in (p for p in probes if p[0] == kind):
            same = [r["id"] for r in created if r["amount"] == amount]
            ledger = {rid: len(h.sandbox("GET", "/ledger", params={"operation_id": rid})["data"]) for rid in same}
            operations.append({"kind": kind[:-1], "amount": amount, "probe": probe, "created": same, "ledger": ledger})
    s.fact("operations", operations)


@judged(
    "idempotency.exactly-once",
    item=ITEM,
    title="Money moves exactly once through a storm of faults",
    needs=("storm.operations",),
    twin_only=True,
)
def exactly_once(facts: Facts) -> Verdict:
    problems: list[tuple[str, str, Fix | str]] = []  # (cause, what, fix)
    reported_failed: list[dict[str, str]] = []
    attempts: list[Exchange] = []
    for op in facts["storm.operations"]:
        probe: Probe = op["probe"]
        outcome: Outcome = probe.outcome
        kind, amount, created = op["kind"], op["amount"], op["created"]
        attempts += probe.attempts
        if len(created) > 1:
            problems.append(
                (
                    "new-key-per-attempt",
                    f"{len(created)} {kind}s of {amount} were created "
                    f"({', '.join(created)}); the retry was processed as a new operation (the call "
                    f"{outcome.describe()})",
                    SAME_KEY_FIX,
                )
            )
        for rid, movements in op["ledger"].items():
            if movements > 1:
                problems.append(("money-moved-twice", f"{movements} ledger movements for {rid}", KEY_FIX))
        if created and outcome.kind == "raised":
            # the caller was told "failed": it will resubmit, and that moves the money a second time
            reported_failed.append({"kind": kind, "amount": amount, "id": created[0], "reported": outcome.describe()})
            cause = "no-retries" if probe.count == 1 else "gives-up-too-soon"
            problems.append(
                (
                    cause,
                    f"the {kind} of {amount} ({created[0]}) was committed at the target but reported "
                    f"as a failure: the call {outcome.describe()}",
                    "after a timeout or a dropped connection, retry with the same Idempotency-Key until the "
                    "target answers (it replays the committed result); never report an operation as failed "
                    "without knowing",
                )
            )
    if not problems:
        return None
    fixes = list(dict.fromkeys(fix.text if isinstance(fix, Fix) else fix for _, _, fix in problems))
    return Finding(
        problems[0][0],
        "each deposit and withdrawal of the storm moved money exactly once (one resource, one ledger movement) and "
        "was reported to the caller as it ended at the target",
        "; ".join(what for _, what, _ in problems),
        "; ".join(fixes),
        attempts,
        {"reported_as_failed": reported_failed},
    )


# -- orders (advisory) -----------------------------------------------------------------------------------------------


@scenario("order", facts=("placed",))
def _order(s: Scene) -> None:
    investor, _ = s.h.funded_investor()
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    s.fact(
        "placed",
        s.probe("place_order()", lambda i: i.place_order(investor, order), method="POST", path_endswith="/orders"),
    )


@judged(
    "idempotency.orders-keyed",
    item=ITEM,
    title="Orders carry an Idempotency-Key (recommended)",
    needs=("order.placed",),
    severity=Severity.ADVISORY,
)
def orders_keyed(facts: Facts) -> Verdict:
    probe: Probe = facts["order.placed"]
    if all(x.idempotency_key for x in probe.attempts):
        return None
    return Finding(
        "orders-unkeyed",
        "an Idempotency-Key on order placement (Bluum recommends it)",
        "orders are placed without one: a retried order could buy twice",
        "send an Idempotency-Key (or a unique client_order_id) with every order",
        probe.attempts,
    )
