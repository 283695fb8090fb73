"""``bluum-readiness tour``: walk a full Bluum lifecycle against a throw-away twin and save the transcript.

A first look at the twin (and the README's first command until ``bluum-readiness run`` lands): every
request and response is kept in ``tour.json`` so a newcomer can read what the API did.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluum_readiness.errors import ConfigError, HarnessError
from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank

if TYPE_CHECKING:
    import httpx


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "tour",
        help="walk a full lifecycle against a throw-away sandbox twin",
        description="Start an in-memory sandbox twin, walk investor → KYC → banks → deposits → orders → "
        "positions → withdrawal through its API, and write the transcript to OUT/tour.json.",
    )
    p.add_argument("--out", default="readiness-out", help="folder for tour.json (default: %(default)s)")
    p.set_defaults(handler=run, imports=("httpx", "bluum_readiness.twin.server"))


class Tour:
    """Calls the twin and keeps the transcript. API paths go under /v1, sandbox controls under /_sandbox."""

    def __init__(self, client: httpx.Client, origin: str) -> None:
        self.client = client
        self.origin = origin
        self.transcript: list[dict[str, Any]] = []

    def call(self, step: str, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        url = f"{self.origin}{path}" if path.startswith("/_sandbox") else f"{self.origin}/v1{path}"
        response = self.client.request(method, url, **kwargs)
        body = response.json() if response.content else None
        self.transcript.append(
            {
                "step": step,
                "request": {"method": method, "url": url, "json": kwargs.get("json")},
                "response": {
                    "status": response.status_code,
                    "request_id": response.headers.get("x-request-id"),
                    "body": body,
                },
            }
        )
        if response.status_code != expect:
            raise HarnessError(f"tour step {step!r}: expected HTTP {expect}, got {response.status_code}: {body}")
        return body

    def wait_for(self, step: str, url: str, field: str, value: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            body = self.call(step, "GET", url, 200)
            if body[field] == value:
                return body
            if time.monotonic() > deadline:
                raise HarnessError(f"tour step {step!r}: {url} stayed {field}={body[field]!r}, expected {value!r}")
            time.sleep(0.02)

    def say(self, text: str) -> None:
        print(f"  ✓ {text}", flush=True)


def walk(tour: Tour) -> None:
    inv = tour.call("create investor", "POST", "/investors", 201, json=investor_profile())["id"]
    tour.wait_for("KYC approved", f"/investors/{inv}", "status", "active")
    tour.say(f"investor {inv} created and KYC-approved")
    doc = tour.call(
        "upload KYC document",
        "POST",
        "/documents",
        201,
        data={"document_type": "id_verification", "purpose": "KYC", "investor_id": inv},
        files={"document": ("passport.pdf", b"%PDF-1.4 tour", "application/pdf")},
    )["id"]
    tour.wait_for("document accepted", f"/documents/{doc}", "status", "accepted")
    tour.say(f"document {doc} uploaded and accepted")
    tour.call("plaid link token", "POST", f"/investors/{inv}/funding-sources/plaid/link-token", 200, json={})
    plaid = tour.call("link bank (Plaid)", "POST", f"/investors/{inv}/funding-sources/connect", 201, json=plaid_bank())[
        "data"
    ][0]["id"]
    manual = tour.call(
        "link bank (manual)", "POST", f"/investors/{inv}/funding-sources/connect", 201, json=manual_bank()
    )["id"]
    tour.say(f"banks linked: {plaid} (Plaid), {manual} (manual)")
    dep = tour.call(
        "ACH deposit",
        "POST",
        f"/investors/{inv}/deposits",
        201,
        headers={"Idempotency-Key": "tour-dep-1"},
        json={"amount": "5000.00", "currency": "USD", "method": "ach", "funding_source_id": plaid},
    )["id"]
    tour.wait_for("ACH deposit completes", f"/investors/{inv}/deposits/{dep}", "status", "completed")
    wire = tour.call(
        "manual deposit",
        "POST",
        f"/investors/{inv}/deposits",
        201,
        headers={"Idempotency-Key": "tour-dep-2"},
        json={"amount": "250.00", "currency": "USD", "method": "manual_bank_transfer"},
    )["id"]
    tour.call("sandbox: complete manual deposit", "POST", f"/_sandbox/deposits/{wire}/complete", 200)
    tour.say(f"deposits completed: {dep} (ACH $5000.00), {wire} (manual $250.00)")
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "2"}
    mkt = tour.call("market buy", "POST", f"/investors/{inv}/orders", 201, json=order)["id"]
    tour.wait_for("market order fills", f"/investors/{inv}/orders/{mkt}", "status", "filled")
    price = tour.call("AAPL price", "GET", "/assets/AAPL", 200)["price"]
    limit_price = f"{float(price) * 0.95:.2f}"
    limit = {**order, "type": "limit", "time_in_force": "gtc", "limit_price": limit_price, "quantity": "1"}
    lmt = tour.call("limit buy below the market", "POST", f"/investors/{inv}/orders", 201, json=limit)["id"]
    tour.wait_for("limit order rests", f"/investors/{inv}/orders/{lmt}", "status", "open")
    tour.call(
        "sandbox: move AAPL below the limit",
        "PUT",
        "/_sandbox/prices/AAPL",
        200,
        json={"price": f"{float(price) * 0.94:.2f}"},
    )
    tour.wait_for("limit order fills", f"/investors/{inv}/orders/{lmt}", "status", "filled")
    tour.say(f"orders filled: {mkt} (market), {lmt} (limit, after the price crossed)")
    far = {**limit, "limit_price": f"{float(price) * 0.5:.2f}"}
    rest = tour.call("resting limit order", "POST", f"/investors/{inv}/orders", 201, json=far)["id"]
    tour.wait_for("order rests", f"/investors/{inv}/orders/{rest}", "status", "open")
    tour.call("cancel the resting order", "POST", f"/investors/{inv}/orders/{rest}/cancel", 200)
    tour.say(f"resting order {rest} cancelled")
    positions = tour.call("positions", "GET", f"/investors/{inv}/positions", 200)["data"]
    tour.say(
        "position: " + ", ".join(f"{p['symbol']} × {p['quantity']} @ {p['average_cost_basis']}" for p in positions)
    )
    wd = tour.call(
        "withdrawal",
        "POST",
        f"/investors/{inv}/withdrawals",
        201,
        headers={"Idempotency-Key": "tour-wd-1"},
        json={"amount": "100.00", "currency": "USD", "method": "ach", "funding_source_id": plaid},
    )["id"]
    tour.wait_for("withdrawal completes", f"/investors/{inv}/withdrawals/{wd}", "status", "completed")
    wallet = tour.call("wallet", "GET", f"/investors/{inv}/wallets", 200)["data"][0]
    tour.say(f"withdrawal {wd} completed; cash balance {wallet['balance']}, equity {wallet['equity']}")
    ledger = tour.call("sandbox: money ledger", "GET", "/_sandbox/ledger", 200, params={"investor_id": inv})["data"]
    tour.say(f"ledger: {len(ledger)} money movements, one per operation")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --out folder {out}: {exc.strerror}; pass a writable folder") from None
    import httpx  # with the twin (FastAPI, uvicorn: ~0.3 s), once the tour runs

    from bluum_readiness._client_tls import tls_context_for
    from bluum_readiness.twin import TwinServer, TwinSettings

    print("Starting a throw-away Bluum sandbox twin (in memory, no network)…", flush=True)
    path = out / "tour.json"
    with (
        TwinServer(TwinSettings.fast()) as twin,
        httpx.Client(auth=twin.auth, timeout=10, verify=tls_context_for(twin.base_url)) as client,
    ):
        print(f"  twin at {twin.base_url}", flush=True)
        tour = Tour(client, twin.origin)
        try:
            walk(tour)
        finally:
            path.write_text(json.dumps({"base_url": twin.base_url, "steps": tour.transcript}, indent=2))
    print(f"Lifecycle complete. Transcript: {path.resolve()}")
    return 0
