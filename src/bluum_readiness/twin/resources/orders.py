"""Orders: place, list, retrieve, cancel, and estimate (rules in ``domain.trading``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import trading
from bluum_readiness.twin.domain import transitions as tr
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.validation import Amount, Body, PositiveDecimal, Quantity

Side = Literal["buy", "sell"]


class PlaceOrder(Body):
    symbol: str = Field(min_length=1, max_length=32)
    side: Side
    type: Literal["market", "limit", "stop", "stop_limit"]
    time_in_force: Literal["day", "gtc", "ioc", "fok"]
    quantity: Quantity | None = None
    notional: Amount | None = None
    limit_price: PositiveDecimal | None = None
    stop_price: PositiveDecimal | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)
    extended_hours: bool = False
    metadata: dict[str, str] = Field(default_factory=dict)


class EstimateOrder(Body):
    symbol: str = Field(min_length=1, max_length=32)
    side: Side
    type: Literal["market", "limit"]
    quantity: Quantity | None = None
    notional: Amount | None = None
    limit_price: PositiveDecimal | None = None


async def place_order(request: Request) -> Response:
    req = await http.body(request, PlaceOrder)
    investor = http.investor_of(request)
    tenant = http.principal(request).tenant_id
    twin = http.twin(request)
    with twin.db.tx():
        order = trading.place(
            twin,
            tenant,
            investor,
            symbol=req.symbol,
            side=req.side,
            order_type=req.type,
            time_in_force=req.time_in_force,
            quantity=req.quantity,
            notional=req.notional,
            limit_price=req.limit_price,
            stop_price=req.stop_price,
            client_order_id=req.client_order_id,
            extended_hours=req.extended_hours,
            metadata=req.metadata,
        )
        return http.commit(request, order, 201)


def _status_matches(wanted: str | None, order: Resource) -> bool:
    if wanted is None:
        return True
    if wanted == "open":  # any non-terminal status, as Bluum's list filter defines it
        return order["status"] in tr.NON_TERMINAL
    return bool(order["status"] == wanted)


async def list_orders(request: Request) -> Response:
    investor = http.investor_of(request)
    twin = http.twin(request)
    status = http.query_enum(request, "status", tr.STATUSES)
    side = http.query_enum(request, "side", ("buy", "sell"))
    symbol = request.query_params.get("symbol")
    cls = request.query_params.get("class")
    items = twin.store.list(
        http.principal(request).tenant_id,
        "order",
        investor_id=investor["id"],
        where=lambda o: (
            _status_matches(status, o)
            and (side is None or o["side"] == side)
            and (symbol is None or o["symbol"] == symbol.strip().upper())
            and (cls is None or o["class"] == cls)
        ),
    )
    return http.list_envelope(request, items)


def _order_of(request: Request, investor: Resource) -> Resource:
    order_id = http.path_id(request, "order_id", "ord")
    twin = http.twin(request)
    order = twin.store.require(http.principal(request).tenant_id, "order", order_id, param="order_id")
    if order["investor_id"] != investor["id"]:  # another investor's order does not exist here
        raise ApiError("BLUM-404-001", f"No such order: {order_id!r}", param="order_id")
    return order


async def get_order(request: Request) -> Response:
    investor = http.investor_of(request)
    return http.json(_order_of(request, investor))


async def cancel_order(request: Request) -> Response:
    investor = http.investor_of(request)
    tenant = http.principal(request).tenant_id
    twin = http.twin(request)
    with twin.db.tx():
        order = trading.cancel(twin, tenant, _order_of(request, investor))
        return http.commit(request, order, 200)


async def estimate_order(request: Request) -> Response:
    req = await http.body(request, EstimateOrder)
    investor = http.investor_of(request)
    twin = http.twin(request)
    result = trading.estimate(
        twin,
        http.principal(request).tenant_id,
        investor,
        symbol=req.symbol,
        side=req.side,
        order_type=req.type,
        quantity=req.quantity,
        notional=req.notional,
        limit_price=req.limit_price,
    )
    return http.json(result, 200)


routes = [
    Route("/investors/{investor_id}/orders", place_order, methods=["POST"]),
    Route("/investors/{investor_id}/orders", list_orders, methods=["GET"]),
    Route("/investors/{investor_id}/orders/{order_id}", get_order, methods=["GET"]),
    Route("/investors/{investor_id}/orders/{order_id}/cancel", cancel_order, methods=["POST"]),
    Route("/investors/{investor_id}/order-estimates", estimate_order, methods=["POST"]),
]
