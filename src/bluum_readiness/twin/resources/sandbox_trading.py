"""Trading sandbox controls (◆, twin only), under ``/_sandbox`` with tenant credentials.

- ``PUT /prices/{symbol}`` {price}: set the tenant's simulated price; resting orders in the symbol are evaluated
  (a limit order fills once the price crosses its limit). ``GET`` reads it; ``DELETE`` reverts to the catalogue.
- ``POST /orders/{order_id}/hold``: keep a non-terminal order where it is (no fill) until
  ``POST /orders/{order_id}/release``, which evaluates it at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import catalog, trading
from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.validation import Body, PositiveDecimal
from bluum_readiness.twin.values import iso


class SetPrice(Body):
    price: PositiveDecimal


def _price_body(twin: Twin, tenant_id: str, asset: catalog.Asset) -> dict[str, Any]:
    simulated = catalog.simulated_price(twin, tenant_id, asset.symbol)
    current = catalog.current_price(twin, tenant_id, asset)
    return {
        "object": "sandbox_price",
        "symbol": asset.symbol,
        "price": catalog.price_text(current),
        "reference_price": asset.reference_price,
        "source": "simulated" if simulated is not None else "catalogue",
        "price_timestamp": iso(twin.clock.now()),
    }


async def put_price(request: Request) -> Response:
    tenant = http.principal(request).tenant_id
    req = await http.body(request, SetPrice)
    price = catalog.parse_price(req.price, "price")
    asset = catalog.require(request.path_params["symbol"])
    twin = http.twin(request)
    with twin.db.tx():
        trading.set_price(twin, tenant, asset, price)
        return http.json(_price_body(twin, tenant, asset))


async def get_price(request: Request) -> Response:
    tenant = http.principal(request).tenant_id
    asset = catalog.require(request.path_params["symbol"])
    return http.json(_price_body(http.twin(request), tenant, asset))


async def delete_price(request: Request) -> Response:
    tenant = http.principal(request).tenant_id
    asset = catalog.require(request.path_params["symbol"])
    twin = http.twin(request)
    with twin.db.tx():
        trading.set_price(twin, tenant, asset, None)
        return http.json(_price_body(twin, tenant, asset))


def _order(request: Request, twin: Twin, tenant_id: str) -> Resource:
    order_id = http.path_id(request, "order_id", "ord")
    return twin.store.require(tenant_id, "order", order_id, param="order_id")


async def hold_order(request: Request) -> Response:
    tenant = http.principal(request).tenant_id
    twin = http.twin(request)
    with twin.db.tx():
        order = trading.hold(twin, tenant, _order(request, twin, tenant))
        return http.commit(request, order, 200)


async def release_order(request: Request) -> Response:
    tenant = http.principal(request).tenant_id
    twin = http.twin(request)
    with twin.db.tx():
        order = trading.release(twin, tenant, _order(request, twin, tenant))
        return http.commit(request, order, 200)


routes = [
    Route("/prices/{symbol}", put_price, methods=["PUT"]),
    Route("/prices/{symbol}", get_price, methods=["GET"]),
    Route("/prices/{symbol}", delete_price, methods=["DELETE"]),
    Route("/orders/{order_id}/hold", hold_order, methods=["POST"]),
    Route("/orders/{order_id}/release", release_order, methods=["POST"]),
]
