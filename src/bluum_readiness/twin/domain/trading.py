"""Trading in the twin: placing, cancelling and estimating orders; sandbox prices and holds.

Lifecycle (◆, see ``transitions`` for the state machine): an accepted order is ``pending`` and an
``order.evaluate`` job is queued ``order_fill_delay_s`` later; ``fills`` evaluates it (fill, rest as ``open``,
or cancel an ioc/fok order) and is called again whenever the sandbox sets the symbol's price. The rules of an
order body are in ``order_rules``; positions in ``positions``.

Money (contract of ``ledger``): a buy holds its estimated cost in ``_hold_cents`` while non-terminal; the fill
posts the actual cost and clears the hold in the same transaction; cancel/fail clear it. A sell posts its
proceeds at fill. Every function here runs inside the caller's transaction.

The names other modules use (``place``, ``cancel``, ``evaluate``, ``position_view``, ``check_shape``…) are all
importable from here.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.twin.domain import catalog, kyc, ledger, positions
from bluum_readiness.twin.domain import transitions as tr
from bluum_readiness.twin.domain.fills import EVALUATE_JOB, evaluate, finish, register_jobs
from bluum_readiness.twin.domain.order_rules import (
    QUANTITY_PLACES,
    QUANTUM,
    check_shape,
    estimated_cost,
    insufficient_funds,
    insufficient_position,
    require_tradable,
)
from bluum_readiness.twin.domain.positions import position_view
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, from_cents, iso, money, qty

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = [
    "EVALUATE_JOB",
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
    require_tradable(asset)
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
        cost = estimated_cost(order, price)
        if cost < 1:
            raise ApiError(
                "BLUM-400-006", "The order is worth less than $0.01; increase the quantity.", param="quantity"
            )
        available = ledger.available_cents(twin, tenant_id, investor_id)
        if cost > available:
            raise insufficient_funds(cost, available)
        order["_hold_cents"] = cost
    else:
        assert quantity is not None  # check_shape: sells carry a quantity
        sellable = positions.sellable(twin, tenant_id, investor_id, asset.symbol)
        if Decimal(quantity) > sellable:
            raise insufficient_position(asset.symbol, Decimal(quantity), sellable)
    twin.store.insert(tenant_id, order)
    emit(twin, tenant_id, "order.accepted", order)
    twin.scheduler.schedule(tenant_id, EVALUATE_JOB, order["id"], twin.settings.order_fill_delay_s)
    return order


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
    return finish(twin, tenant_id, order, tr.CANCELLED)


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
        twin.store.save(tenant_id, positions.refresh(position, current, now))
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
        estimated_quantity = (Decimal(notional) / per_share).quantize(QUANTUM, rounding=ROUND_DOWN)
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
            problems.append(insufficient_funds(cents(value), available))
    else:
        sellable = positions.sellable(twin, tenant_id, investor["id"], asset.symbol)
        if estimated_quantity > sellable:
            problems.append(insufficient_position(asset.symbol, estimated_quantity, sellable))
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
