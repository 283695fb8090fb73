"""Trading in the twin: placing, evaluating, filling and cancelling orders; positions; sandbox prices and holds.

Lifecycle (◆, see ``transitions`` for the state machine): an accepted order is ``pending`` and an
``order.evaluate`` job is queued ``order_fill_delay_s`` later. Evaluation fills a marketable order completely
at the tenant's current price (market orders always; a limit buy when price <= limit, a limit sell when
price >= limit; a stop triggers when the price reaches the stop, then acts as market, a stop_limit as limit).
An order that cannot fill rests as ``open`` and is evaluated again whenever the sandbox sets the symbol's price
— except ioc/fok orders, which are cancelled. An order under a sandbox hold is never evaluated until released.

Money (contract of ``ledger``): a buy holds its estimated cost in ``_hold_cents`` while non-terminal; the fill
posts the actual cost and clears the hold in the same transaction; cancel/fail clear it. A sell posts its
proceeds at fill. Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.twin.domain import catalog, kyc, ledger, transfers
from bluum_readiness.twin.domain import transitions as tr
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, from_cents, iso, money, qty

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin
    from bluum_readiness.twin.scheduler import Job

__all__ = [
    "QUANTITY_PLACES",
    "cancel",
    "check_shape",
    "estimate",
    "evaluate",
    "hold",
    "place",
    "position_view",
    "register_jobs",
    "release",
    "set_price",
]

EVALUATE_JOB = "order.evaluate"
QUANTITY_PLACES = 9
MAX_QUANTITY = Decimal(1_000_000_000)
MAX_NOTIONAL = Decimal(1_000_000_000_000)
_QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)
_CENT = Decimal("0.01")


def register_jobs(twin: Twin) -> None:
    twin.scheduler.register(EVALUATE_JOB, _evaluate_job)


# -- placing -----------------------------------------------------------------------------------------------


def check_shape(
    *,
    side: str,
    order_type: str,
    quantity: str | None,
    notional: str | None,
    limit_price: str | None,
    stop_price: str | None,
) -> None:
    """Cross-field rules of an order (or estimate) body: 400s that a field type alone cannot express."""
    if quantity is None and notional is None:
        raise ApiError("BLUM-400-001", "Send exactly one of 'quantity' or 'notional'.", param="quantity")
    if quantity is not None and notional is not None:
        raise ApiError("BLUM-400-001", "Send either 'quantity' or 'notional', not both.", param="notional")
    if notional is not None and (side != "buy" or order_type != "market"):
        raise ApiError(
            "BLUM-400-001",
            "'notional' is allowed only on buy market orders; send 'quantity' for sells and priced orders.",
            param="notional",
        )
    if quantity is not None and (
        Decimal(quantity) > MAX_QUANTITY
        or Decimal(quantity) != Decimal(quantity).quantize(_QUANTUM, rounding=ROUND_DOWN)
    ):
        raise ApiError(
            "BLUM-400-006",
            f"'quantity' must be at most {MAX_QUANTITY:,} with at most {QUANTITY_PLACES} decimal places.",
            param="quantity",
        )
    if notional is not None and Decimal(notional) > MAX_NOTIONAL:
        raise ApiError("BLUM-400-005", f"'notional' must be at most {MAX_NOTIONAL:,}.", param="notional")
    if limit_price is not None:
        catalog.parse_price(limit_price, "limit_price")
    if stop_price is not None:
        catalog.parse_price(stop_price, "stop_price")
    needs_limit = order_type in ("limit", "stop_limit")
    needs_stop = order_type in ("stop", "stop_limit")
    if needs_limit and limit_price is None:
        raise ApiError(
            "BLUM-400-002", f"Missing required field 'limit_price' for a {order_type} order.", param="limit_price"
        )
    if needs_stop and stop_price is None:
        raise ApiError(
            "BLUM-400-002", f"Missing required field 'stop_price' for a {order_type} order.", param="stop_price"
        )
    if not needs_limit and limit_price is not None:
        raise ApiError(
            "BLUM-400-001",
            f"'limit_price' applies only to limit and stop_limit orders; remove it from this {order_type} order.",
            param="limit_price",
        )
    if not needs_stop and stop_price is not None:
        raise ApiError(
            "BLUM-400-001",
            f"'stop_price' applies only to stop and stop_limit orders; remove it from this {order_type} order.",
            param="stop_price",
        )


def _estimated_cost(order: Resource, price: Decimal) -> int:
    """What a buy order is expected to cost, in cents (the amount its hold reserves)."""
    if order.get("notional") is not None:
        return cents(order["notional"])
    quantity = Decimal(order["quantity"])
    if order["type"] in ("limit", "stop_limit"):
        per_share = Decimal(order["limit_price"])
    elif order["type"] == "stop":
        per_share = max(price, Decimal(order["stop_price"]))
    else:
        per_share = price
    return cents(quantity * per_share)


def _position(twin: Twin, tenant_id: str, investor_id: str, symbol: str) -> Resource | None:
    found = twin.store.list(tenant_id, "position", investor_id=investor_id, where=lambda p: p["symbol"] == symbol)
    return found[0] if found else None


def _sellable(twin: Twin, tenant_id: str, investor_id: str, symbol: str, *, excluding: str | None = None) -> Decimal:
    """Shares an investor may still sell: the position minus what other open sell orders already claim."""
    position = _position(twin, tenant_id, investor_id, symbol)
    held = Decimal(position["quantity"]) if position else Decimal(0)
    claimed = sum(
        (
            Decimal(o["quantity"]) - Decimal(o["filled_quantity"])
            for o in twin.store.list(
                tenant_id,
                "order",
                investor_id=investor_id,
                where=lambda o: (
                    o["symbol"] == symbol
                    and o["side"] == "sell"
                    and o["status"] in tr.NON_TERMINAL
                    and o["id"] != excluding
                ),
            )
        ),
        Decimal(0),
    )
    return held - claimed


def _insufficient_funds(needed: int, available: int) -> ApiError:
    return ApiError(
        "BLUM-422-001",
        f"Insufficient buying power: this order needs about ${from_cents(needed)} and "
        f"${from_cents(max(available, 0))} is available. Deposit funds or reduce the order.",
    )


def _insufficient_position(symbol: str, wanted: Decimal, sellable: Decimal) -> ApiError:
    return ApiError(
        "BLUM-422-004",
        f"Cannot sell {qty(wanted)} {symbol}: {qty(max(sellable, Decimal(0)))} shares are available to sell "
        "(held, minus open sell orders). Reduce the quantity.",
        param="quantity",
    )


def _require_tradable(asset: catalog.Asset) -> None:
    if not asset.tradable:
        raise ApiError(
            "BLUM-422-003",
            f"Asset {asset.symbol} is not tradable (status {asset.status}); choose a tradable asset.",
            param="symbol",
        )


def place(
    twin: Twin,
    tenant_id: str,
    investor: Resource,
    *,
    symbol: str,
    side: str,
    order_type: str,
    time_in_force: str,
    quantity: str | None,
    notional: str | None,
    limit_price: str | None,
    stop_price: str | None,
    client_order_id: str | None = None,
    extended_hours: bool = False,
    metadata: dict[str, str] | None = None,
) -> Resource:
    """Accept an order (status pending), reserve buying power for a buy, queue its evaluation."""
    check_shape(
        side=side,
        order_type=order_type,
        quantity=quantity,
        notional=notional,
        limit_price=limit_price,
        stop_price=stop_price,
    )
    kyc.require_active(investor)
    asset = catalog.require(symbol)
    _require_tradable(asset)
    investor_id = investor["id"]
    if client_order_id is not None and twin.store.list(
        tenant_id, "order", investor_id=investor_id, where=lambda o: o.get("client_order_id") == client_order_id
    ):
        raise ApiError(
            "BLUM-409-001",
            f"An order with client_order_id {client_order_id!r} already exists for this investor; use a new one.",
            param="client_order_id",
        )
    now = twin.clock.now()
    order = twin.new_resource(
        "ord",
        "order",
        investor_id=investor_id,
        symbol=asset.symbol,
        asset_id=asset.id,
        **{"class": asset.asset_class},
        currency="USD",
        side=side,
        type=order_type,
        time_in_force=time_in_force,
        quantity=qty(Decimal(quantity)) if quantity is not None else None,
        notional=from_cents(cents(notional)) if notional is not None else None,
        limit_price=catalog.price_text(Decimal(limit_price)) if limit_price is not None else None,
        stop_price=catalog.price_text(Decimal(stop_price)) if stop_price is not None else None,
        trail_percent=None,
        trail_price=None,
        extended_hours=extended_hours,
        client_order_id=client_order_id,
        status=tr.PENDING,
        filled_quantity="0",
        remaining_quantity=qty(Decimal(quantity)) if quantity is not None else None,
        average_price="0.00",
        commission="0.00",
        commission_type="notional",
        wallet_currency="USD",
        submitted_at=iso(now),
        filled_at=None,
        cancelled_at=None,
        failed_at=None,
        failure_reason=None,
        settlement_date=None,
        updated_at=iso(now),
        _hold_cents=0,
        _held=False,
        _triggered=False,
    )
    if metadata:
        order["metadata"] = dict(metadata)
    price = catalog.current_price(twin, tenant_id, asset)
    if side == "buy":
        cost = _estimated_cost(order, price)
        if cost < 1:
            raise ApiError(
                "BLUM-400-006", "The order is worth less than $0.01; increase the quantity.", param="quantity"
            )
        available = ledger.available_cents(twin, tenant_id, investor_id)
        if cost > available:
            raise _insufficient_funds(cost, available)
        order["_hold_cents"] = cost
    else:
        assert quantity is not None  # check_shape: sells carry a quantity
        sellable = _sellable(twin, tenant_id, investor_id, asset.symbol)
        if Decimal(quantity) > sellable:
            raise _insufficient_position(asset.symbol, Decimal(quantity), sellable)
    twin.store.insert(tenant_id, order)
    emit(twin, tenant_id, "order.accepted", order)
    twin.scheduler.schedule(tenant_id, EVALUATE_JOB, order["id"], twin.settings.order_fill_delay_s)
    return order


# -- evaluating and filling --------------------------------------------------------------------------------


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
        return _finish(
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


def _finish(twin: Twin, tenant_id: str, order: Resource, status: str, *, reason: str | None = None) -> Resource:
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
        quantity = (Decimal(order["notional"]) / price).quantize(_QUANTUM, rounding=ROUND_DOWN)
        amount = cents(order["notional"])
    else:
        quantity = Decimal(order["quantity"])
        amount = cents(quantity * price)
    if quantity <= 0:
        return _finish(
            twin, tenant_id, order, tr.FAILED, reason="The notional buys less than one billionth of a share."
        )
    if order["side"] == "buy":
        available = ledger.available_cents(twin, tenant_id, investor_id) + int(order.get("_hold_cents") or 0)
        if amount > available:
            return _finish(
                twin,
                tenant_id,
                order,
                tr.FAILED,
                reason=f"Insufficient buying power at fill: the order costs ${from_cents(amount)} at "
                f"{catalog.price_text(price)} and ${from_cents(max(available, 0))} is available.",
            )
    else:
        sellable = _sellable(twin, tenant_id, investor_id, asset.symbol, excluding=order["id"])
        if quantity > sellable:
            return _finish(
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
    _apply_fill(twin, tenant_id, order, asset, quantity, price, now)
    _record_transaction(twin, tenant_id, order, amount, quantity, price)
    twin.scheduler.cancel(order["id"], EVALUATE_JOB)
    emit(twin, tenant_id, "order.filled", order)
    return order


def _record_transaction(
    twin: Twin, tenant_id: str, order: Resource, amount: int, quantity: Decimal, price: Decimal
) -> None:
    """The buy/sell wallet transaction of a fill (``txn_``, completed), through the transfers package."""
    verb = "Buy" if order["side"] == "buy" else "Sell"
    transfers.record_transaction(
        twin,
        tenant_id,
        order["investor_id"],
        type=order["side"],
        amount_cents=amount,
        status="completed",
        operation_id=order["id"],
        description=f"{verb} {qty(quantity)} {order['symbol']} @ {catalog.price_text(price)}",
    )


# -- positions -----------------------------------------------------------------------------------------------


def _refresh(position: Resource, price: Decimal, now: float) -> Resource:
    """Recompute a position's price-dependent figures at ``price`` (in place)."""
    quantity = Decimal(position["quantity"])
    cost = quantity * Decimal(position["_avg_cost"])
    value = quantity * price
    position["total_cost_basis"] = money(cost)
    position["current_price"] = catalog.price_text(price)
    position["market_value"] = money(value)
    position["unrealized_pl"] = money(value - cost)
    percent = (value - cost) / cost * 100 if cost else Decimal(0)
    position["unrealized_pl_percent"] = str(percent.quantize(_CENT, rounding=ROUND_HALF_UP))
    position["price_source"] = "DATABASE"
    position["price_confidence"] = "REAL_TIME"
    position["price_timestamp"] = iso(now)
    return position


def position_view(twin: Twin, tenant_id: str, position: Resource) -> Resource:
    """A stored position rendered live at the tenant's current price."""
    asset = catalog.require(position["symbol"])
    return _refresh(dict(position), catalog.current_price(twin, tenant_id, asset), twin.clock.now())


def _apply_fill(
    twin: Twin, tenant_id: str, order: Resource, asset: catalog.Asset, quantity: Decimal, price: Decimal, now: float
) -> None:
    """Create, grow (VWAP cost), shrink or delete (◆ at zero) the investor's position in the symbol."""
    position = _position(twin, tenant_id, order["investor_id"], asset.symbol)
    if order["side"] == "buy":
        if position is None:
            position = twin.new_resource(
                "pos",
                "position",
                investor_id=order["investor_id"],
                symbol=asset.symbol,
                asset_id=asset.id,
                **{"class": asset.asset_class},
                country="US",
                currency="USD",
                quantity="0",
                average_cost_basis="0.00",
                _avg_cost="0",
                created_at=iso(now),
            )
            twin.store.insert(tenant_id, position)
        held = Decimal(position["quantity"])
        total = held + quantity
        average = (held * Decimal(position["_avg_cost"]) + quantity * price) / total
        position["_avg_cost"] = str(average)
        position["quantity"] = qty(total)
        position["average_cost_basis"] = catalog.price_text(average)
    else:
        assert position is not None  # checked before the fill
        remaining = Decimal(position["quantity"]) - quantity
        if remaining <= 0:
            twin.store.delete(tenant_id, position["id"])
            return
        position["quantity"] = qty(remaining)
    position["last_transaction_at"] = iso(now)
    position["updated_at"] = iso(now)
    twin.store.save(tenant_id, _refresh(position, price, now))


# -- cancel, sandbox price and hold -----------------------------------------------------------------------


def _require_live(order: Resource, action: str) -> None:
    if tr.is_terminal(order["status"]):
        raise ApiError(
            "BLUM-409-003",
            f"Order {order['id']} is already {order['status']}; only pending or open orders can be {action}.",
        )


def cancel(twin: Twin, tenant_id: str, order: Resource) -> Resource:
    """Cancel a non-terminal order at the caller's request (409 BLUM-409-003 otherwise); releases its hold."""
    _require_live(order, "cancelled")
    return _finish(twin, tenant_id, order, tr.CANCELLED)


def hold(twin: Twin, tenant_id: str, order: Resource) -> Resource:
    """◆ Sandbox: keep an order in its non-terminal status; it is not evaluated until released."""
    _require_live(order, "held")
    order["_held"] = True
    twin.store.save(tenant_id, order)
    return order


def release(twin: Twin, tenant_id: str, order: Resource) -> Resource:
    """◆ Sandbox: lift a hold and evaluate the order at once."""
    _require_live(order, "released")
    order["_held"] = False
    twin.store.save(tenant_id, order)
    return evaluate(twin, tenant_id, order)


def set_price(twin: Twin, tenant_id: str, asset: catalog.Asset, price: Decimal | None) -> Decimal:
    """◆ Sandbox: set (None: clear) the simulated price; refresh positions and evaluate resting orders."""
    catalog.set_price(twin, tenant_id, asset, price)
    current = catalog.current_price(twin, tenant_id, asset)
    now = twin.clock.now()
    for position in twin.store.list(tenant_id, "position", where=lambda p: p["symbol"] == asset.symbol):
        twin.store.save(tenant_id, _refresh(position, current, now))
    resting = twin.store.list(
        tenant_id,
        "order",
        where=lambda o: o["symbol"] == asset.symbol and o["status"] in (tr.OPEN, tr.PARTIAL) and not o.get("_held"),
    )
    for order in resting:
        fresh = twin.store.get(tenant_id, "order", order["id"])
        if fresh is not None:
            evaluate(twin, tenant_id, fresh)
    return current


# -- estimates -----------------------------------------------------------------------------------------------


def estimate(
    twin: Twin,
    tenant_id: str,
    investor: Resource,
    *,
    symbol: str,
    side: str,
    order_type: str,
    quantity: str | None,
    notional: str | None,
    limit_price: str | None,
) -> dict[str, Any]:
    """An indicative cost (◆ limit orders at their limit price); rule violations are listed in ``errors``."""
    check_shape(
        side=side,
        order_type=order_type,
        quantity=quantity,
        notional=notional,
        limit_price=limit_price,
        stop_price=None,
    )
    asset = catalog.require(symbol)
    price = catalog.current_price(twin, tenant_id, asset)
    per_share = Decimal(limit_price) if limit_price is not None else price
    if notional is not None:
        estimated_quantity = (Decimal(notional) / per_share).quantize(_QUANTUM, rounding=ROUND_DOWN)
        value = Decimal(notional)
    else:
        assert quantity is not None
        estimated_quantity = Decimal(quantity)
        value = estimated_quantity * per_share
    errors: list[dict[str, str]] = []
    problems: list[ApiError] = []
    try:
        kyc.require_active(investor)
    except ApiError as exc:
        problems.append(exc)
    if not asset.tradable:
        problems.append(
            ApiError("BLUM-422-003", f"Asset {asset.symbol} is not tradable (status {asset.status}).", param="symbol")
        )
    if side == "buy":
        available = ledger.available_cents(twin, tenant_id, investor["id"])
        if cents(value) > available:
            problems.append(_insufficient_funds(cents(value), available))
    else:
        sellable = _sellable(twin, tenant_id, investor["id"], asset.symbol)
        if estimated_quantity > sellable:
            problems.append(_insufficient_position(asset.symbol, estimated_quantity, sellable))
    for problem in problems:
        errors.append({"code": problem.code, "message": problem.message})
    return {
        "id": None,
        "object": "order_estimate",
        "created": int(twin.clock.now()),
        "livemode": False,
        "metadata": {},
        "investor_id": investor["id"],
        "symbol": asset.symbol,
        "side": side,
        "type": order_type,
        "currency": "USD",
        "estimated_price": catalog.price_text(per_share),
        "estimated_quantity": qty(estimated_quantity),
        "total_estimated_value": money(value),
        "commission": "0.00",
        "errors": errors,
    }
