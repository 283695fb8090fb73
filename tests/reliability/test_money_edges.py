"""The twin's money and price routes under numbers at the edges, and every acknowledged transfer settling.

Kept from the issue-23 sweep, so that its kinds of bug stay found (schemathesis draws from the document's JSON
Schema, which rarely reaches these edges):

- ``test_edge_numbers_are_never_a_5xx``: amounts, quantities, notionals and prices drawn from huge digit
  strings (up to 5,000 digits), non-ASCII digits (Arabic-Indic, fullwidth, mathematical, any Unicode ``Nd``),
  exponents, signs, spaces, a trailing newline, ``NaN``/``Infinity`` (as strings and as raw JSON literals),
  ``1e999``, and integers over Python's 4,300-digit limit, sent as JSON strings or as raw number literals to the
  deposit, withdrawal, order, order-estimate and sandbox price routes. Every answer is below 500, every 4xx is in
  Bluum's envelope with a catalogue code, an accepted amount is ASCII ``[0-9]+(.[0-9]{1,2})?`` echoed as is, and
  an accepted deposit or withdrawal settles when the clock moves.
- ``test_every_acknowledged_transfer_reaches_a_terminal_status``: random sequences of ACH, manual and wire
  deposits, withdrawals, cancels, sandbox completes/fails and clock moves, with amounts from one cent to the
  maximum and beyond. Afterwards (eight days later, and a sandbox control on each wire deposit still waiting
  for one), every transfer the twin answered 201 to is ``completed``, ``failed`` or ``cancelled``, and the
  wallet balance is exactly the completed deposits minus the completed withdrawals.

In-process twin with a manual clock (``tests/fixtures/twin.py``): no sockets, no sleeps, deterministic
(``derandomize=True``), a few seconds in all.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fixtures.twin import InProcessTwin
from tests.reliability.edges import as_json_value
from tests.reliability.envelope import envelope_problem
from tests.twin.money_helpers import connect_plaid, deposit, key, sandbox, wallet

EIGHT_DAYS = 8 * 24 * 3600.0
TERMINAL = {"completed", "failed", "cancelled"}
ASCII_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
MAX_AMOUNT = Decimal("1000000000.00")

# route -> (path template, base body, the field that gets the edge value, needs an Idempotency-Key)
ROUTES: dict[str, tuple[str, dict[str, Any], str, bool]] = {
    "deposit": ("/investors/{inv}/deposits", {"method": "ach", "funding_source_id": "{fs}"}, "amount", True),
    "withdrawal": ("/investors/{inv}/withdrawals", {"method": "ach", "funding_source_id": "{fs}"}, "amount", True),
    "order quantity": (
        "/investors/{inv}/orders",
        {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"},
        "quantity",
        False,
    ),
    "order notional": (
        "/investors/{inv}/orders",
        {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"},
        "notional",
        False,
    ),
    "order limit_price": (
        "/investors/{inv}/orders",
        {"symbol": "AAPL", "side": "buy", "type": "limit", "time_in_force": "gtc", "quantity": "1"},
        "limit_price",
        False,
    ),
    "estimate limit_price": (
        "/investors/{inv}/order-estimates",
        {"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": "1"},
        "limit_price",
        False,
    ),
    "sandbox price": ("/_sandbox/prices/MSFT", {}, "price", False),
}

BOUNDS = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _body(base: dict[str, Any], field: str, raw_value: bytes, ids: dict[str, str]) -> bytes:
    filled = {k: v.format(**ids) if isinstance(v, str) else v for k, v in base.items()}
    head = json.dumps(filled)[:-1]
    return (head + (", " if filled else "") + json.dumps(field) + ": ").encode() + raw_value + b"}"


def test_edge_numbers_are_never_a_5xx() -> None:
    twin = InProcessTwin()
    try:
        investor = twin.new_investor()
        source = connect_plaid(twin.client, investor["id"])
        funding = deposit(twin.client, investor["id"], "1000000000.00", funding_source_id=source["id"])
        assert funding.status_code == 201, funding.text
        twin.advance()
        ids = {"inv": investor["id"], "fs": source["id"]}
        seen: set[int] = set()

        @BOUNDS
        @given(route=st.sampled_from(sorted(ROUTES)), value=as_json_value)
        def probe(route: str, value: bytes) -> None:
            template, base, field, keyed = ROUTES[route]
            path = template.format(**ids)
            url = twin.client.base_url.join(path) if path.startswith("/_sandbox") else path
            method = "PUT" if route == "sandbox price" else "POST"
            headers = {"content-type": "application/json", **(key() if keyed else {})}
            r = twin.client.request(method, url, content=_body(base, field, value, ids), headers=headers)
            seen.add(r.status_code)
            what = f"{method} {path} {field}={value[:60]!r} -> {r.status_code}: {r.text[:300]}"
            assert r.status_code < 500, what
            if r.status_code >= 400:
                assert envelope_problem(r.status_code, r.headers, r.content) is None, what
                return
            if route in ("deposit", "withdrawal"):
                sent = json.loads(value)
                assert isinstance(sent, str) and ASCII_AMOUNT.fullmatch(sent), what
                assert Decimal(sent) <= MAX_AMOUNT and r.json()["amount"] == f"{Decimal(sent):.2f}", what
                twin.advance(10)
                got = twin.client.get(f"{path}/{r.json()['id']}").json()
                assert got["status"] in TERMINAL, (what, got)

        probe()
        assert {400, 201} <= seen, seen  # the edges were refused, and some values went through
    finally:
        twin.close()


_amount = st.one_of(
    st.sampled_from(["0.01", "1.00", "999999999.99", "1000000000.00", "1000000000.01", "92233720368547758.08"]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2).map(str),
)
_step = st.one_of(
    st.tuples(st.sampled_from(["ach", "manual_bank_transfer", "wire", "withdraw"]), _amount),
    st.tuples(st.sampled_from(["cancel", "complete", "fail"]), st.integers(0, 20)),
    st.tuples(st.just("advance"), st.sampled_from([0.0, 0.5, 1.0, 3.0, 3600.0])),
)


def test_every_acknowledged_transfer_reaches_a_terminal_status() -> None:
    twin = InProcessTwin(ach_processing_delay_s=1.0, ach_completion_delay_s=2.0)
    try:

        @settings(BOUNDS, max_examples=50)
        @given(steps=st.lists(_step, max_size=12))
        @example(steps=[("ach", "92233720368547758.08")])  # the case: 201, then processing for ever
        @example(steps=[("wire", "99999999999999999.99"), ("complete", 0), ("withdraw", "0.01")])
        def lifecycle(steps: list[tuple[str, Any]]) -> None:
            investor = twin.new_investor()
            inv = investor["id"]
            source = connect_plaid(twin.client, inv)
            acknowledged: list[tuple[str, str]] = []  # (kind, id)
            for action, arg in steps:
                if action in ("ach", "manual_bank_transfer", "wire"):
                    extra = {"funding_source_id": source["id"]} if action == "ach" else {}
                    r = deposit(twin.client, inv, arg, method=action, **extra)
                    assert r.status_code in (201, 400), r.text
                    if r.status_code == 201:
                        acknowledged.append(("deposit", r.json()["id"]))
                elif action == "withdraw":
                    body = {"amount": arg, "method": "ach", "funding_source_id": source["id"]}
                    r = twin.client.post(f"/investors/{inv}/withdrawals", json=body, headers=key())
                    assert r.status_code in (201, 400, 422), r.text
                    if r.status_code == 201:
                        acknowledged.append(("withdrawal", r.json()["id"]))
                elif action == "advance":
                    twin.advance(arg)
                elif acknowledged:
                    kind, transfer_id = acknowledged[arg % len(acknowledged)]
                    if action == "cancel":
                        r = twin.client.post(f"/investors/{inv}/{kind}s/{transfer_id}/cancel")
                    else:
                        r = sandbox(twin.client, f"/{kind}s/{transfer_id}/{action}")
                    assert r.status_code in (200, 409), r.text
            twin.advance(EIGHT_DAYS)
            for kind, transfer_id in acknowledged:  # a wire deposit waits for Bluum's dashboard: the control
                got = twin.client.get(f"/investors/{inv}/{kind}s/{transfer_id}").json()
                if got["status"] == "pending" and got["method"] == "wire":
                    assert sandbox(twin.client, f"/{kind}s/{transfer_id}/complete").status_code == 200
            balance = Decimal(0)
            for kind, transfer_id in acknowledged:
                got = twin.client.get(f"/investors/{inv}/{kind}s/{transfer_id}").json()
                assert got["status"] in TERMINAL, (steps, got)
                if got["status"] == "completed":
                    balance += Decimal(got["amount"]) * (1 if kind == "deposit" else -1)
            assert Decimal(wallet(twin.client, inv)["balance"]) == balance, steps

        lifecycle()
    finally:
        twin.close()
