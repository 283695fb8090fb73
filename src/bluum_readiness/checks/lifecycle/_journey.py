"""The journey recorder both journeys share (``full_journey``, ``webhook_events``): runs each step through the
integration, records it as data, and stops at the first step whose record shows a defect (``step_finding``, the
rule the judge applies) or a failure of the target itself (``target_failure``: not the integration's to answer
for)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks._support import PREFIXES, is_id, refusal_cause
from bluum_readiness.checks.judge import Finding
from bluum_readiness.checks.lifecycle._shared import TRANSFER_DONE, to_decimal
from bluum_readiness.checks.observation import Outcome
from bluum_readiness.harness import SLOW_TARGET, TARGET_FAILED, json_like, poll

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

STALE_FIX = "return the target's current state on every read (no stale cache)"
CANCEL_FIX = "send POST …/orders/{id}/cancel and raise if Bluum refuses it"


class Stop(Exception):
    """The journey cannot go on: its last step's record shows why (``step_finding`` or ``target_failure``)."""


TRAIL = ("id", "status", "symbol", "quantity", "balance")


class Journey:
    """Runs the journey's steps through the integration and records each as data (``records``): what the operation
    did, what a poll last read, what the target shows. A step whose record shows a defect (``step_finding``, the
    rule the judge applies) ends the journey (``Stop``): what follows it could not run."""

    def __init__(self, h: Harness, integration: Any) -> None:
        self.h = h
        self.integration = integration
        self.timeout = h.thresholds.settle_timeout_s
        self.records: list[dict[str, Any]] = []
        self.skipped: list[str] = []

    def note(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if target_failure(record) is not None or step_finding(record) is not None:
            raise Stop()

    def run(self, step: str, operation: Callable[[], Any]) -> Any:
        mark = self.h.mark()
        outcome = self.h.invoke(operation, timeout=self.timeout + 15)
        if not outcome.ok:
            # what the target answered the step's requests (the journey injects no fault: every answer is its own)
            answers = [x for x in self.h.proxy.exchanges()[mark:] if x.status is not None]
            answered = [{"status": x.status, "request_id": x.request_id} for x in answers]
            self.note({"step": step, "kind": "ran", "outcome": Outcome.of(outcome), "answered": answered})
        return outcome.result

    def create(self, step: str, operation: str, run: Callable[[], Any]) -> str:
        """Run a creating operation; its result must be an id with the documented prefix."""
        value = self.run(step, run)
        self.note({"step": step, "kind": "created", "operation": operation, "id": plain_value(value)})
        assert isinstance(value, str)
        return value

    def wait_order(self, investor: str, step: str, order_id: str, status: str, *, cancel: bool = False) -> None:
        """Poll ``get_order`` through the integration until the order has ``status``."""
        statuses = ("cancelled", "canceled") if status == "cancelled" else (status,)
        self.poll_integration(
            step,
            f"order {order_id} to be '{status}'",
            lambda: self.integration.get_order(investor, order_id),
            lambda o: status_of(o) in statuses,
            target=(f"/investors/{investor}/orders/{order_id}", statuses),
            cancel=cancel,
            id=order_id,
            status=status,
        )

    def poll_integration(
        self,
        step: str,
        what: str,
        probe: Callable[[], Any],
        done: Callable[[Any], bool],
        *,
        target: tuple[str, Sequence[str]],
        cancel: bool = False,
        **trail: Any,
    ) -> Any:
        """Poll an integration read (``kyc_status``, ``get_order``) until ``done``: what it last read. When it never
        got there, what the target itself shows (``target``: the resource's path and the statuses that count) says
        whose it is: a stale read of the integration's, or a target slower than the wait (``target_failure``)."""
        last: Any = None

        def read() -> Any:
            nonlocal last
            last = self.run(step, probe)
            return last

        result = poll(read, done, self.timeout, self.h.poll_interval)
        reached = bool(done(result))
        record = {
            "step": step,
            "kind": "polled",
            "what": what,
            "reached": reached,
            "last": plain_value(order_summary(last)),
            "timeout_s": self.timeout,
            "cancel": cancel,
            **trail,
        }
        if not reached:
            path, statuses = target
            record["target_status"] = self.h.call("GET", path).get("status")
            record["target_reached"] = record["target_status"] in statuses
        self.note(record)
        return result

    def poll_target(self, step: str, path: str, want: str, *, resource_id: str) -> dict[str, Any]:
        """Poll a transfer at the target (the suite's own client) until it is done; it must be ``want``."""
        resource: dict[str, Any] = poll(
            lambda: self.h.call("GET", path),
            lambda r: r.get("status") in TRANSFER_DONE,
            self.timeout,
            self.h.poll_interval,
        )
        self.note(
            {
                "step": step,
                "kind": "settled",
                "id": resource_id,
                "want": want,
                "status": resource.get("status"),
                "failure_reason": resource.get("failure_reason"),
                "timeout_s": self.timeout,
            }
        )
        return resource


def plain_value(value: Any) -> Any:
    """A value the integration returned, as a fact: itself when JSON-like, else its repr."""
    return value if json_like(value) else repr(value)


def order_summary(value: Any) -> Any:
    """An order as the journey's record shows it: its id, status and fill; any other value as it is."""
    if isinstance(value, dict):
        return {k: value.get(k) for k in ("id", "status", "filled_quantity", "average_price") if k in value}
    return value


def status_of(order: Any) -> Any:
    """An order's status, or None when the integration returned no order."""
    return order.get("status") if isinstance(order, dict) else None


def target_failure(record: Mapping[str, Any]) -> str | None:
    """Why a step that failed is the target's doing, not the integration's, or None: the target itself answered its
    last request with a 5xx — the journey injects no fault, so that is an outage of the target (Bluum's sandbox
    down or failing), and the integration surfacing it is right — or the target itself had not reached the state a
    step waits for when the wait ran out (a target slower than ``[thresholds] settle_timeout_s``)."""
    if record["kind"] == "polled" and record.get("target_reached") is False:
        return (
            f"step '{record['step']}': after {record['timeout_s']:g} s the target itself showed "
            f"{record['target_status']!r}, so the integration reporting {record['last']!r} was right; {SLOW_TARGET}"
        )
    if record["kind"] == "settled" and record["status"] not in TRANSFER_DONE:
        return (
            f"step '{record['step']}': after {record.get('timeout_s', 0):g} s the target still showed {record['id']} "
            f"{record['status']!r}; {SLOW_TARGET}"
        )
    answered = (record.get("answered") or []) if record["kind"] == "ran" else []
    if not answered or answered[-1]["status"] < 500:
        return None
    last = answered[-1]
    attempts = f"{len(answered)} answered attempt{'s' if len(answered) != 1 else ''}"
    return (
        f"step '{record['step']}': the target itself answered {last['status']} (request {last['request_id']}) to the "
        f"last of {attempts}; the journey injects no fault, so this is {TARGET_FAILED}"
    )


def step_finding(record: Mapping[str, Any]) -> Finding | None:
    """What one step of the journey shows wrong, or None: the rule the journey stops on and the judge applies. A step
    the target itself failed (``target_failure``) shows nothing of the integration."""
    if target_failure(record) is not None:
        return None
    step, kind = record["step"], record["kind"]
    if kind == "ran":
        outcome: Outcome = record["outcome"]
        cause = refusal_cause(outcome.error) or ("operation-refused" if outcome.finished else "call-never-returns")
        return Finding(
            cause,
            f"step '{step}': the operation to succeed (nothing in this journey should be refused)",
            f"the call {outcome.describe()}",
            "make the operation send the documented request and return the target's answer",
        )
    if kind == "created":
        operation, value = record["operation"], record["id"]
        if is_id(value, operation):
            return None
        prefix = PREFIXES[operation]
        return Finding(
            "wrong-id-returned",
            f"step '{step}': {operation}() to return the new resource's id, prefixed '{prefix}_'",
            f"it returned {value!r}",
            f"return the 'id' field of Bluum's answer to {operation} (a '{prefix}_…' id), not another field",
            evidence={"returned": repr(value)},
        )
    if kind == "polled":
        if record["reached"]:
            return None
        return Finding(
            "operation-not-performed" if record["cancel"] else "stale-reads",
            f"step '{step}': {record['what']}",
            f"after {record['timeout_s']:g} s the integration still reported {record['last']}",
            CANCEL_FIX if record["cancel"] else STALE_FIX,
            evidence={"last": record["last"]},
        )
    if kind == "settled":
        if record["status"] == record["want"]:
            return None
        return Finding(
            "request-not-as-documented",
            f"step '{step}': {record['id']} to reach '{record['want']}' at the target",
            f"its status is {record['status']!r} (failure_reason {record['failure_reason']!r})",
            "send the documented transfer body (amount, currency, method, funding_source_id)",
            evidence={"status": record["status"]},
        )
    if kind == "bank":
        found, bank = record["found"], record["bank"]
        if found == bank and not record["same_as_plaid"]:
            return None
        return Finding(
            "request-not-as-documented",
            f"step '{step}': a new {bank} funding source (and two distinct ids for the two banks)",
            f"{record['id']} is {'a ' + found + ' source' if found else 'not a funding source of this investor'}"
            f"{' — the same id as the Plaid bank' if record['same_as_plaid'] else ''}",
            "send {'type': 'manual', …} bodies to POST …/funding-sources/connect and return the new source's id",
            evidence={"plaid": record["plaid"], "manual": record["manual"]},
        )
    if kind == "positions":
        bought, quantity = Decimal(record["bought"]), Decimal(record["quantity"])
        if quantity == bought:
            return None
        return Finding(
            "money-moved-twice" if quantity > bought else "stale-reads",
            f"step '{step}': positions() to show {bought} {record['symbol']} (the sum of the filled buy quantities)",
            f"it shows {quantity} {record['symbol']} ({record['rows']} row(s))",
            "place each order exactly once (use an Idempotency-Key) and return GET …/positions as Bluum gives it",
            evidence={"fills": record["fills"], "positions": record["positions"]},
        )
    if kind == "balance":
        if to_decimal(record["balance"]) == Decimal(record["expected"]):
            return None
        return Finding(
            "money-moved-twice",
            f"step '{step}': cash {record['expected']} = deposits {record['deposits']} − buys {record['cost']} − "
            f"withdrawals {record['withdrawals']}",
            f"the wallet's balance is {record['balance']}",
            "move money exactly once per operation: one deposit, one order, one withdrawal per call",
            evidence={"fills": record["fills"], "wallet": record["wallet"]},
        )
    raise ValueError(f"a journey step of an unknown kind: {kind!r}")


def journey_trail(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The journey as the evidence shows it: each step with the ids and statuses it reached."""
    trail = [{"step": r["step"], **{k: r[k] for k in TRAIL if k in r}} for r in records]
    for entry, record in zip(trail, records, strict=True):
        if record["kind"] == "polled" and not record["reached"]:
            entry.pop("status", None)  # the status it waited for, never reached
    if records and step_finding(records[-1]) is not None:
        trail[-1]["outcome"] = "failed"
    elif records and target_failure(records[-1]) is not None:
        trail[-1]["outcome"] = "the target failed"
    return trail
