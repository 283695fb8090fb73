"""Positions: an investor's holdings, rendered live at the tenant's current prices (rules in ``domain.trading``)."""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import trading
from bluum_readiness.twin.errors import ApiError


async def list_positions(request: Request) -> Response:
    investor = http.investor_of(request)
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    symbol = request.query_params.get("symbol")
    non_zero_only = http.query_bool(request, "non_zero_only", False)
    http.query_bool(request, "refresh_prices", True)  # ◆ accepted; prices are always current in the twin
    items = twin.store.list(
        tenant,
        "position",
        investor_id=investor["id"],
        where=lambda p: (
            (symbol is None or p["symbol"] == symbol.strip().upper())
            and (not non_zero_only or Decimal(p["quantity"]) != 0)
        ),
    )
    return http.list_envelope(request, [trading.position_view(twin, tenant, p) for p in items])


async def get_position(request: Request) -> Response:
    investor = http.investor_of(request)
    position_id = http.path_id(request, "position_id", "pos")
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    http.query_bool(request, "refresh_prices", True)
    position = twin.store.require(tenant, "position", position_id, param="position_id")
    if position["investor_id"] != investor["id"]:
        raise ApiError("BLUM-404-001", f"No such position: {position_id!r}", param="position_id")
    return http.json(trading.position_view(twin, tenant, position))


routes = [
    Route("/investors/{investor_id}/positions", list_positions, methods=["GET"]),
    Route("/investors/{investor_id}/positions/{position_id}", get_position, methods=["GET"]),
]
