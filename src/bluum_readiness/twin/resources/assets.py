"""Assets: the catalogue (◆ fixed US equities/ETFs), search, and one asset by symbol."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import catalog
from bluum_readiness.twin.errors import ApiError

# Gen C classes, plus the legacy ``asset_class`` vocabulary (still accepted by Bluum).
CLASSES = (
    "equity",
    "etf",
    "bond",
    "bill",
    "note",
    "mutual_fund",
    "derivative",
    "cryptocurrency",
    "commodity",
    "real_estate",
    "cash",
    "us_equity",
    "crypto",
    "us_option",
    "ng_equity",
    "ng_bond",
    "ng_etf",
)
STATUSES = ("active", "inactive")
MARKETS = ("XNAS", "XNYS", "BATS", "ARCA", "OTC", "XNSA")


def _class_matches(wanted: str | None, asset: catalog.Asset) -> bool:
    if wanted is None:
        return True
    if wanted == "us_equity":  # legacy name for every US equity and ETF
        return True
    return asset.asset_class == wanted


def _filtered(request: Request, assets: Iterable[catalog.Asset], *, default_status: str | None) -> list[catalog.Asset]:
    asset_class = http.query_enum(request, "asset_class", CLASSES)
    cls = http.query_enum(request, "class", CLASSES)
    status = http.query_enum(request, "status", STATUSES) or default_status
    market = request.query_params.get("market")
    country = request.query_params.get("country")
    tradable = http.query_bool(request, "tradable", False) if "tradable" in request.query_params else None
    return [
        a
        for a in assets
        if _class_matches(asset_class, a)
        and _class_matches(cls, a)
        and (status is None or a.status == status)
        and (market is None or a.market == market.upper())
        and (country is None or country.upper() == "US")
        and (tradable is None or a.tradable == tradable)
    ]


async def list_assets(request: Request) -> Response:
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    assets = _filtered(request, catalog.ASSETS.values(), default_status=None)
    return http.list_envelope(request, [catalog.render(twin, tenant, a) for a in assets])


async def search_assets(request: Request) -> Response:
    """Case-insensitive substring match on symbol or name; exact symbol first, then symbol prefixes."""
    q = (request.query_params.get("q") or "").strip()
    if not q:
        raise ApiError("BLUM-400-002", "Missing required query parameter 'q' (a symbol or part of a name).", param="q")
    needle = q.upper()
    hits = [a for a in catalog.ASSETS.values() if needle in a.symbol or needle in a.name.upper()]
    hits.sort(key=lambda a: (a.symbol != needle, not a.symbol.startswith(needle), a.symbol))
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    assets = _filtered(request, hits, default_status="active")
    return http.list_envelope(request, [catalog.render(twin, tenant, a) for a in assets])


async def get_asset(request: Request) -> Response:
    asset = catalog.require(request.path_params["symbol"])
    return http.json(catalog.render(http.twin(request), http.principal(request).tenant_id, asset))


routes = [
    Route("/assets", list_assets, methods=["GET"]),
    Route("/assets/search", search_assets, methods=["GET"]),
    Route("/assets/{symbol}", get_asset, methods=["GET"]),
]
