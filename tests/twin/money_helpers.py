"""Helpers shared by the money tests (funding sources, deposits, withdrawals, wallets)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from bluum_readiness.testing import manual_bank, plaid_bank


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def connect_plaid(client: httpx.Client, investor_id: str) -> dict[str, Any]:
    r = client.post(f"/investors/{investor_id}/funding-sources/connect", json=plaid_bank())
    assert r.status_code == 201, r.text
    source: dict[str, Any] = r.json()["data"][0]
    return source


def connect_manual(client: httpx.Client, investor_id: str, **overrides: Any) -> dict[str, Any]:
    r = client.post(f"/investors/{investor_id}/funding-sources/connect", json=manual_bank(**overrides))
    assert r.status_code == 201, r.text
    source: dict[str, Any] = r.json()
    return source


def deposit(client: httpx.Client, investor_id: str, amount: str = "100.00", **fields: Any) -> httpx.Response:
    body = {"amount": amount, "currency": "USD", "method": "ach", **fields}
    return client.post(f"/investors/{investor_id}/deposits", json=body, headers=key())


def withdraw(
    client: httpx.Client, investor_id: str, amount: str, funding_source_id: str, **fields: Any
) -> httpx.Response:
    body = {"amount": amount, "method": "ach", "funding_source_id": funding_source_id, **fields}
    return client.post(f"/investors/{investor_id}/withdrawals", json=body, headers=key())


def funded(inproc: Any, amount: str = "100.00") -> tuple[dict[str, Any], dict[str, Any]]:
    """An active investor with a Plaid account and a completed ACH deposit of ``amount``."""
    investor = inproc.new_investor()
    source = connect_plaid(inproc.client, investor["id"])
    r = deposit(inproc.client, investor["id"], amount, funding_source_id=source["id"])
    assert r.status_code == 201, r.text
    inproc.advance()
    got = inproc.client.get(f"/investors/{investor['id']}/deposits/{r.json()['id']}").json()
    assert got["status"] == "completed", got
    return investor, source


def wallet(client: httpx.Client, investor_id: str) -> dict[str, Any]:
    r = client.get(f"/investors/{investor_id}/wallets")
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    assert len(data) == 1
    return data[0]


def ledger(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    r = client.get(client.base_url.join("/_sandbox/ledger"), params=params)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return rows


def sandbox(client: httpx.Client, path: str, **kwargs: Any) -> httpx.Response:
    return client.post(client.base_url.join("/_sandbox" + path), **kwargs)


def events(inproc: Any, event_type: str) -> list[dict[str, Any]]:
    rows = inproc.twin.db.all("SELECT body FROM events WHERE type = ? ORDER BY seq", (event_type,))
    return [json.loads(r[0]) for r in rows]


def error(r: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = r.json()["error"]
    return body
