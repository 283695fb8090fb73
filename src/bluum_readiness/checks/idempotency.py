"""Checks of the ``idempotency`` item: keys on every money movement, fresh, unguessable, reused on retries,
and money moved exactly once through a storm of faults."""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from bluum_readiness.checks._support import DEPOSITS, WITHDRAWALS, Call, require_traffic
from bluum_readiness.checks.registry import check
from bluum_readiness.failures import ConformanceFailure, NotVerifiable, Severity
from bluum_readiness.proxy.faults import DropAfterFault, Fault, StatusFault, WithholdAfterFault
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

ITEM = "idempotency"
KEY_FIX = "generate one random key (e.g. uuid4) per logical deposit/withdrawal and send it as Idempotency-Key"


def _fail(expected: str, observed: str, fix: str, exchanges: list[Exchange], **kw: object) -> None:
    raise ConformanceFailure(
        expected=expected,
        observed=observed,
        fix=fix,
        evidence={"exchanges": [x.to_dict() for x in exchanges]},
        **kw,  # type: ignore[arg-type]
    )


def _posts(h: Harness, mark: int, kind: str) -> list[Exchange]:
    return h.exchanges_since(mark, method="POST", path_endswith=f"/{kind}")


@check("idempotency.key-on-every-transfer", item=ITEM, title="Every deposit and withdrawal carries an Idempotency-Key")
def key_on_every_transfer(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    for kind, operation in (
        ("deposits", lambda: integration.deposit(investor, bank, "25.00")),
        ("withdrawals", lambda: integration.withdraw(investor, bank, "5.00")),
    ):
        mark = h.mark()
        outcome = h.invoke(operation)
        posts = _posts(h, mark, kind)
        require_traffic(posts, outcome, f"{kind[:-1]}()")
        if not posts:
            raise ConformanceFailure(
                expected=f"a POST …/{kind}", observed=f"no request; the operation {outcome.describe()}",
            )  # fmt: skip
        missing = [x for x in posts if not x.idempotency_key]
        if missing:
            _fail(
                f"an Idempotency-Key header on every POST …/{kind}",
                f"{len(missing)} of {len(posts)} POST …/{kind} had none (the operation {outcome.describe()})",
                KEY_FIX,
                posts,
            )


@check("idempotency.fresh-key-per-operation", item=ITEM, title="A new key for each logical operation")
def fresh_key_per_operation(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    mark = h.mark()
    for amount in ("11.00", "12.00", "13.00"):
        h.invoke(lambda amount=amount: integration.deposit(investor, bank, amount))  # type: ignore[misc]
    posts = [x for x in _posts(h, mark, "deposits") if x.idempotency_key]
    keys = [x.idempotency_key for x in posts]
    if len(posts) < 3:
        raise NotVerifiable("fewer than three keyed deposits were sent, so key reuse cannot be judged")
    if len(set(keys)) < len(keys):
        _fail(
            "three deposits with three different Idempotency-Keys",
            f"keys {keys} (a key was reused: the second deposit would replay the first and move no money)",
            KEY_FIX,
            posts,
        )


def guessable(keys: list[str], now: float | None = None) -> str | None:
    """Why these keys are guessable (a counter, a timestamp, too short), or None when they look random."""
    short = [k for k in keys if len(k) < 16]
    if short:
        return f"keys as short as {len(min(short, key=len))} characters ({short[0]!r}); use at least 16 random ones"
    if len({re.sub(r"\d+", "#", k) for k in keys}) == 1:  # the keys differ only in their digits
        clock = now if now is not None else time.time()
        runs = [int(run) for k in keys for run in re.findall(r"\d{9,}", k)]
        if any(abs(n - clock * scale) < 86400 * scale for n in runs for scale in (1, 1e3, 1e6, 1e9)):
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


@check("idempotency.unguessable-keys", item=ITEM, title="Keys are random (not counters or timestamps)")
def unguessable_keys(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    mark = h.mark()
    for amount in ("21.00", "22.00", "23.00", "24.00"):
        h.invoke(lambda amount=amount: integration.deposit(investor, bank, amount))  # type: ignore[misc]
    posts = [x for x in _posts(h, mark, "deposits") if x.idempotency_key]
    keys = [str(x.idempotency_key) for x in posts]
    if len(set(keys)) < 2:
        raise NotVerifiable("fewer than two distinct keys were observed; see idempotency.fresh-key-per-operation")
    reason = guessable(keys)
    if reason:
        _fail("random Idempotency-Keys (e.g. uuid4)", reason, KEY_FIX, posts)


@check("idempotency.same-key-on-retry", item=ITEM, title="The same key on every retry of an operation")
def same_key_on_retry(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    timeout = h.thresholds.request_timeout_s
    faults: dict[str, Fault] = {
        "503 before the target saw it": StatusFault(503),
        "timeout after the target committed": WithholdAfterFault(seconds=timeout * 3),
        "connection dropped after the target committed": DropAfterFault(),
    }
    retried = 0
    for label, fault in faults.items():
        rule = FaultRule(f"retry-{fault.__class__.__name__}", fault, method="POST", path=DEPOSITS, first=1)
        mark = h.mark()
        with h.faults(rule):
            outcome = h.invoke(lambda: integration.deposit(investor, bank, "31.00"))
        posts = _posts(h, mark, "deposits")
        require_traffic(posts, outcome, "deposit()")
        if len(posts) < 2:
            continue  # no retry happened; error-handling judges that
        keys = {x.idempotency_key for x in posts}
        if keys == {None}:
            continue  # no key at all: idempotency.key-on-every-transfer judges that
        retried += 1
        if len(keys) != 1 or None in keys:
            _fail(
                f"every attempt of one deposit to send the same Idempotency-Key ({label})",
                f"{len(posts)} attempts with keys {[x.idempotency_key for x in posts]}",
                "create the key once per logical operation, before the first attempt, and reuse it on retries",
                posts,
            )
    if not retried:
        raise NotVerifiable("no keyed deposit was retried, so key reuse was not observable")


@check("idempotency.exactly-once", item=ITEM, title="Money moves exactly once through a storm of faults",
       twin_only=True)  # fmt: skip
def exactly_once(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor("1000.00")
    timeout = h.thresholds.request_timeout_s
    storm: list[tuple[str, str, Fault]] = [
        ("deposits", "41.00", WithholdAfterFault(seconds=timeout * 3)),
        ("deposits", "42.00", DropAfterFault()),
        ("deposits", "43.00", StatusFault(502)),
        ("withdrawals", "44.00", WithholdAfterFault(seconds=timeout * 3)),
        ("withdrawals", "45.00", DropAfterFault()),
    ]
    outcomes: list[tuple[str, str, Call]] = []
    mark = h.mark()
    for i, (kind, amount, fault) in enumerate(storm):
        path = DEPOSITS if kind == "deposits" else WITHDRAWALS
        rule = FaultRule(f"storm-{i}", fault, method="POST", path=path, first=1)
        operation = integration.deposit if kind == "deposits" else integration.withdraw
        with h.faults(rule):
            outcomes.append((kind, amount, h.invoke(lambda op=operation, a=amount: op(investor, bank, a))))  # type: ignore[misc]
    exchanges = h.exchanges_since(mark, method="POST")
    if not any(o.ok for _, _, o in outcomes) and not exchanges:
        raise NotVerifiable(
            "no deposit or withdrawal reached the target during the storm "
            f"(the first call {outcomes[0][2].describe()}), so exactly-once could not be observed"
        )
    problems: list[str] = []
    fixes: list[str] = []
    reported_failed: list[dict[str, str]] = []
    for kind in ("deposits", "withdrawals"):
        created = h.call("GET", f"/investors/{investor}/{kind}", params={"limit": 200})["data"]
        for _, amount, outcome in (o for o in outcomes if o[0] == kind):
            same = [r for r in created if r["amount"] == amount]
            if len(same) > 1:
                problems.append(
                    f"{len(same)} {kind} of {amount} were created ({', '.join(r['id'] for r in same)}); the retry "
                    f"was processed as a new operation (the call {outcome.describe()})"
                )
                fixes.append("send the same Idempotency-Key on every retry so the target replays instead of moving "
                             "money again")  # fmt: skip
            for resource in same:
                entries = h.sandbox("GET", "/ledger", params={"operation_id": resource["id"]})["data"]
                if len(entries) > 1:
                    problems.append(f"{len(entries)} ledger movements for {resource['id']}")
                    fixes.append(KEY_FIX)
            if same and outcome.error is not None:
                # the caller was told "failed": it will resubmit, and that moves the money a second time
                reported_failed.append({"kind": kind[:-1], "amount": amount, "id": same[0]["id"],
                                        "reported": outcome.describe()})  # fmt: skip
                problems.append(
                    f"the {kind[:-1]} of {amount} ({same[0]['id']}) was committed at the target but reported as a "
                    f"failure: the call {outcome.describe()}"
                )
                fixes.append(
                    "after a timeout or a dropped connection, retry with the same Idempotency-Key until the target "
                    "answers (it replays the committed result); never report an operation as failed without knowing"
                )
    if problems:
        raise ConformanceFailure(
            expected="each deposit and withdrawal of the storm moved money exactly once (one resource, one ledger "
            "movement) and was reported to the caller as it ended at the target",
            observed="; ".join(problems),
            fix="; ".join(dict.fromkeys(fixes)),
            evidence={"exchanges": [x.to_dict() for x in exchanges], "reported_as_failed": reported_failed},
        )


@check("idempotency.orders-keyed", item=ITEM, title="Orders carry an Idempotency-Key (recommended)",
       severity=Severity.ADVISORY)  # fmt: skip
def orders_keyed(h: Harness) -> None:
    integration = h.integration()
    investor, _ = h.funded_investor()
    mark = h.mark()
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    outcome = h.invoke(lambda: integration.place_order(investor, order))
    posts = h.exchanges_since(mark, method="POST", path_endswith="/orders")
    require_traffic(posts, outcome, "place_order()")
    if not posts:
        raise NotVerifiable(f"place_order() sent no order ({outcome.describe()}), so its key could not be observed")
    if not all(x.idempotency_key for x in posts):
        raise ConformanceFailure(
            expected="an Idempotency-Key on order placement (Bluum recommends it)",
            observed="orders are placed without one: a retried order could buy twice",
            fix="send an Idempotency-Key (or a unique client_order_id) with every order",
            evidence={"exchanges": [x.to_dict() for x in posts]},
        )  # fmt: skip
