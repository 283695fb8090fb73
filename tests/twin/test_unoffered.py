"""Bluum routes the twin does not offer answer as Bluum does: a documented route it does not implement is the
unknown-route 404 BLUM-404-002 (never a domain error from the id route it resembles, such as "Asset 'BATCH' not
found"), and an add-on product answers 403 with the legacy PRODUCT_NOT_ENABLED body, whatever the method."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route

from bluum_readiness.twin import app as twin_app
from bluum_readiness.twin.resources import unoffered

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _unknown_route(r: httpx.Response, method: str, path: str) -> None:
    assert r.status_code == 404, (method, path, r.text)
    error = r.json()["error"]
    assert (error["code"], error["type"]) == ("BLUM-404-002", "not_found_error"), (method, path, error)
    assert f"{method} /v1{path}" in error["message"] and "does not implement" in error["message"]
    assert r.headers["x-request-id"].startswith("req_")


def _product_not_enabled(r: httpx.Response, product: str) -> None:
    assert r.status_code == 403, r.text
    body = r.json()
    assert set(body) == {"status", "code", "message"}, "the legacy body, not the Gen C error envelope"
    assert (body["status"], body["code"]) == ("error", "PRODUCT_NOT_ENABLED")
    assert product in body["message"]
    assert r.headers["x-request-id"].startswith("req_")


@pytest.fixture
def ids(inproc: Any) -> dict[str, str]:
    """Real ids of the tenant, so a path that reached an id route would find its resource (or its absence)."""
    investor = inproc.new_investor()
    return {
        "investor_id": investor["id"],
        "symbol": "AAPL",
        "workflow_id": "wf_01j9x8m2k7qpzwv3t5r6y8n0ab",
        "funding_source_id": "fs_01j9x8m2k7qpzwv3t5r6y8n0ab",
        "deposit_id": "dep_01j9x8m2k7qpzwv3t5r6y8n0ab",
        "account_id": investor["id"],
        "code": "XNYS",
    }


def _concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


@pytest.mark.parametrize("path", ["/assets/batch?symbols=AAPL,MSFT", "/assets/chart?symbol=AAPL&timeframe=1Day"])
def test_assets_batch_and_chart_are_unknown_routes_not_an_asset_named_batch(inproc: Any, path: str) -> None:
    r = inproc.client.get(path)
    _unknown_route(r, "GET", path.split("?")[0])
    assert "BATCH" not in r.text and "CHART" not in r.text


@pytest.mark.parametrize(("methods", "path"), unoffered.NOT_IMPLEMENTED, ids=lambda v: str(v))
def test_every_documented_route_the_twin_lacks_is_the_unknown_route_404(
    inproc: Any, ids: dict[str, str], methods: tuple[str, ...], path: str
) -> None:
    concrete = _concrete(path, ids)
    for method in methods:
        _unknown_route(inproc.client.request(method, concrete, json={}), method, concrete)


def test_a_literal_sibling_of_an_id_route_never_reaches_the_id_route(inproc: Any, ids: dict[str, str]) -> None:
    """The general rule: for every implemented route ending in a path parameter, each documented-but-unimplemented
    route that its pattern would capture (``/assets/batch`` by ``/assets/{symbol}``, ``/investors/eligibility`` by
    ``/investors/{investor_id}``) answers 404 BLUM-404-002 for every method the id route takes."""
    checked = 0
    for route in twin_app.api_routes():
        assert isinstance(route, Route)
        if not route.path.endswith("}"):
            continue
        for template in (p for _, p in unoffered.NOT_IMPLEMENTED if p != route.path):
            literal = _concrete(template, ids)
            if route.path_regex.match(literal):
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    _unknown_route(inproc.client.request(method, literal, json={}), method, literal)
                    checked += 1
    assert checked >= 4, "the assets and investors id routes have literal siblings"


def test_implemented_methods_of_a_partly_implemented_route_still_work(inproc: Any, ids: dict[str, str]) -> None:
    """``PATCH /investors/{id}`` is not implemented; ``GET`` on the same path is, and stays so."""
    investor = f"/investors/{ids['investor_id']}"
    assert inproc.client.get(investor).status_code == 200
    _unknown_route(inproc.client.patch(investor, json={"email": "x@example.com"}), "PATCH", investor)
    assert inproc.client.get("/assets/AAPL").json()["symbol"] == "AAPL"
    assert inproc.client.get("/assets/search", params={"q": "AAPL"}).status_code == 200


ADD_ON_ROUTES = [
    ("Market Data", "GET", "/market-data/assets/AAPL"),
    ("Market Data", "GET", "/market-data/assets/AAPL/quote"),
    ("Market Data", "GET", "/market-data/assets/AAPL/snapshot"),
    ("Market Data", "GET", "/market-data/assets/AAPL/bars"),
    ("Market Data", "GET", "/market-data/assets/AAPL/quotes/history"),
    ("Market Data", "GET", "/market-data/markets"),
    ("Market Data", "GET", "/market-data/markets/XNYS/status"),
    ("Market Data", "GET", "/market-data/markets/XNYS/calendar"),
    ("Market Data", "GET", "/market-data/markets/XNYS/halts"),
    ("Cash Management", "GET", "/cash-management/programs"),
    ("Cash Management", "POST", "/investors/{investor_id}/cash-management"),
    ("Cash Management", "GET", "/investors/{investor_id}/cash-management/balances"),
    ("Cash Management", "GET", "/investors/{investor_id}/cash-management/activity"),
    ("Cash Management", "POST", "/investors/{investor_id}/cash-management/sweeps"),
    ("Cash Management", "GET", "/investors/{investor_id}/cash-sweep/interest"),
    ("Wealth", "GET", "/wealth/accounts/{investor_id}/goals"),
    ("Wealth", "POST", "/wealth/accounts/{investor_id}/goals"),
    ("Wealth", "DELETE", "/wealth/accounts/{investor_id}/goals/goal_1"),
    ("Wealth", "GET", "/wealth/accounts/{investor_id}/life-events"),
    ("Wealth", "GET", "/wealth/accounts/{investor_id}/external-accounts"),
    ("Wealth", "PUT", "/wealth/accounts/{investor_id}/investment-policy"),
    ("Wealth", "POST", "/wealth/accounts/{investor_id}/investment-policy/validate"),
    ("Wealth", "GET", "/wealth/accounts/{investor_id}/insights"),
    ("Wealth", "GET", "/wealth/accounts/{investor_id}/recommendations"),
    ("Wealth", "GET", "/wealth/accounts/{investor_id}/portfolios/pf_1/performance"),
    ("Wealth", "POST", "/wealth/accounts/{investor_id}/assistant/chat"),
    ("Wealth", "POST", "/wealth/accounts/{investor_id}/auto-invest/ai_1/pause"),
    ("Local bank directory", "GET", "/banks?country=NG"),
]


@pytest.mark.parametrize(("product", "method", "path"), ADD_ON_ROUTES, ids=lambda v: str(v))
def test_an_add_on_route_answers_product_not_enabled(
    inproc: Any, ids: dict[str, str], product: str, method: str, path: str
) -> None:
    _product_not_enabled(inproc.client.request(method, _concrete(path, ids), json={}), product)


@pytest.mark.parametrize("add_on", unoffered.ADD_ONS, ids=lambda a: a.product)
def test_every_add_on_prefix_answers_for_every_method_and_is_covered_above(
    inproc: Any, ids: dict[str, str], add_on: unoffered.AddOn
) -> None:
    for prefix in add_on.prefixes:
        assert any(_concrete(p, ids).startswith(_concrete(prefix, ids)) for _, _, p in ADD_ON_ROUTES), prefix
        for method in METHODS:
            for path in (prefix, prefix + "/anything/below"):
                _product_not_enabled(inproc.client.request(method, _concrete(path, ids)), add_on.product)


def test_add_on_routes_still_need_credentials(inproc: Any) -> None:
    r = inproc.client_for(None).get("/wealth/accounts/inv_x/goals")
    assert r.status_code == 401 and r.json()["error"]["code"] == "BLUM-401-001"


def test_the_openapi_document_lists_what_is_not_offered_and_routes_none_of_it(inproc: Any) -> None:
    doc = inproc.client.get("/openapi.json").json()
    offered = doc["x-bluum-not-offered"]
    assert [(a["product"], a["prefixes"]) for a in offered["add_ons"]] == [
        (a.product, list(a.prefixes)) for a in unoffered.ADD_ONS
    ]
    assert [(tuple(n["methods"]), n["path"]) for n in offered["not_implemented"]] == list(unoffered.NOT_IMPLEMENTED)
    for entry in offered["not_implemented"]:
        operations = doc["paths"].get(entry["path"], {})
        assert not set(operations) & {m.lower() for m in entry["methods"]}, entry
    assert not [p for p in doc["paths"] if any(p.startswith(x) for a in unoffered.ADD_ONS for x in a.prefixes)]


def test_the_unoffered_routes_are_matched_before_the_implemented_ones() -> None:
    app = twin_app.create_app(background=False)
    v1 = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/v1")
    paths = [r.path for r in v1.routes if isinstance(r, Route)]
    assert paths.index("/assets/batch") < paths.index("/assets/{symbol}")
    assert paths.index("/investors/eligibility") < paths.index("/investors/{investor_id}")
    app.state.twin.close()


def test_over_real_sockets(client: httpx.Client) -> None:
    _unknown_route(client.get("/assets/batch", params={"symbols": "AAPL"}), "GET", "/assets/batch")
    _product_not_enabled(client.get("/banks", params={"country": "NG"}), "Local bank directory")
