"""Order evaluation and fills in the twin: the ``order.evaluate`` job, resting, filling and finishing orders.

Evaluation (◆) fills a marketable order completely at the tenant's current price (market orders always; a limit
buy when price <= limit, a limit sell when price >= limit; a stop triggers when the price reaches the stop, then
acts as market, a stop_limit as limit). An order that cannot fill rests as ``open`` — except ioc/fok orders,
which are cancelled. An order under a sandbox hold is never evaluated until released.

Money (contract of ``ledger``): a fill posts the actual cost (buy) or proceeds (sell) and clears the buy's hold
in the same transaction, records the wallet transaction and updates the position; cancelling or failing an
order (``finish``) clears its hold. Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from bluum_readiness.twin.domain import catalog, ledger, positions, wallet_transactions
from bluum_readiness.twin.domain import transitions as tr
from bluum_readiness.twin.domain.order_rules import MAX_NOTIONAL, QUANTUM
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, from_cents, iso, qty

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin
    from bluum_readiness.twin.scheduler import Job

__all__ = ["EVALUATE_JOB", "evaluate", "finish", "register_jobs"]

EVALUATE_JOB = "order.evaluate"
MAX_TRADE_CENTS = cents(MAX_NOTIONAL)
"""◆ The largest trade value a fill settles; above it the order is rejected (the ledger keeps 64-bit cents)."""


def register_jobs(twin: Twin) -> None:
    twin.scheduler.register(EVALUATE_JOB, _evaluate_job)


def _evaluate_job(twin: Twin, job: Job) -> None:
    order = twin.store.get(job.tenant_id, "order", job.ref)
    if order is not None:
        evaluate(twin, job.tenant_id, order)


def _marketable(side: str, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if side == "buy" else price >= limit


def _stop_reached(side: str, price: Decimal, stop: Decimal) -> bool:
    return price >= stop if side == "buy" else price <= stop


def evaluate(twin: Twin, tenant_id: str, order: Resource) -> Resource:
    """Fill, rest or cancel an order at the tenant's current price (no-op when terminal or held)."""
    if tr.is_terminal(order["status"]) or order.get("_held"):
        return order
    asset = catalog.require(order["symbol"])
    price = catalog.current_price(twin, tenant_id, asset)
    side = order["side"]
    if order["type"] in ("stop", "stop_limit") and not order.get("_triggered"):
        if not _stop_reached(side, price, Decimal(order["stop_price"])):
            return _rest(twin, tenant_id, order, "its stop price was not reached")
        order["_triggered"] = True
    if order["type"] in ("limit", "stop_limit") and not _marketable(side, price, Decimal(order["limit_price"])):
        return _rest(twin, tenant_id, order, "its limit price was not reached")
    return _fill(twin, tenant_id, order, asset, price)


def _rest(twin: Twin, tenant_id: str, order: Resource, why: str) -> Resource:
    if order["time_in_force"] in ("ioc", "fok"):
        return finish(
            twin,
            tenant_id,
            order,
            tr.CANCELLED,
            reason=f"time_in_force {order['time_in_force']}: the order could not fill immediately ({why}).",
        )
    if order["status"] == tr.PENDING:
        order["status"] = tr.transition(order["status"], tr.OPEN)
        order["updated_at"] = iso(twin.clock.now())
    twin.store.save(tenant_id, order)
    return order


def finish(twin: Twin, tenant_id: str, order: Resource, status: str, *, reason: str | None = None) -> Resource:
    """Cancel or fail an order: release its hold, stamp the time, emit the event."""
    order["status"] = tr.transition(order["status"], status)
    now = iso(twin.clock.now())
    order["_hold_cents"] = 0
    order["updated_at"] = now
    order["failure_reason"] = reason
    if status == tr.CANCELLED:
        order["cancelled_at"] = now
    else:
        order["failed_at"] = now
    twin.store.save(tenant_id, order)
    twin.scheduler.cancel(order["id"], EVALUATE_JOB)
    event = tr.EVENT_FOR[status]
    assert event is not None
    emit(twin, tenant_id, event, order)
    return order


def _settlement_date(timestamp: float) -> str:
    """◆ T+1: the next weekday after the fill (no exchange holidays)."""
    day = datetime.fromtimestamp(timestamp, UTC).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def _fill(twin: Twin, tenant_id: str, order: Resource, asset: catalog.Asset, price: Decimal) -> Resource:
    investor_id = order["investor_id"]
    if order.get("notional") is not None:
        quantity = (Decimal(order["notional"]) / price).quantize(QUANTUM, rounding=ROUND_DOWN)
        amount = cents(order["notional"])
    else:
        quantity = Decimal(order["quantity"])
        amount = cents(quantity * price)
    if quantity <= 0:
        return finish(twin, tenant_id, order, tr.FAILED, reason="The notional buys less than one billionth of a share.")
    if amount > MAX_TRADE_CENTS:  # a sell after the sandbox raised the price: a ledger entry SQLite cannot hold
        return finish(
            twin,
            tenant_id,
            order,
            tr.FAILED,
            reason=f"The trade's value ${from_cents(amount)} at {catalog.price_text(price)} is above the twin's "
            f"maximum of ${MAX_NOTIONAL:,} per order; trade fewer shares.",
        )
    if order["side"] == "buy":
        available = ledger.available_cents(twin, tenant_id, investor_id) + int(order.get("_hold_cents") or 0)
        if amount > available:
            return finish(
                twin,
                tenant_id,
                order,
                tr.FAILED,
                reason=f"Insufficient buying power at fill: the order costs ${from_cents(amount)} at "
                f"{catalog.price_text(price)} and ${from_cents(max(available, 0))} is available.",
            )
    else:
        sellable = positions.sellable(twin, tenant_id, investor_id, asset.symbol, excluding=order["id"])
        if quantity > sellable:
            return finish(
                twin,
                tenant_id,
                order,
                tr.FAILED,
                reason=f"Position insufficient at fill: {qty(max(sellable, Decimal(0)))} {asset.symbol} available.",
            )
    now = twin.clock.now()
    order["status"] = tr.transition(order["status"], tr.FILLED)
    if order.get("quantity") is None:
        order["quantity"] = qty(quantity)  # ◆ a notional order shows its filled quantity once filled
    order["filled_quantity"] = qty(quantity)
    order["remaining_quantity"] = "0"
    order["average_price"] = catalog.price_text(price)
    order["filled_at"] = iso(now)
    order["updated_at"] = iso(now)
    order["settlement_date"] = _settlement_date(now)
    order["_hold_cents"] = 0
    twin.store.save(tenant_id, order)
    if amount > 0:
        ledger.post(twin, tenant_id, investor_id, order["id"], order["side"], amount)
    positions.apply_fill(twin, tenant_id, order, asset, quantity, price, now)
    _record_transaction(twin, tenant_id, order, amount, quantity, price)
    twin.scheduler.cancel(order["id"], EVALUATE_JOB)
    emit(twin, tenant_id, "order.filled", order)
    return order


def _record_transaction(
    twin: Twin, tenant_id: str, order: Resource, amount: int, quantity: Decimal, price: Decimal
) -> None:
    """The buy/sell wallet transaction of a fill (``txn_``, completed)."""
    verb = "Buy" if order["side"] == "buy" else "Sell"
    wallet_transactions.record_transaction(
        twin,
        tenant_id,
        order["investor_id"],
        type=order["side"],
        amount_cents=amount,
        status="completed",
        operation_id=order["id"],
        description=f"{verb} {qty(quantity)} {order['symbol']} @ {catalog.price_text(price)}",
    )
