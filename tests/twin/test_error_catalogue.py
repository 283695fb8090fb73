"""Every error code the twin can emit, produced through the API and checked against the envelope.

The table below drives one request per code. A meta-check keeps it honest: the codes it produces plus the
codes the twin never emits (documented in docs/sandbox-twin.md) are exactly the catalogue, and every code
the twin's source raises is in the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluum_readiness.testing import investor_profile, plaid_bank
from bluum_readiness.twin.errors import CATALOGUE, error_type

NEVER_EMITTED = {
    "BLUM-422-002": "the twin's market is always open",
    "BLUM-422-005": "the twin has no withdrawal limits",
    "BLUM-500-017": "the twin has no upstream services",
}
SANDBOX = "http://twin/_sandbox"
SRC = Path(__file__).resolve().parents[2] / "src" / "bluum_readiness" / "twin"


class World:
    """An in-process twin with an active, funded investor (and a linked bank) to provoke errors against."""

    def __init__(self, make_inproc: Callable[..., Any]) -> None:
        self.t = make_inproc(max_upload_bytes=1000)
        self.c: httpx.Client = self.t.client
        self.inv = self.t.new_investor()["id"]
        self.fs = self.c.post(f"/investors/{self.inv}/funding-sources/connect", json=plaid_bank()).json()["data"][0]
        self.deposit = self.post_money("deposits", "100.00", key="fund")
        self.t.advance()

    def post_money(self, kind: str, amount: str, key: str, inv: str | None = None) -> httpx.Response:
        body = {"amount": amount, "currency": "USD", "method": "ach", "funding_source_id": self.fs["id"]}
        return self.c.post(f"/investors/{inv or self.inv}/{kind}", json=body, headers={"Idempotency-Key": key})

    def tenant_key(self, **body: Any) -> httpx.Client:
        created = self.c.post(f"{SANDBOX}/api-keys", json=body).json()
        return self.t.client_for(None, auth=(created["key"], created["secret"]))


def _investor_key(w: World) -> httpx.Client:
    created = w.c.post(f"/investors/{w.inv}/api-keys", json={"name": "app"}).json()
    return w.t.client_for(None, auth=(created["public_key"], created["secret_key"]))


def _deactivated_key(w: World) -> httpx.Response:
    created = w.c.post(f"{SANDBOX}/api-keys", json={}).json()
    w.c.post(f"{SANDBOX}/api-keys/{created['id']}/deactivate")
    return w.t.client_for(None, auth=(created["key"], created["secret"])).get("/investors")


def _closed_investor(w: World) -> httpx.Response:
    inv = w.t.new_investor()["id"]
    assert w.c.post(f"/investors/{inv}/close", json={}).status_code == 200
    return w.c.post(f"/investors/{inv}/orders", json={"symbol": "AAPL", "side": "buy", "type": "market",
                                                      "time_in_force": "day", "quantity": "1"})  # fmt: skip


def _under_review(w: World) -> httpx.Response:
    inv = w.t.new_investor()["id"]
    w.c.post(f"{SANDBOX}/investors/{inv}/kyc", json={"status": "under_review"})
    return w.c.post(f"/investors/{inv}/orders", json={"symbol": "AAPL", "side": "buy", "type": "market",
                                                      "time_in_force": "day", "quantity": "1"})  # fmt: skip


def _order(w: World, **fields: Any) -> httpx.Response:
    body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1", **fields}
    return w.c.post(f"/investors/{w.inv}/orders", json=body)


def _idempotency_conflict(w: World) -> httpx.Response:
    w.post_money("deposits", "1.00", key="conflict")
    return w.post_money("deposits", "2.00", key="conflict")


def _internal_error(w: World, monkeypatch: pytest.MonkeyPatch) -> httpx.Response:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(w.t.twin.store, "list", broken)
    return w.c.get("/investors")


def _rate_limited(make_inproc: Callable[..., Any]) -> httpx.Response:
    t = make_inproc(rate_limit_per_s=1)
    t.client.get("/investors")
    response: httpx.Response = t.client.get("/investors")
    return response


CASES: dict[str, Callable[..., httpx.Response]] = {
    "BLUM-400-001": lambda w: w.c.post("/investors", content=b"[", headers={"content-type": "application/json"}),
    "BLUM-400-002": lambda w: w.c.post("/investors", json={}),
    "BLUM-400-003": lambda w: w.c.post("/investors", json=investor_profile(phone="12")),
    "BLUM-400-004": lambda w: w.c.post("/investors", json=investor_profile(account_type="ira")),
    "BLUM-400-005": lambda w: w.post_money("deposits", "-5", key="neg"),
    "BLUM-400-006": lambda w: _order(w, quantity="0"),
    "BLUM-400-007": lambda w: w.c.get(f"/investors/{w.inv}/transactions?date_from=2026-02-01&date_to=2026-01-01"),
    "BLUM-400-008": lambda w: w.c.post(
        "/documents",
        data={"document_type": "id", "investor_id": w.inv},
        files={"document": ("big.pdf", b"x" * 2000, "application/pdf")},
    ),
    "BLUM-401-001": lambda w: w.t.client_for(None).get("/investors"),
    "BLUM-401-002": lambda w: w.t.client_for(None).get("/investors", headers={"Authorization": "Token x"}),
    "BLUM-401-003": lambda w: w.t.client_for(None, auth=("test_bluum_x", "y")).get("/investors"),
    "BLUM-401-004": _deactivated_key,
    "BLUM-401-005": lambda w: w.tenant_key(expires_at=1).get("/investors"),
    "BLUM-403-001": lambda w: _investor_key(w).get("/webhooks"),
    "BLUM-403-002": _under_review,
    "BLUM-403-003": lambda w: w.c.post(f"/investors/{w.inv}/api-keys", json={"environment": "PRODUCTION"}),
    "BLUM-403-004": _closed_investor,
    "BLUM-404-001": lambda w: w.c.get("/investors/inv_01j9x8m2k7qpzwv3t5r6y8n0ab"),
    "BLUM-404-002": lambda w: w.c.get("/portfolios"),
    "BLUM-404-003": lambda w: w.c.get("/assets/NOPE"),
    "BLUM-409-001": lambda w: w.c.post(
        "/investors", json=investor_profile(email=w.c.get(f"/investors/{w.inv}").json()["email"])
    ),  # fmt: skip
    "BLUM-409-002": _idempotency_conflict,
    "BLUM-409-003": lambda w: w.c.post(f"/investors/{w.inv}/deposits/{w.deposit.json()['id']}/cancel"),
    "BLUM-422-001": lambda w: w.post_money("withdrawals", "100000.00", key="too-much"),
    "BLUM-422-003": lambda w: _order(w, symbol="TWTR"),
    "BLUM-422-004": lambda w: _order(w, side="sell", quantity="5"),
    "BLUM-429-001": lambda w, make_inproc: _rate_limited(make_inproc),
    "BLUM-500-001": lambda w, monkeypatch: _internal_error(w, monkeypatch),
}


def test_the_table_and_the_never_emitted_list_are_the_whole_catalogue():
    assert set(CASES) | set(NEVER_EMITTED) == set(CATALOGUE)
    assert not set(CASES) & set(NEVER_EMITTED)
    doc = (SRC.parents[2] / "docs" / "sandbox-twin.md").read_text()
    assert all(code in doc for code in NEVER_EMITTED), "docs/sandbox-twin.md must say which codes never occur"


def test_every_code_raised_in_the_source_is_in_the_table():
    raised = set()
    for path in SRC.rglob("*.py"):
        if path.name != "errors.py":
            raised |= set(re.findall(r"BLUM-\d{3}-\d{3}", path.read_text()))
    assert raised <= set(CASES), sorted(raised - set(CASES))


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_produced_with_the_documented_envelope(code, make_inproc, monkeypatch):
    world = World(make_inproc)
    case = CASES[code]
    extra = {"make_inproc": make_inproc, "monkeypatch": monkeypatch}
    names = case.__code__.co_varnames[: case.__code__.co_argcount]
    response = case(world, *[extra[n] for n in names[1:]])
    assert response.status_code == CATALOGUE[code].status, response.text
    error = response.json()["error"]
    assert error["code"] == code, response.text
    assert error["type"] == error_type(code)
    assert error["message"]
    assert response.headers["x-request-id"].startswith("req_")
