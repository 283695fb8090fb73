"""``lifecycle.money-invariants`` (twin only): random sequences of operations through the integration, with the
money as the twin holds it checked against the invariants after every step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks._support import interrupts_kept
from bluum_readiness.checks.judge import Facts, Finding, Unjudged, Verdict, judged
from bluum_readiness.checks.lifecycle._shared import (
    CENT,
    ITEM,
    TRANSFER_DONE,
    filled_value,
    order_body,
    price_of,
    to_decimal,
    wallet_of,
)
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.errors import HarnessError
from bluum_readiness.harness import poll

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

KINDS = ("deposit", "buy", "buy", "sell", "sell", "limit", "cancel", "withdraw")  # trades weighted up
SYMBOLS = ("INTC", "BAC")  # cheap, so random sequences can afford several buys
Step = tuple[str, str, int, int]  # kind, symbol, quantity, amount in units of 25 USD
ORDER_FIELDS = ("id", "side", "symbol", "status", "filled_quantity", "average_price")
ORDER_DONE = frozenset({"filled", "cancelled", "canceled", "rejected", "failed", "expired"})


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
            made["state"] = self.state(self.settle())
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
            body = order_body("market", symbol, "buy", str(quantity))
            operation, what = (lambda: integration.place_order(inv, body)), f"market buy {quantity} {symbol}"
        elif kind == "sell":
            # Sell part of what is held (of this symbol, else of any), so a duplicated sell would still execute.
            positions = self.positions()
            symbol = symbol if symbol in positions else next(iter(sorted(positions)), symbol)
            held = positions.get(symbol, Decimal(0))
            qty = max(Decimal(1), min(Decimal(quantity), held // 2)) if held else Decimal(quantity)
            body = order_body("market", symbol, "sell", str(qty))
            operation, what = (lambda: integration.place_order(inv, body)), f"market sell {qty} {symbol}"
        elif kind == "limit":
            below = (price_of(self.h, symbol) * Decimal("0.5")).quantize(CENT)
            body = order_body("limit", symbol, "buy", str(quantity), below)
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
            held[row["symbol"]] = held.get(row["symbol"], Decimal(0)) + to_decimal(row["quantity"])
        return {symbol: q for symbol, q in held.items() if q}

    def settle(self) -> dict[str, list[dict[str, Any]]]:
        """Wait until every transfer is done and every order done or resting; the transfers and orders as the last
        probe read them (settled: ``state`` reads them from here rather than asking again, three requests a step
        fewer — a real sandbox allows 10 a second)."""

        def read() -> dict[str, list[dict[str, Any]]]:
            found = {kind: self.transfers(kind) for kind in ("deposits", "withdrawals")}
            return {**found, "orders": self.orders()}

        def settled(found: dict[str, list[dict[str, Any]]]) -> bool:
            busy = [
                t for kind in ("deposits", "withdrawals") for t in found[kind] if t.get("status") not in TRANSFER_DONE
            ]
            return not busy and all(o.get("status") in ORDER_DONE | {"open"} for o in found["orders"])

        found: dict[str, list[dict[str, Any]]] = poll(
            read, settled, self.h.thresholds.settle_timeout_s, self.h.poll_interval
        )
        if not settled(found):
            raise HarnessError("the twin did not settle transfers and orders in time")
        return found

    def state(self, settled: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """The money as the twin holds it: its ledger for the investor, the wallet, the completed transfers and the
        orders (``settled``: as ``settle`` last read them) and the positions."""
        ledger = self.h.sandbox("GET", "/ledger", params={"investor_id": self.investor})["data"]
        wallet = wallet_of(self.h, self.investor)
        return {
            "ledger": [{k: e[k] for k in ("operation_id", "kind", "amount")} for e in ledger],
            "wallet": {k: wallet.get(k) for k in ("balance", "available_balance")},
            "completed": [
                {"kind": kind, "amount": t["amount"]}
                for kind in ("deposits", "withdrawals")
                for t in settled[kind]
                if t["status"] == "completed"
            ],
            "orders": [{k: o.get(k) for k in ORDER_FIELDS} for o in settled["orders"]],
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
    ledger_sum = sum((to_decimal(e["amount"]) for e in ledger), Decimal(0))
    balance, available = (
        to_decimal(state["wallet"].get("balance")),
        to_decimal(state["wallet"].get("available_balance")),
    )
    if ledger_sum != balance:
        problems.append(f"the ledger sums to {ledger_sum} but the wallet balance is {balance}")
    if balance < 0 or available < 0:
        problems.append(f"negative money: balance {balance}, available {available}")

    counts = Counter(e["operation_id"] for e in ledger)
    twice = sorted(op for op, n in counts.items() if n > 1)
    if twice:
        problems.append(f"operations moved money more than once: {twice}")

    moved = [to_decimal(t["amount"]) * (1 if t["kind"] == "deposits" else -1) for t in state["completed"]]
    moved += [filled_value(o) * (1 if o["side"] == "sell" else -1) for o in orders if o.get("status") == "filled"]
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
            net[o["symbol"]] = net.get(o["symbol"], Decimal(0)) + sign * to_decimal(o["filled_quantity"])
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
    if not any(_reached(run["steps"]) for run in runs):
        done = sum(len(_reported(run["steps"])) for run in runs)
        return Unjudged(
            f"the integration reported {done} operations of the random sequences as done, but none reached the target "
            "(no ledger entry, no order there after any step), so the invariants held vacuously; an integration that "
            "answers without calling Bluum (a stub, a queue drained later) is judged by lifecycle.full-journey"
        )
    return None


def _reached(steps: Sequence[Mapping[str, Any]]) -> bool:
    """Some step left money or an order at the target (its state, as the suite read it, is not empty)."""
    return any(step["state"]["ledger"] or step["state"]["orders"] for step in steps if "state" in step)
