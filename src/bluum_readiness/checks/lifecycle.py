"""Checks of the ``lifecycle`` item: the whole journey through the team's integration, the error paths, and
money invariants under random sequences of operations.

The integration is driven through the fault proxy (no faults are installed here); the suite's own client
(``h.call``) reads the truth — transfer statuses, wallets, positions — and, in twin mode only, the sandbox
controls move prices, force KYC outcomes and expose the money ledger. Steps that need those controls are
skipped on a real sandbox and the skip is written into the evidence.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks._support import (
    PREFIXES,
    interrupts_kept,
    investor_events,
    is_id,
    refusal_cause,
    twin_deliveries,
)
from bluum_readiness.checks.judge import Facts, Finding, Passed, Unjudged, Verdict, judged
from bluum_readiness.checks.observation import RAISED, Outcome, Probe, Scene, scenario
from bluum_readiness.errors import HarnessError
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import json_like, poll
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

ITEM = "lifecycle"
CENT = Decimal("0.01")
#: The documented id prefix of what each operation returns.
TRANSFER_DONE = frozenset({"completed", "failed", "cancelled", "canceled", "returned", "rejected"})
ORDER_DONE = frozenset({"filled", "cancelled", "canceled", "rejected", "failed", "expired"})
STALE_FIX = "return the target's current state on every read (no stale cache)"
CANCEL_FIX = "send POST …/orders/{id}/cancel and raise if Bluum refuses it"
KYC_DOCUMENT: dict[str, Any] = {
    "document_type": "id_verification",
    "purpose": "KYC",
    "file_name": "passport.pdf",
    "content": b"%PDF-1.4\n% bluum-readiness KYC test document\n",
}


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _order(kind: str, symbol: str, side: str, quantity: str, limit_price: Decimal | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"symbol": symbol, "side": side, "type": kind, "time_in_force": "gtc", "quantity": quantity}
    if limit_price is not None:
        body["limit_price"] = f"{limit_price:.2f}"
    return body


def _price(h: Harness, symbol: str) -> Decimal:
    return _dec(h.call("GET", f"/assets/{symbol}")["price"]).quantize(CENT)


def _wallet(h: Harness, investor: str) -> dict[str, Any]:
    wallets = h.call("GET", f"/investors/{investor}/wallets")["data"]
    if not wallets:
        raise HarnessError(f"investor {investor} has no wallet at the target")
    wallet: dict[str, Any] = wallets[0]
    return wallet


# -- lifecycle.full-journey ----------------------------------------------------------------------------------


class _Stop(Exception):
    """The journey cannot go on: its last step's record shows why (``_step_finding``)."""


TRAIL = ("id", "status", "symbol", "quantity", "balance")


class _Journey:
    """Runs the journey's steps through the integration and records each as data (``records``): what the operation
    did, what a poll last read, what the target shows. A step whose record shows a defect (``_step_finding``, the
    rule the judge applies) ends the journey (``_Stop``): what follows it could not run."""

    def __init__(self, h: Harness, integration: Any) -> None:
        self.h = h
        self.integration = integration
        self.timeout = h.thresholds.settle_timeout_s
        self.records: list[dict[str, Any]] = []
        self.skipped: list[str] = []

    def note(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if _step_finding(record) is not None:
            raise _Stop()

    def run(self, step: str, operation: Callable[[], Any]) -> Any:
        outcome = self.h.invoke(operation, timeout=self.timeout + 15)
        if not outcome.ok:
            self.note({"step": step, "kind": "ran", "outcome": Outcome.of(outcome)})
        return outcome.result

    def create(self, step: str, operation: str, run: Callable[[], Any]) -> str:
        """Run a creating operation; its result must be an id with the documented prefix."""
        value = self.run(step, run)
        self.note({"step": step, "kind": "created", "operation": operation, "id": _plain(value)})
        assert isinstance(value, str)
        return value

    def wait_order(self, investor: str, step: str, order_id: str, status: str, *, cancel: bool = False) -> None:
        """Poll ``get_order`` through the integration until the order has ``status``."""
        statuses = ("cancelled", "canceled") if status == "cancelled" else (status,)
        self.poll_integration(
            step,
            f"order {order_id} to be '{status}'",
            lambda: self.integration.get_order(investor, order_id),
            lambda o: _status(o) in statuses,
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
        cancel: bool = False,
        **trail: Any,
    ) -> Any:
        """Poll an integration read (``kyc_status``, ``get_order``) until ``done``: what it last read."""
        last: Any = None

        def read() -> Any:
            nonlocal last
            last = self.run(step, probe)
            return last

        result = poll(read, done, self.timeout, self.h.poll_interval)
        reached = bool(done(result))
        self.note(
            {
                "step": step,
                "kind": "polled",
                "what": what,
                "reached": reached,
                "last": _plain(_short(last)),
                "timeout_s": self.timeout,
                "cancel": cancel,
                **trail,
            }
        )
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
            }
        )
        return resource


def _plain(value: Any) -> Any:
    """A value the integration returned, as a fact: itself when JSON-like, else its repr."""
    return value if json_like(value) else repr(value)


def _value(order: dict[str, Any]) -> Decimal:
    """What a filled order moved: filled quantity × average price, to the cent."""
    return (_dec(order.get("filled_quantity")) * _dec(order.get("average_price"))).quantize(CENT)


def _short(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: value.get(k) for k in ("id", "status", "filled_quantity", "average_price") if k in value}
    return value


def _status(order: Any) -> Any:
    return order.get("status") if isinstance(order, dict) else None


def _step_finding(record: Mapping[str, Any]) -> Finding | None:
    """What one step of the journey shows wrong, or None: the rule the journey stops on and the judge applies."""
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
        if _dec(record["balance"]) == Decimal(record["expected"]):
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


def _trail(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The journey as the evidence shows it: each step with the ids and statuses it reached."""
    trail = [{"step": r["step"], **{k: r[k] for k in TRAIL if k in r}} for r in records]
    for entry, record in zip(trail, records, strict=True):
        if record["kind"] == "polled" and not record["reached"]:
            entry.pop("status", None)  # the status it waited for, never reached
    if records and _step_finding(records[-1]) is not None:
        trail[-1]["outcome"] = "failed"
    return trail


@scenario("journey", facts=("journey",))
def _full_journey(s: Scene) -> None:
    """The whole journey through the integration, step by step, until its end or the first step that shows a defect
    (what follows could not run): each step's record, and the steps this target cannot run."""
    h = s.h
    j = _Journey(h, s.integration)
    try:
        _journey_steps(h, j)
    except _Stop:
        s.fact("journey", {"steps": j.records, "skipped": j.skipped, "complete": False})
    else:
        s.fact("journey", {"steps": j.records, "skipped": j.skipped, "complete": True})


def _journey_steps(h: Harness, j: _Journey) -> None:
    integration = j.integration
    twin = h.target.twin
    symbol = "MSFT"

    # Investor and KYC. In the twin, last name "Documents" holds KYC until a document is accepted, so the
    # upload is what unlocks the account; on a real sandbox it is an ordinary name.
    profile = investor_profile(last_name="Documents") if twin else investor_profile()
    investor = j.create("create investor", "create_investor", lambda: integration.create_investor(profile))
    j.create("upload KYC document", "upload_document", lambda: integration.upload_document(investor, {**KYC_DOCUMENT}))
    j.poll_integration(
        "KYC approved",
        "kyc_status() to report 'active' once KYC is approved",
        lambda: integration.kyc_status(investor),
        lambda s: s == "active",
        status="active",
    )

    # Banks: one Plaid, one manual; both must be real, distinct funding sources of the right type.
    plaid = j.create(
        "link Plaid bank", "link_bank_account", lambda: integration.link_bank_account(investor, plaid_bank())
    )
    manual = j.create(
        "link manual bank", "link_bank_account", lambda: integration.link_bank_account(investor, manual_bank())
    )
    for step, source_id, kind in (("link Plaid bank", plaid, "plaid"), ("link manual bank", manual, "manual")):
        source = h.call("GET", f"/investors/{investor}/funding-sources/{source_id}", expect=(200, 400, 404))
        found = source.get("type") if isinstance(source, dict) and "id" in source else None
        j.note(
            {
                "step": step,
                "kind": "bank",
                "bank": kind,
                "id": source_id,
                "found": found,
                "plaid": plaid,
                "manual": manual,
                "same_as_plaid": kind == "manual" and manual == plaid,
            }
        )

    # Deposit, settled at the target.
    deposit_amount = Decimal("10000.00")
    dep = j.create("deposit", "deposit", lambda: integration.deposit(investor, plaid, f"{deposit_amount:.2f}"))
    j.poll_target("deposit completes", f"/investors/{investor}/deposits/{dep}", "completed", resource_id=dep)

    # Orders: a market buy fills; a limit buy below the price rests, then (twin) fills when the price crosses.
    price = _price(h, symbol)
    market_body = _order("market", symbol, "buy", "2")
    market = j.create("market buy", "place_order", lambda: integration.place_order(investor, market_body))
    j.wait_order(investor, "market buy fills", market, "filled")
    buys = [market]
    limit_price = (price * Decimal("0.9")).quantize(CENT)
    limit_body = _order("limit", symbol, "buy", "3", limit_price)
    limit = j.create("limit buy", "place_order", lambda: integration.place_order(investor, limit_body))
    j.wait_order(investor, "limit buy rests (below the price)", limit, "open")
    if twin:
        crossed = (price * Decimal("0.85")).quantize(CENT)
        h.sandbox("PUT", f"/prices/{symbol}", json={"price": f"{crossed:.2f}"})
        try:
            j.wait_order(investor, f"limit buy fills once the price crossed {limit_price}", limit, "filled")
        finally:
            h.sandbox("DELETE", f"/prices/{symbol}", expect=(200, 204, 404))
        buys.append(limit)
    else:
        j.skipped.append("limit buy fills when the price crosses: needs the twin's price control (real sandbox)")

    # Cancel a resting order far below the price.
    resting_body = _order("limit", symbol, "buy", "1", Decimal("1.00"))
    resting = j.create("place order to cancel", "place_order", lambda: integration.place_order(investor, resting_body))
    j.wait_order(investor, "order to cancel rests at 1.00", resting, "open")
    j.run("cancel order", lambda: integration.cancel_order(investor, resting))
    j.wait_order(investor, "order cancelled", resting, "cancelled", cancel=True)
    if not twin:  # leave nothing resting on a real sandbox
        h.call("POST", f"/investors/{investor}/orders/{limit}/cancel", json={}, expect=(200, 201, 409))

    # Withdrawal, settled at the target.
    withdrawal_amount = Decimal("1000.00")
    wd = j.create("withdraw", "withdraw", lambda: integration.withdraw(investor, plaid, f"{withdrawal_amount:.2f}"))
    j.poll_target("withdrawal completes", f"/investors/{investor}/withdrawals/{wd}", "completed", resource_id=wd)

    # Positions and money add up (fills as the integration reports them; cash from the target's wallet).
    fills = [
        j.run("read fills", functools.partial(integration.get_order, investor, o))
        for o in dict.fromkeys([*buys, limit])
    ]
    filled = [o for o in fills if isinstance(o, dict) and _status(o) == "filled"]
    bought = sum((_dec(o.get("filled_quantity")) for o in filled), Decimal(0))
    cost = sum((_value(o) for o in filled), Decimal(0))
    held = j.run("positions", lambda: integration.positions(investor))
    rows = [p for p in held or [] if isinstance(p, dict) and p.get("symbol") == symbol]
    quantity = sum((_dec(p.get("quantity")) for p in rows), Decimal(0))
    shown_fills = [_plain(_short(o)) for o in fills]
    j.note(
        {
            "step": "position appears",
            "kind": "positions",
            "symbol": symbol,
            "bought": str(bought),
            "quantity": str(quantity),
            "rows": len(rows),
            "fills": shown_fills,
            "positions": [_plain({k: p.get(k) for k in ("symbol", "quantity")}) for p in rows],
        }
    )
    wallet = _wallet(h, investor)
    j.note(
        {
            "step": "balances add up",
            "kind": "balance",
            "expected": str(deposit_amount - cost - withdrawal_amount),
            "deposits": str(deposit_amount),
            "cost": str(cost),
            "withdrawals": str(withdrawal_amount),
            "balance": wallet.get("balance"),
            "fills": shown_fills,
            "wallet": {k: wallet.get(k) for k in ("balance", "available_balance", "buying_power")},
        }
    )


@judged(
    "lifecycle.full-journey",
    item=ITEM,
    title="A complete journey from new investor to withdrawal",
    needs=("journey.journey",),
)
def full_journey(facts: Facts) -> Verdict:
    journey = facts["journey.journey"]
    records: list[dict[str, Any]] = journey["steps"]
    skipped: list[str] = journey["skipped"]
    trail = _trail(records)
    for record in records:
        finding = _step_finding(record)
        if finding is not None:
            shown = {"failed_step": record["step"], "journey": trail, "skipped": skipped, **finding.evidence}
            return dataclasses.replace(finding, evidence=shown)
    if not journey["complete"]:
        return Unjudged("the journey ended before its last step")
    return Passed({"journey": trail, **({"skipped_steps": skipped} if skipped else {})})


# -- lifecycle.error-paths -----------------------------------------------------------------------------------


_BLUM_CODE = re.compile(r"\bBLUM-(\d{3})-\d{3}\b")


@dataclass(frozen=True)
class _Refusal:
    """Why Bluum refuses one error path: the status and the codes of that reason (Bluum's catalogue, §2.2 of
    the API research; the twin's is ``twin/errors.py``). ``local`` says a local validation error — raised before
    anything was sent — counts too (bad input the integration can see for itself)."""

    status: int
    codes: tuple[str, ...]
    reason: str
    local: bool = False

    def __str__(self) -> str:
        return f"{self.status} {' or '.join(self.codes)} ({self.reason})"


NO_BUYING_POWER = _Refusal(422, ("BLUM-422-001",), "insufficient funds")
NO_CASH = _Refusal(422, ("BLUM-422-001", "BLUM-422-005"), "insufficient funds or withdrawal limit")
UNKNOWN_SYMBOL = _Refusal(404, ("BLUM-404-003",), "asset not found")
NOT_TRADABLE = _Refusal(422, ("BLUM-422-003",), "asset not tradable")
BAD_AMOUNT = _Refusal(400, ("BLUM-400-005", "BLUM-400-003", "BLUM-400-001"), "invalid amount", local=True)
NOT_APPROVED = _Refusal(403, ("BLUM-403-002", "BLUM-403-004"), "account not approved")


@dataclass(frozen=True)
class _Refused:
    """What an operation was refused with: from its exception (``describe_failure``: ``code``, ``status`` or
    ``status_code``, else a BLUM code in its message), else from the proxy's record of the operation's
    exchanges (the last status ≥ 400; the recorder keeps no bodies, so no code)."""

    status: int | None
    code: str | None
    source: str

    @classmethod
    def read(cls, info: Mapping[str, Any], exchanges: Sequence[Exchange]) -> _Refused:
        """``info``: what the suite read from the operation's exception (``describe_failure``)."""
        code = info.get("code") if isinstance(info.get("code"), str) else None
        found = _BLUM_CODE.search(code or "") or _BLUM_CODE.search(str(info.get("message", "")))
        code = found.group(0) if found else None
        status = next(
            (
                v
                for v in (info.get("status"), info.get("status_code"))
                if isinstance(v, int) and not isinstance(v, bool)
            ),
            None,
        )
        if status is None and found:
            status = int(found.group(1))
        if code is not None or status is not None:
            return cls(status, code, "its exception")
        refused = [x.status for x in exchanges if x.status is not None and x.status >= 400]
        if refused:
            return cls(refused[-1], None, "the proxy's record (its exception carries no code or status)")
        return cls(None, None, "")

    def matches(self, expected: _Refusal) -> bool:
        if self.code is not None:
            return self.code in expected.codes
        return self.status == expected.status

    def __str__(self) -> str:
        return " ".join(str(part) for part in (self.status, self.code) if part is not None)


def _judge_refusal(outcome: Outcome, exchanges: Sequence[Exchange], expected: _Refusal) -> tuple[bool, str]:
    """(refused for the reason the path provokes, what happened) for one error path."""
    if outcome.kind != RAISED or outcome.error is None:
        return False, outcome.describe()
    raised = outcome.describe()
    refused = _Refused.read(outcome.error, exchanges)
    if refused.status is not None:
        if refused.matches(expected):
            return True, raised
        return False, f"refused with {refused} instead of {expected} (read from {refused.source}); the call {raised}"
    if not exchanges:
        if expected.local:
            return True, f"{raised} (a local validation error: nothing was sent)"
        return False, f"{raised} without asking Bluum (nothing was sent), so it was not refused for {expected}"
    answered = ", ".join(str(x.status) if x.status is not None else x.outcome for x in exchanges)
    return False, f"{raised}, but Bluum refused none of its requests (answered {answered}), not {expected}"


@scenario("error-paths", facts=("paths", "unverifiable"))
def _error_paths(s: Scene) -> None:
    """Every error path the journey can meet, provoked through the integration: what each operation did and the
    exchanges it made, with the refusal the path provokes; the paths this target cannot provoke, and why."""
    h = s.h
    integration = s.integration
    twin = h.target.twin
    timeout = h.thresholds.settle_timeout_s + 15
    paths: list[dict[str, Any]] = []
    unverifiable: list[str] = []

    def must_raise(path: str, expected: _Refusal, operation: Callable[[], Any]) -> None:
        mark = h.mark()
        outcome = h.invoke(operation, timeout=timeout)
        attempts = tuple(h.exchanges_since(mark))
        probe = Probe(path, Outcome.of(outcome), attempts)
        paths.append({"path": path, "expected": dataclasses.asdict(expected), "probe": probe})

    def twin_only(path: str) -> bool:
        if not twin:
            unverifiable.append(f"{path}: needs the twin's sandbox controls or test values (real sandbox)")
        return twin

    buy_one = _order("market", "AAPL", "buy", "1")
    investor, bank = h.funded_investor("1000.00")
    price = _price(h, "AAPL")
    too_many = str(int(Decimal("1000.00") / price * 10) + 1)
    must_raise(
        "insufficient buying power",
        NO_BUYING_POWER,
        lambda: integration.place_order(investor, _order("market", "AAPL", "buy", too_many)),
    )
    must_raise("withdrawal above the balance", NO_CASH, lambda: integration.withdraw(investor, bank, "1000000.00"))
    must_raise(
        "unknown symbol", UNKNOWN_SYMBOL, lambda: integration.place_order(investor, {**buy_one, "symbol": "ZZZZZ"})
    )
    if twin_only("non-tradable symbol"):
        must_raise(
            "non-tradable symbol",
            NOT_TRADABLE,
            lambda: integration.place_order(investor, {**buy_one, "symbol": "TWTR"}),
        )
    must_raise("invalid amount '-5' (deposit)", BAD_AMOUNT, lambda: integration.deposit(investor, bank, "-5"))
    must_raise("invalid amount 'abc' (deposit)", BAD_AMOUNT, lambda: integration.deposit(investor, bank, "abc"))
    must_raise("invalid amount '-5' (withdrawal)", BAD_AMOUNT, lambda: integration.withdraw(investor, bank, "-5"))

    # Trading before funds settle: the only money is a manual bank transfer still pending at the target.
    unsettled = h.active_investor()
    manual = h.call("POST", f"/investors/{unsettled}/funding-sources/connect", json=manual_bank())
    manual_id = manual["id"] if "id" in manual else manual["data"][0]["id"]
    body = {"amount": "5000.00", "currency": "USD", "method": "manual_bank_transfer", "funding_source_id": manual_id}
    pending = h.call(
        "POST",
        f"/investors/{unsettled}/deposits",
        json=body,
        headers={"Idempotency-Key": f"suite-{h.rng.getrandbits(128):032x}"},
    )
    must_raise("trading before funds settle", NO_BUYING_POWER, lambda: integration.place_order(unsettled, buy_one))
    status = h.call("GET", f"/investors/{unsettled}/deposits/{pending['id']}")["status"]
    if status != "pending":
        paths.pop()
        unverifiable.append(f"trading before funds settle: the manual deposit was {status!r}, not pending")
    elif not twin:
        h.call("POST", f"/investors/{unsettled}/deposits/{pending['id']}/cancel", json={}, expect=(200, 201, 409))

    # KYC declined (twin test value tax_id 999-99-9999): reported as such, and trading refused.
    if twin_only("KYC rejected"):
        outcome = h.invoke(lambda: integration.create_investor(investor_profile(tax_id="999-99-9999")), timeout=timeout)
        declined = outcome.result if outcome.ok and isinstance(outcome.result, str) else None
        if declined is None:
            paths.append({"path": "KYC rejected", "created": f"create_investor() {outcome.describe()}"})
        else:
            last = poll(
                lambda: h.invoke(lambda: integration.kyc_status(declined)).result,
                lambda s: s == "declined",
                h.thresholds.settle_timeout_s,
            )
            paths.append({"path": "KYC rejected (status)", "reported": last if json_like(last) else repr(last)})
            must_raise("KYC rejected (order)", NOT_APPROVED, lambda: integration.place_order(declined, buy_one))

    # Trading before KYC approval: the funded investor is put back under review (twin control).
    if twin_only("trading before KYC approval"):
        h.sandbox("POST", f"/investors/{investor}/kyc", json={"status": "under_review"})
        must_raise("trading before KYC approval", NOT_APPROVED, lambda: integration.place_order(investor, buy_one))
    s.fact("paths", paths)
    s.fact("unverifiable", unverifiable)


def _path_result(path: dict[str, Any]) -> dict[str, Any]:
    """One error path judged: surfaced (refused for its reason), what happened, and the cause it shows."""
    if "created" in path:
        return {"path": path["path"], "surfaced": False, "observed": path["created"]}
    if "reported" in path:
        reported = path["reported"]
        return {
            "path": path["path"],
            "surfaced": reported == "declined",
            "observed": f"kyc_status() reported {reported!r}",
        }
    expected = _Refusal(
        path["expected"]["status"],
        tuple(path["expected"]["codes"]),
        path["expected"]["reason"],
        path["expected"]["local"],
    )
    probe: Probe = path["probe"]
    surfaced, observed = _judge_refusal(probe.outcome, probe.attempts, expected)
    return {
        "path": path["path"],
        "surfaced": surfaced,
        "expected": str(expected),
        "observed": observed,
        "cause": _refusal_shows(probe),
    }


def _refusal_shows(probe: Probe) -> str:
    """The cause one error path shows: the refusal's own (``refusal_cause``), or ``failure-swallowed`` when the
    operation returned although Bluum refused one of its requests (a 4xx it turned into a value)."""
    if probe.outcome.ok:
        refused = any(x.status is not None and 400 <= x.status < 500 for x in probe.attempts)
        return "failure-swallowed" if refused else ""
    return refusal_cause(probe.outcome.error)


@judged(
    "lifecycle.error-paths",
    item=ITEM,
    title="Refusals surface as errors, each for the reason it provokes",
    needs=("error-paths.paths", "error-paths.unverifiable"),
)
def error_paths(facts: Facts) -> Verdict:
    results = [_path_result(path) for path in facts["error-paths.paths"]]
    unverifiable: list[str] = facts["error-paths.unverifiable"]
    evidence = {"error_paths": results, **({"not_verifiable": unverifiable} if unverifiable else {})}
    silent = [r for r in results if not r["surfaced"]]
    if not silent:
        return Passed(evidence)
    causes = {r.get("cause", "") for r in silent}
    return Finding(
        causes.pop() if len(causes) == 1 else "",
        "every refusal by Bluum to surface to the caller as an exception (or, for bad input, a local validation "
        "error), refused for the reason the path provokes (its status and BLUM code)",
        "; ".join(f"{r['path']}: {r['observed']}" for r in silent),
        "send each request as documented (e.g. an Idempotency-Key on every deposit and withdrawal) so Bluum judges "
        "what was asked, and raise on every 4xx with Bluum's code, status and X-Request-Id; never return an empty or "
        'default value in its place (None, null, nil, "")',
        evidence={"paths": results, "not_verifiable": unverifiable},
    )


# -- lifecycle.money-invariants ------------------------------------------------------------------------------

KINDS = ("deposit", "buy", "buy", "sell", "sell", "limit", "cancel", "withdraw")  # trades weighted up
SYMBOLS = ("INTC", "BAC")  # cheap, so random sequences can afford several buys
Step = tuple[str, str, int, int]  # kind, symbol, quantity, amount in units of 25 USD
ORDER_FIELDS = ("id", "side", "symbol", "status", "filled_quantity", "average_price")


class _Broken(Exception):
    """A step broke an invariant (or never returned): the random sequences stop there."""


class _Money:
    """One random sequence through the integration, recording after each step (transfers and orders settled) the
    money as the twin holds it (``state``); it stops at the first step whose state breaks an invariant
    (``_violations``, the rule the judge applies) or whose call never returned."""

    def __init__(self, h: Harness, integration: Any) -> None:
        self.h = h
        self.integration = integration
        self.investor = h.active_investor()
        self.bank = h.linked_bank(self.investor)
        self.reported: dict[str, str] = {}  # id the integration returned -> step kind
        self.record: dict[str, Any] = {"investor_id": self.investor, "steps": []}

    def path(self, tail: str = "") -> str:
        return f"/investors/{self.investor}{tail}"

    def run(self, steps: list[Step]) -> None:
        for step in steps:
            made = self.apply(step)
            self.record["steps"].append(made)
            if not made["finished"]:
                raise _Broken()
            self.settle()
            made["state"] = self.state()
            if _violations(made["state"], _reported(self.record["steps"])):
                raise _Broken()

    def apply(self, step: Step) -> dict[str, Any]:
        kind, symbol, quantity, units = step
        amount = f"{units * 25}.00"
        inv, bank, integration = self.investor, self.bank, self.integration
        operation: Callable[[], Any]
        if kind == "deposit":
            operation, what = (lambda: integration.deposit(inv, bank, amount)), f"deposit {amount}"
        elif kind == "withdraw":
            operation, what = (lambda: integration.withdraw(inv, bank, amount)), f"withdraw {amount}"
        elif kind == "buy":
            body = _order("market", symbol, "buy", str(quantity))
            operation, what = (lambda: integration.place_order(inv, body)), f"market buy {quantity} {symbol}"
        elif kind == "sell":
            # Sell part of what is held (of this symbol, else of any), so a duplicated sell would still execute.
            positions = self.positions()
            symbol = symbol if symbol in positions else next(iter(sorted(positions)), symbol)
            held = positions.get(symbol, Decimal(0))
            qty = max(Decimal(1), min(Decimal(quantity), held // 2)) if held else Decimal(quantity)
            body = _order("market", symbol, "sell", str(qty))
            operation, what = (lambda: integration.place_order(inv, body)), f"market sell {qty} {symbol}"
        elif kind == "limit":
            below = (_price(self.h, symbol) * Decimal("0.5")).quantize(CENT)
            body = _order("limit", symbol, "buy", str(quantity), below)
            operation, what = (lambda: integration.place_order(inv, body)), f"limit buy {quantity} {symbol} @ {below}"
        else:
            open_orders = [o["id"] for o in self.orders() if o.get("status") == "open" and o["id"] in self.reported]
            if not open_orders:
                return {"step": "cancel (no open order: skipped)", "finished": True, "returned": None}
            target = open_orders[quantity % len(open_orders)]
            operation, what = (lambda: integration.cancel_order(inv, target)), f"cancel {target}"
        outcome = self.h.invoke(operation, timeout=self.h.thresholds.settle_timeout_s + 15)
        # A refusal is fine here when it raises; a silent one (None, no money moved) is lifecycle.error-paths'.
        returned = outcome.result if outcome.ok and isinstance(outcome.result, str) and kind != "cancel" else None
        if returned is not None:
            self.reported[returned] = kind
        return {"step": what, "finished": outcome.finished, "outcome": outcome.describe(), "returned": returned}

    # -- the truth, from the suite's own client ---------------------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.h.call("GET", self.path("/orders"), params={"limit": 200})["data"]
        return found

    def transfers(self, kind: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.h.call("GET", self.path(f"/{kind}"), params={"limit": 200})["data"]
        return found

    def positions(self) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for row in self.h.call("GET", self.path("/positions"))["data"]:
            held[row["symbol"]] = held.get(row["symbol"], Decimal(0)) + _dec(row["quantity"])
        return {symbol: q for symbol, q in held.items() if q}

    def settle(self) -> None:
        def settled() -> bool:
            busy = [
                t
                for kind in ("deposits", "withdrawals")
                for t in self.transfers(kind)
                if t.get("status") not in TRANSFER_DONE
            ]
            return not busy and all(o.get("status") in ORDER_DONE | {"open"} for o in self.orders())

        if not poll(settled, bool, self.h.thresholds.settle_timeout_s, self.h.poll_interval):
            raise HarnessError("the twin did not settle transfers and orders in time")

    def state(self) -> dict[str, Any]:
        """The money as the twin holds it: its ledger for the investor, the wallet, the completed transfers, the
        orders and the positions."""
        ledger = self.h.sandbox("GET", "/ledger", params={"investor_id": self.investor})["data"]
        wallet = _wallet(self.h, self.investor)
        return {
            "ledger": [{k: e[k] for k in ("operation_id", "kind", "amount")} for e in ledger],
            "wallet": {k: wallet.get(k) for k in ("balance", "available_balance")},
            "completed": [
                {"kind": kind, "amount": t["amount"]}
                for kind in ("deposits", "withdrawals")
                for t in self.transfers(kind)
                if t["status"] == "completed"
            ],
            "orders": [{k: o.get(k) for k in ORDER_FIELDS} for o in self.orders()],
            "positions": {symbol: str(q) for symbol, q in sorted(self.positions().items())},
        }


def _reported(steps: Sequence[Mapping[str, Any]]) -> set[str]:
    return {step["returned"] for step in steps if step.get("returned")}


def _violations(state: Mapping[str, Any], reported: set[str]) -> list[str]:
    """The money invariants ``state`` breaks: ledger sum = wallet balance, no negative money, each operation in the
    ledger at most once, completed transfers ± fills = the ledger, positions = the fills of the target's orders and
    of the orders the integration placed (``reported``: the ids it returned)."""
    ledger, orders = state["ledger"], state["orders"]
    problems: list[str] = []
    ledger_sum = sum((_dec(e["amount"]) for e in ledger), Decimal(0))
    balance, available = _dec(state["wallet"].get("balance")), _dec(state["wallet"].get("available_balance"))
    if ledger_sum != balance:
        problems.append(f"the ledger sums to {ledger_sum} but the wallet balance is {balance}")
    if balance < 0 or available < 0:
        problems.append(f"negative money: balance {balance}, available {available}")

    counts = Counter(e["operation_id"] for e in ledger)
    twice = sorted(op for op, n in counts.items() if n > 1)
    if twice:
        problems.append(f"operations moved money more than once: {twice}")

    moved = [_dec(t["amount"]) * (1 if t["kind"] == "deposits" else -1) for t in state["completed"]]
    moved += [_value(o) * (1 if o["side"] == "sell" else -1) for o in orders if o.get("status") == "filled"]
    if sum(moved, Decimal(0)) != ledger_sum:
        problems.append(
            f"money created or lost: transfers and fills add up to {sum(moved, Decimal(0))}, the ledger to {ledger_sum}"
        )

    held = {symbol: Decimal(q) for symbol, q in state["positions"].items()}
    unreported = sorted(o["id"] for o in orders if o["id"] not in reported)
    if _net_fills(orders) != held:
        problems.append(
            f"positions {_fmt(held)} do not equal the fills of the target's orders {_fmt(_net_fills(orders))}"
        )
    placed = _net_fills([o for o in orders if o["id"] in reported])
    if placed != held:
        problems.append(
            f"positions {_fmt(held)} do not equal the fills of the orders the integration placed {_fmt(placed)}"
            + (f"; orders at the target that the integration never reported: {unreported}" if unreported else "")
        )
    return problems


def _net_fills(orders: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Net filled quantity per symbol (buys +, sells −), zero entries dropped."""
    net: dict[str, Decimal] = {}
    for o in orders:
        if o.get("status") == "filled":
            sign = -1 if o["side"] == "sell" else 1
            net[o["symbol"]] = net.get(o["symbol"], Decimal(0)) + sign * _dec(o["filled_quantity"])
    return {symbol: q for symbol, q in net.items() if q}


def _fmt(held: dict[str, Decimal]) -> str:
    return "{" + ", ".join(f"{s}: {q}" for s, q in sorted(held.items())) + "}"


@scenario("money", facts=("sequences",), twin_only=True)
def _money(s: Scene) -> None:
    """Random sequences of operations through the integration (Hypothesis, seeded with the run's seed: 5 sequences
    of 6–8 steps on a fresh investor each), with the money as the twin holds it after every step; they stop at the
    first step that breaks an invariant or never returns."""
    h = s.h
    try:
        from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
        from hypothesis import strategies as st
    except ImportError as exc:  # a test extra of the package
        raise HarnessError("lifecycle.money-invariants needs Hypothesis: pip install 'bluum-readiness[test]'") from exc

    integration = s.integration
    step = st.tuples(st.sampled_from(KINDS), st.sampled_from(SYMBOLS), st.integers(1, 6), st.integers(1, 40))
    first = st.integers(8, 40).map(lambda units: ("deposit", SYMBOLS[0], 1, units))
    sequences = st.tuples(first, st.lists(step, min_size=5, max_size=7)).map(lambda fs: [fs[0], *fs[1]])
    runs: list[dict[str, Any]] = []

    @seed(h.config.seed)
    @settings(
        max_examples=5,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
    )
    @given(sequences)
    def random_sequences(steps: list[Step]) -> None:
        money = _Money(h, integration)
        runs.append(money.record)
        money.run(steps)

    with interrupts_kept():  # Hypothesis can end its test quietly when Ctrl-C lands between its examples
        try:
            random_sequences()
        except _Broken:
            pass
    s.evidence("sequences", [[{k: x[k] for k in ("step", "outcome") if k in x} for x in r["steps"]] for r in runs])
    s.fact("sequences", runs)


@judged(
    "lifecycle.money-invariants",
    item=ITEM,
    title="No money created or lost across random operation sequences",
    needs=("money.sequences",),
    twin_only=True,
)
def money_invariants(facts: Facts) -> Verdict:
    runs: list[dict[str, Any]] = facts["money.sequences"]
    for run in runs:
        steps = run["steps"]
        for number, step in enumerate(steps, 1):
            history = [{k: x[k] for k in ("step", "outcome") if k in x} for x in steps[:number]]
            if not step["finished"]:
                return Finding(
                    "call-never-returns",
                    f"{step['step']} to return or raise",
                    "the call never returned",
                    "bound every request with a timeout and raise when it expires",
                    evidence={"steps": history},
                )
            reported = _reported(steps[:number])
            problems = _violations(step["state"], reported) if "state" in step else []
            if problems:
                return Finding(
                    "money-moved-twice",
                    "after every operation: ledger sum = wallet balance, no negative balances, positions = fills of "
                    "the orders the integration placed, each operation in the ledger at most once",
                    f"after step {number} ({step['step']}): " + "; ".join(problems),
                    "place each order and transfer exactly once (one Idempotency-Key per logical operation, reused "
                    "only on retries); never re-send an order that was accepted",
                    evidence={
                        "investor_id": run["investor_id"],
                        "steps": history,
                        "reported_ids": sorted(reported),
                        **step["state"],
                    },
                )
    if not any(_reported(run["steps"]) for run in runs):
        return Unjudged("no operation of the random sequences succeeded, so the invariants held vacuously")
    return None


# -- lifecycle.webhook-events ------------------------------------------------------------------------------


@scenario("journey-webhooks", facts=("events", "deliveries", "applied"))
def _journey_webhooks(s: Scene) -> None:
    """A short journey through the integration (investor, KYC, bank, deposit, buy, withdrawal) with its receiver
    registered at the twin: every event the twin emitted about the investor, the twin's deliveries of them, and
    what the receiver applied (``processed_events()``), once every delivery settled (bounded)."""
    h = s.h
    integration = s.integration
    url = h.capability(integration, "webhook_url")
    processed = h.capability(integration, "processed_events")
    if not isinstance(url, str) or not url or not callable(processed):
        raise NotVerifiable("the integration exposes no webhook_url and processed_events() (optional capabilities)")
    if not h.target.twin:
        raise NotVerifiable("matching Bluum's events with the receiver's needs the twin's event log (twin mode only)")
    if h.webhook_secret.known:
        raise NotVerifiable("the receiver's secret is configured, so the twin (it issues its own) cannot sign for it")
    # The twin delivers, as Bluum would: register the receiver (it trusts the suite's local CA).
    hook_id = h.register_webhook(url)

    # A short journey through the integration: every state change emits an event.
    j = _Journey(h, integration)
    try:
        investor = j.create(
            "create investor", "create_investor", lambda: integration.create_investor(investor_profile())
        )
        j.poll_integration(
            "KYC approved",
            "kyc_status() to report 'active'",
            lambda: integration.kyc_status(investor),
            lambda s: s == "active",
        )
        bank = j.create(
            "link Plaid bank", "link_bank_account", lambda: integration.link_bank_account(investor, plaid_bank())
        )
        dep = j.create("deposit", "deposit", lambda: integration.deposit(investor, bank, "500.00"))
        j.poll_target("deposit completes", f"/investors/{investor}/deposits/{dep}", "completed", resource_id=dep)
        order = j.create(
            "market buy", "place_order", lambda: integration.place_order(investor, _order("market", "INTC", "buy", "1"))
        )
        j.wait_order(investor, "market buy fills", order, "filled")
        wd = j.create("withdraw", "withdraw", lambda: integration.withdraw(investor, bank, "100.00"))
        j.poll_target("withdrawal completes", f"/investors/{investor}/withdrawals/{wd}", "completed", resource_id=wd)
    except _Stop:
        record = j.records[-1]
        finding = _step_finding(record)
        assert finding is not None
        raise NotVerifiable(
            f"the journey stopped at step '{record['step']}' ({finding.observed}), so the events this check judges "
            "could not follow (lifecycle.full-journey judges the journey)"
        ) from None
    s.evidence("journey", _trail(j.records))

    # Every event the twin emitted about this investor, delivered by the twin (signed, its own payload and
    # event id), must be acknowledged and applied by the receiver exactly once.
    events = investor_events(h, investor)
    wanted = {e["id"] for e in events}

    def settled() -> list[dict[str, Any]]:
        return [d for d in twin_deliveries(h, hook_id) if d["event_id"] in wanted]

    def done(got: list[str]) -> bool:
        states = settled()
        return len(states) == len(wanted) and all(d["status"] != "pending" for d in states) and wanted <= set(got)

    applied: list[str] = poll(lambda: list(processed()), done, h.thresholds.settle_timeout_s)
    found = settled()
    s.evidence("webhook_events", [{"id": e["id"], "event": e["event"]} for e in events])
    s.evidence("deliveries", found)
    s.fact("events", [{"id": e["id"], "event": e["event"]} for e in events])
    s.fact("deliveries", [{k: d.get(k) for k in ("event_id", "event_type", "status")} for d in found])
    s.fact("applied", applied)


@judged(
    "lifecycle.webhook-events",
    item=ITEM,
    title="Webhook events for each state change reach the receiver",
    needs=("journey-webhooks.events", "journey-webhooks.deliveries", "journey-webhooks.applied"),
    requires=("webhook_url", "processed_events"),
)
def webhook_events(facts: Facts) -> Verdict:
    events: list[dict[str, Any]] = facts["journey-webhooks.events"]
    deliveries: list[dict[str, Any]] = facts["journey-webhooks.deliveries"]
    applied: list[str] = facts["journey-webhooks.applied"]
    if not events:
        return Unjudged("the journey emitted no event at the twin, so there was no delivery to judge")
    refused = [f"{d['event_type']} ({d['event_id']}): {d['status']}" for d in deliveries if d["status"] != "delivered"]
    missing = [f"{e['event']} ({e['id']})" for e in events if e["id"] not in applied]
    repeated = [f"{e['event']} ({e['id']}) ×{applied.count(e['id'])}" for e in events if applied.count(e["id"]) > 1]
    if not (refused or missing or repeated):
        return None
    parts = [
        ("valid-delivery-refused", f"not acknowledged with 2xx: {', '.join(refused)}" if refused else ""),
        ("event-not-applied", f"not applied: {', '.join(missing)}" if missing else ""),
        ("duplicate-effects", f"applied more than once: {', '.join(repeated)}" if repeated else ""),
    ]
    shown = [(cause, text) for cause, text in parts if text]
    return Finding(
        shown[0][0],
        "every event of the journey (investor, deposit, order and withdrawal changes), delivered signed to the "
        "receiver, acknowledged with 2xx and applied exactly once (processed_events())",
        "; ".join(text for _, text in shown),
        "answer 2xx to every valid, signed delivery and apply each event id once (dedupe on webhook-id)",
        evidence={"events": events},
    )
