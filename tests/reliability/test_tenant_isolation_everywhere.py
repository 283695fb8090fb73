"""Tenant isolation on every route: the OpenAPI document's and the sandbox controls'.

``tests/twin/test_tenant_isolation.py`` sends another tenant to every API route with an id in its path and
expects 404 BLUM-404-001; ``tests/twin/test_openapi.py`` proves those routes are exactly the document's
operations. This module closes the rest, and makes the coverage itself a test: every operation of the served
document is either one of those id routes or has an explicit probe here, and so has every sandbox control.
A new route without a probe fails ``test_every_route_has_an_isolation_probe``.

What the probes add: routes without ids in their path (lists, creates, the public catalogue), ids carried in
bodies and query strings (``funding_source_id``, ``investor_id``), and the ``/_sandbox`` controls (force
KYC, settle transfers, hold orders, retry deliveries, tenant keys, prices, reset).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from bluum_readiness.testing import investor_profile, plaid_bank
from bluum_readiness.twin import app as twin_app
from tests.twin.test_tenant_isolation import NO_IDS, _owned_resources

ID_PARAM = re.compile(r"\{(\w+_id)\}")
SANDBOX = "http://twin/_sandbox"


def _routes(routes: list[Any]) -> set[tuple[str, str]]:
    return {(m, r.path) for r in routes if isinstance(r, Route) for m in (r.methods or set()) - {"HEAD"}}


def _not_found(r: httpx.Response, what: str) -> None:
    assert r.status_code == 404, (what, r.status_code, r.text)
    assert r.json()["error"]["code"] == "BLUM-404-001", (what, r.text)


class World:
    """A victim tenant with one of everything, an intruder tenant with an active investor of its own."""

    def __init__(self, inproc: Any) -> None:
        self.t = inproc
        self.victim = inproc.client
        self.ids = _owned_resources(inproc)
        self.ids["key_id"] = self.victim.get(f"{SANDBOX}/api-keys").json()["data"][0]["id"]
        pending = self.victim.post(
            f"/investors/{self.ids['investor_id']}/deposits",
            json={"amount": "5.00", "currency": "USD", "method": "manual_bank_transfer"},
            headers={"Idempotency-Key": "pending"},
        )
        self.ids["pending_deposit_id"] = pending.json()["id"]  # its event is queued for the victim's webhook
        self.ids["delivery_id"] = self.victim.get(f"{SANDBOX}/webhook-deliveries").json()["data"][0]["id"]
        self.intruder = inproc.client_for(inproc.twin.create_tenant("intruder"))
        r = self.intruder.post("/investors", json=investor_profile())
        assert r.status_code == 201, r.text
        inproc.advance()
        self.own_investor = r.json()["id"]
        self.own_source = self.intruder.post(
            f"/investors/{self.own_investor}/funding-sources/connect", json=plaid_bank()
        ).json()["data"][0]["id"]

    def victim_snapshot(self) -> dict[str, Any]:
        """Everything the victim can see, to compare before and after the intruder's attempts."""
        inv = self.ids["investor_id"]
        paths = [f"/investors/{inv}", f"/investors/{inv}/deposits", f"/investors/{inv}/withdrawals",
                 f"/investors/{inv}/orders", f"/investors/{inv}/positions", f"/investors/{inv}/wallets",
                 f"/investors/{inv}/funding-sources", f"/investors/{inv}/api-keys", "/investors", "/webhooks",
                 "/documents", f"{SANDBOX}/ledger", f"{SANDBOX}/api-keys", f"{SANDBOX}/prices/AAPL"]  # fmt: skip
        return {p: _stable(self.victim.get(p).json()) for p in paths}


def _stable(body: Any) -> Any:
    """A response body without the fields that change with the clock alone."""
    if isinstance(body, dict):
        return {k: _stable(v) for k, v in body.items() if k not in ("price_timestamp", "updated_at")}
    if isinstance(body, list):
        return [_stable(v) for v in body]
    return body


# -- probes for documented operations without ids in their path ---------------------------------------------


def _public_and_tenant_free(w: World, path: str, **params: str) -> None:
    mine, theirs = w.victim.get(path, params=params), w.intruder.get(path, params=params)
    assert mine.status_code == theirs.status_code == 200, (path, theirs.text)
    assert _stable(mine.json()) == _stable(theirs.json()), f"{path} differs between tenants"
    assert w.ids["investor_id"] not in theirs.text


def _lists_show_none_of_theirs(w: World, path: str) -> None:
    r = w.intruder.get(path, params={"limit": 200})
    assert r.status_code == 200, (path, r.text)
    leaked = [name for name, rid in w.ids.items() if rid in r.text]
    assert not leaked, f"{path} shows the other tenant's {leaked}"


def _creates_stay_in_their_tenant(w: World, path: str) -> None:
    if path == "/investors":  # the victim's e-mail address is not "taken" in another tenant (that would leak it)
        victim_email = w.victim.get(f"/investors/{w.ids['investor_id']}").json()["email"]
        r = w.intruder.post("/investors", json=investor_profile(email=victim_email))
        assert r.status_code == 201, r.text
    elif path == "/webhooks":
        r = w.intruder.post("/webhooks", json={"url": "http://127.0.0.1:9/i", "eventTypeNames": ["*"], "name": "i"})
        assert r.status_code == 201, r.text
    else:  # /documents: a file for the victim's investor
        r = w.intruder.post(
            "/documents",
            data={"document_type": "id", "investor_id": w.ids["investor_id"]},
            files={"document": ("a.pdf", b"%PDF", "application/pdf")},
        )
        _not_found(r, "POST /documents for another tenant's investor")


def _documents_query(w: World) -> None:
    r = w.intruder.get("/documents", params={"investor_id": w.ids["investor_id"]})
    assert r.status_code == 404 or (r.status_code == 200 and r.json()["data"] == []), r.text


DOCUMENT_PROBES: dict[tuple[str, str], Callable[[World], None]] = {
    ("GET", "/openapi.json"): lambda w: _public_and_tenant_free(w, "/openapi.json"),
    ("GET", "/assets"): lambda w: _public_and_tenant_free(w, "/assets"),
    ("GET", "/assets/search"): lambda w: _public_and_tenant_free(w, "/assets/search", q="AAPL"),
    ("GET", "/assets/{symbol}"): lambda w: _public_and_tenant_free(w, "/assets/AAPL"),
    ("GET", "/webhooks/event-types"): lambda w: _public_and_tenant_free(w, "/webhooks/event-types"),
    ("GET", "/investors"): lambda w: _lists_show_none_of_theirs(w, "/investors"),
    ("GET", "/webhooks"): lambda w: _lists_show_none_of_theirs(w, "/webhooks"),
    ("GET", "/documents"): lambda w: (_lists_show_none_of_theirs(w, "/documents"), _documents_query(w)),
    ("POST", "/investors"): lambda w: _creates_stay_in_their_tenant(w, "/investors"),
    ("POST", "/webhooks"): lambda w: _creates_stay_in_their_tenant(w, "/webhooks"),
    ("POST", "/documents"): lambda w: _creates_stay_in_their_tenant(w, "/documents"),
}


# -- probes for sandbox controls without ids in their path --------------------------------------------------


def _prices_are_per_tenant(w: World) -> None:
    r = w.intruder.put(f"{SANDBOX}/prices/AAPL", json={"price": "1.00"})
    assert r.status_code == 200, r.text
    assert w.victim.get(f"{SANDBOX}/prices/AAPL").json()["source"] == "catalogue"
    w.victim.put(f"{SANDBOX}/prices/MSFT", json={"price": "9999.00"})
    assert w.intruder.get(f"{SANDBOX}/prices/MSFT").json()["source"] == "catalogue"
    assert w.intruder.delete(f"{SANDBOX}/prices/MSFT").status_code == 200
    assert w.victim.get(f"{SANDBOX}/prices/MSFT").json()["price"] == "9999.00"
    order = {"symbol": "MSFT", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    estimate = w.intruder.post(f"/investors/{w.own_investor}/order-estimates", json=order).json()
    assert "9999" not in str(estimate), estimate
    w.victim.delete(f"{SANDBOX}/prices/MSFT")


SANDBOX_PROBES: dict[tuple[str, str], Callable[[World], None]] = {
    ("POST", "/reset"): lambda w: w.intruder.post(f"{SANDBOX}/reset").raise_for_status(),  # victim compared after
    ("POST", "/tick"): lambda w: w.intruder.post(f"{SANDBOX}/tick").raise_for_status(),
    ("POST", "/tenants"): lambda w: w.intruder.post(f"{SANDBOX}/tenants", json={}).raise_for_status(),
    ("GET", "/ledger"): lambda w: _lists_show_none_of_theirs(w, f"{SANDBOX}/ledger"),
    ("GET", "/events"): lambda w: _lists_show_none_of_theirs(w, f"{SANDBOX}/events"),
    ("GET", "/webhook-deliveries"): lambda w: _lists_show_none_of_theirs(w, f"{SANDBOX}/webhook-deliveries"),
    ("GET", "/api-keys"): lambda w: _only_own_keys(w),
    ("POST", "/api-keys"): lambda w: w.intruder.post(f"{SANDBOX}/api-keys", json={}).raise_for_status(),
    ("PUT", "/prices/{symbol}"): _prices_are_per_tenant,
    ("GET", "/prices/{symbol}"): _prices_are_per_tenant,
    ("DELETE", "/prices/{symbol}"): _prices_are_per_tenant,
}

SANDBOX_BODIES = {"/kyc": {"status": "active"}, "/fail": {"reason": "intruder"}}


def _only_own_keys(w: World) -> None:
    keys = {k["id"] for k in w.intruder.get(f"{SANDBOX}/api-keys").json()["data"]}
    assert w.ids["key_id"] not in keys and keys


def _sandbox_id_routes(w: World) -> int:
    checked = 0
    for method, path in sorted(_routes(twin_app.sandbox_routes())):
        if not ID_PARAM.search(path):
            continue
        ids = {**w.ids, "deposit_id": w.ids["pending_deposit_id"]}  # settle controls need a pending one
        url = ID_PARAM.sub(lambda m, ids=ids: ids[m.group(1)], path)
        body = next((b for suffix, b in SANDBOX_BODIES.items() if path.endswith(suffix)), {})
        _not_found(w.intruder.request(method, f"{SANDBOX}{url}", json=body), f"{method} /_sandbox{path}")
        checked += 1
    return checked


def _bodies_and_queries_carry_no_foreign_ids(w: World) -> None:
    money = {"amount": "1.00", "currency": "USD", "method": "ach", "funding_source_id": w.ids["funding_source_id"]}
    for kind in ("deposits", "withdrawals"):
        r = w.intruder.post(f"/investors/{w.own_investor}/{kind}", json=money, headers={"Idempotency-Key": kind})
        _not_found(r, f"POST {kind} with another tenant's funding_source_id")


# -- the tests ----------------------------------------------------------------------------------------------


@pytest.fixture
def world(inproc: Any) -> Iterator[World]:
    w = World(inproc)
    yield w
    w.intruder.close()  # its in-process transport runs a portal thread; an unclosed one can block exit


def test_every_route_has_an_isolation_probe(inproc):
    documented = {
        (m.upper(), p) for p, item in inproc.client.get("/openapi.json").json()["paths"].items() for m in item
    }
    with_ids = {(m, p) for m, p in _routes(twin_app.api_routes()) if p not in NO_IDS}
    assert documented == with_ids | set(DOCUMENT_PROBES), "a documented operation has no tenant-isolation probe"
    assert not with_ids & set(DOCUMENT_PROBES)
    sandbox = _routes(twin_app.sandbox_routes())
    sandbox_with_ids = {(m, p) for m, p in sandbox if ID_PARAM.search(p)}
    assert sandbox == sandbox_with_ids | set(SANDBOX_PROBES), "a sandbox control has no tenant-isolation probe"


def test_another_tenant_can_neither_see_nor_touch_anything(world):
    w = world
    before = w.victim_snapshot()
    for probe in DOCUMENT_PROBES.values():
        probe(w)
    _bodies_and_queries_carry_no_foreign_ids(w)
    assert _sandbox_id_routes(w) >= 10
    for probe in SANDBOX_PROBES.values():
        probe(w)
    assert w.victim_snapshot() == before, "the victim's world changed"
    pending = w.victim.get(f"/investors/{w.ids['investor_id']}/deposits/{w.ids['pending_deposit_id']}").json()
    assert pending["status"] == "pending"
