"""Bluum routes the twin does not offer, answered as Bluum would rather than by whatever route they resemble.

- **Add-on products** (◆ the twin's tenant has none enabled): Market Data, Cash Management, Wealth and the local
  bank directory answer like Bluum for a product that is not enabled — HTTP 403 with the legacy body
  ``{"status": "error", "code": "PRODUCT_NOT_ENABLED", "message": …}`` (shared/reference/bluum-api-research.md
  §1.7), whatever the method and the rest of the path.
- **Documented routes the twin does not implement** answer the unknown-route 404 BLUM-404-002, naming the route,
  even where they look like an id route: ``/assets/batch`` is not the asset "BATCH", ``/investors/eligibility``
  is not an investor. Without these entries the id route would answer a domain error (404-003 "Asset 'BATCH' not
  found", 404-001) that sends a client looking for a missing resource instead of a missing endpoint.

``routes(implemented)`` is mounted ahead of the implemented routes (``app.create_app``): an entry takes every method,
except where its path is itself an implemented route (``PATCH /investors/{id}``), where it takes only its own. They
are not operations of the OpenAPI document (nothing is implemented): it lists them under ``x-bluum-not-offered``
(``openapi_spec``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bluum_readiness.twin.errors import ApiError

__all__ = ["ADD_ONS", "ALL_METHODS", "NOT_IMPLEMENTED", "AddOn", "routes"]

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_INV = "/investors/{investor_id}"


@dataclass(frozen=True)
class AddOn:
    """An add-on product: its name and the path prefixes it owns (every path under each, any method)."""

    product: str
    prefixes: tuple[str, ...]


ADD_ONS: tuple[AddOn, ...] = (
    AddOn("Market Data", ("/market-data",)),
    AddOn("Cash Management", ("/cash-management", f"{_INV}/cash-management", f"{_INV}/cash-sweep")),
    AddOn("Wealth", ("/wealth",)),
    AddOn("Local bank directory (non-US payouts)", ("/banks",)),
)

# (methods, path): documented Bluum routes the twin does not implement (docs/sandbox-twin.md, "Not implemented").
NOT_IMPLEMENTED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("GET",), "/assets/batch"),
    (("GET",), "/assets/chart"),
    (("GET",), "/assets/list"),
    (("GET",), "/assets/{symbol}/bars"),
    (("GET",), "/assets/{symbol}/quotes/history"),
    (("POST",), "/investors/eligibility"),
    (("PATCH",), _INV),
    (("POST",), f"{_INV}/compliance/submit"),
    (("POST",), f"{_INV}/compliance/restart"),
    (("GET",), f"{_INV}/compliance/workflows/{{workflow_id}}"),
    (("PATCH",), f"{_INV}/funding-sources/{{funding_source_id}}"),
    (("GET",), f"{_INV}/deposits/{{deposit_id}}/wire-details"),
    (("GET", "POST"), "/documents/accounts/{account_id}/upload"),
    (("GET",), "/markets/{code}"),
    (("GET",), "/markets/{code}/sessions"),
)


def _product_not_enabled(product: str) -> Callable[[Request], Awaitable[Response]]:
    body = {
        "status": "error",
        "code": "PRODUCT_NOT_ENABLED",
        "message": f"The {product} product is not enabled for this account; ask Bluum to enable it "
        "(the sandbox twin offers no add-on products: docs/sandbox-twin.md).",
    }

    async def product_not_enabled(request: Request) -> Response:
        """403 with Bluum's legacy body for a product the tenant has not enabled (not the Gen C envelope)."""
        return JSONResponse(body, status_code=403)

    return product_not_enabled


async def not_implemented(request: Request) -> Response:
    """The unknown-route 404 BLUM-404-002, saying the route is Bluum's but not the twin's."""
    raise ApiError(
        "BLUM-404-002",
        f"No endpoint {request.method} {request.url.path} in the sandbox twin: Bluum documents it, but the twin "
        "does not implement it (docs/sandbox-twin.md, 'Not implemented'); see /v1/openapi.json for what it does.",
    )


def routes(implemented: Collection[str]) -> list[BaseRoute]:
    """The routes to mount ahead of the ``implemented`` path templates (relative to /v1)."""
    found: list[BaseRoute] = []
    for add_on in ADD_ONS:
        answer = _product_not_enabled(add_on.product)
        for prefix in add_on.prefixes:
            found.append(Route(prefix, answer, methods=ALL_METHODS))
            found.append(Route(prefix + "/{rest:path}", answer, methods=ALL_METHODS))
    for methods, path in NOT_IMPLEMENTED:
        chosen = list(methods) if path in implemented else ALL_METHODS
        found.append(Route(path, not_implemented, methods=chosen))
    return found
