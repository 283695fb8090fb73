"""Numbers a client gets wrong: a 400 in Bluum's envelope, never a 500, and nothing acknowledged that cannot settle.

Regressions of a sweep (issue 23): a price or an amount of 10^26 or more overflowed a decimal quantize (500);
a JSON integer of more than 4,300 digits hit Python's int-string limit (500); a deposit above the SQLite integer
range was acknowledged and then never settled; amounts in non-ASCII digits were read as "10.00"; NaN, Infinity and
1e999 in a document's metadata reached SQLite's JSON functions (500); ``limit=²`` on a list (500).
"""

from __future__ import annotations

import pytest

from tests.twin.money_helpers import connect_plaid, deposit, error, funded, key, sandbox, withdraw

NON_ASCII_DIGITS = ["١٠", "１０", "𝟏𝟎", "١٠.٠٠", "10.0٠", "٣"]
HUGE = ["1" + "0" * 26, "1" + "0" * 30, "9" * 60, "92233720368547758.08", "99999999999999999.99"]
MAX_AMOUNT = "1000000000.00"


def _active_with_plaid(inproc):
    investor = inproc.new_investor()
    return investor, connect_plaid(inproc.client, investor["id"])


def _status(inproc, investor, obj, transfer_id):
    return inproc.client.get(f"/investors/{investor['id']}/{obj}s/{transfer_id}").json()["status"]


@pytest.mark.parametrize("amount", HUGE + ["1000000000.01"], ids=lambda a: f"{len(a)}-chars")
def test_an_amount_above_the_maximum_is_400_invalid_amount(inproc, amount):
    investor, source = _active_with_plaid(inproc)
    r = deposit(inproc.client, investor["id"], amount, funding_source_id=source["id"])
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-005" and error(r)["param"] == "amount"
    assert "1,000,000,000.00" in error(r)["message"]
    r = withdraw(inproc.client, investor["id"], amount, source["id"])
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-005", r.text


def test_the_maximum_amount_is_accepted_and_settles(inproc):
    investor, source = _active_with_plaid(inproc)
    r = deposit(inproc.client, investor["id"], MAX_AMOUNT, funding_source_id=source["id"])
    assert r.status_code == 201, r.text
    inproc.advance()
    assert _status(inproc, investor, "deposit", r.json()["id"]) == "completed"
    w = withdraw(inproc.client, investor["id"], MAX_AMOUNT, source["id"])
    assert w.status_code == 201, w.text
    inproc.advance()
    assert _status(inproc, investor, "withdrawal", w.json()["id"]) == "completed"


@pytest.mark.parametrize("amount", NON_ASCII_DIGITS + ["10.00\n", " 10.00", "+10.00", "1_000.00"])
def test_an_amount_must_be_written_in_ascii_digits(inproc, amount):
    investor, source = _active_with_plaid(inproc)
    r = deposit(inproc.client, investor["id"], amount, funding_source_id=source["id"])
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-005" and error(r)["param"] == "amount"


@pytest.mark.parametrize("price", HUGE + ["1000000000.0001", "١٠", "10\n"])
def test_a_sandbox_price_out_of_range_is_400(inproc, price):
    r = inproc.client.put(inproc.client.base_url.join("/_sandbox/prices/AAPL"), json={"price": price})
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "price"


@pytest.mark.parametrize(
    ("path", "order_type", "field"),
    [
        ("orders", "stop_limit", "limit_price"),
        ("orders", "stop_limit", "stop_price"),
        ("order-estimates", "limit", "limit_price"),
    ],
)
def test_an_order_price_out_of_range_is_400(inproc, path, order_type, field):
    investor, _ = funded(inproc)
    order = {"symbol": "AAPL", "side": "buy", "type": order_type, "time_in_force": "day", "quantity": "1"}
    order |= {"limit_price": "100", "stop_price": "100"} if order_type == "stop_limit" else {"limit_price": "100"}
    order[field] = "1" + "0" * 30
    r = inproc.client.post(f"/investors/{investor['id']}/{path}", json=order)
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == field


BAD_NUMBERS = {
    "an integer of 5,000 digits": b"1" * 5000,
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "-Infinity": b"-Infinity",
    "1e999": b"1e999",
}


@pytest.mark.parametrize("with_key", [True, False], ids=["with-key", "without-key"])
@pytest.mark.parametrize("number", list(BAD_NUMBERS.values()), ids=list(BAD_NUMBERS))
def test_a_number_json_cannot_carry_is_400_on_a_json_route(inproc, number, with_key):
    investor = inproc.new_investor()
    headers = {"content-type": "application/json", **(key() if with_key else {})}
    writes = {
        "deposits": b'{"amount": ' + number + b', "method": "wire", "currency": "USD"}',
        "orders": b'{"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": '
        + number
        + b"}",
    }
    for path, body in writes.items():
        if path == "deposits" and not with_key:
            continue  # a deposit without a key is refused for the key before its body is read
        r = inproc.client.post(f"/investors/{investor['id']}/{path}", content=body, headers=headers)
        assert r.status_code == 400, r.text
        assert error(r)["code"] == "BLUM-400-001"
        assert "number" in error(r)["message"]


@pytest.mark.parametrize("number", list(BAD_NUMBERS.values()), ids=list(BAD_NUMBERS))
def test_a_number_json_cannot_carry_in_upload_metadata_is_400(inproc, number):
    investor = inproc.new_investor()
    r = inproc.client.post(
        "/documents",
        data={"document_type": "id", "investor_id": investor["id"], "metadata": '{"a": ' + number.decode() + "}"},
        files={"document": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "metadata"


@pytest.mark.parametrize("path", ["/investors", "/documents"])
@pytest.mark.parametrize("value", ["²", "١٠", "1" * 5000, "+5", " 5", "5_0"])
def test_a_paging_parameter_must_be_an_ascii_integer(inproc, path, value):
    r = inproc.client.get(path, params={"limit": value})
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "limit"


def test_sandbox_money_controls_reach_the_same_terminal_state_for_the_maximum(inproc):
    investor = inproc.new_investor()
    r = deposit(inproc.client, investor["id"], MAX_AMOUNT, method="wire")
    assert r.status_code == 201, r.text
    done = sandbox(inproc.client, f"/deposits/{r.json()['id']}/complete")
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text


def test_a_fill_worth_more_than_the_maximum_is_rejected_not_left_pending(inproc):
    """Bought 10^9 shares at $0.0001, the sandbox price raised to $10^9: the sell's proceeds ($10^18) overflowed
    the ledger's 64-bit cents, its fill job died, and the order stayed ``pending`` forever."""
    investor, _ = funded(inproc, "200000.00")
    prices = inproc.client.base_url.join("/_sandbox/prices/AAPL")
    assert inproc.client.put(prices, json={"price": "0.0001"}).status_code == 200
    order = {"symbol": "AAPL", "type": "market", "time_in_force": "day", "quantity": "1000000000"}
    buy = inproc.client.post(f"/investors/{investor['id']}/orders", json={**order, "side": "buy"})
    inproc.advance(1)
    assert inproc.client.get(f"/investors/{investor['id']}/orders/{buy.json()['id']}").json()["status"] == "filled"
    assert inproc.client.put(prices, json={"price": "1000000000"}).status_code == 200
    sell = inproc.client.post(f"/investors/{investor['id']}/orders", json={**order, "side": "sell"})
    assert sell.status_code == 201, sell.text
    inproc.advance(1)
    got = inproc.client.get(f"/investors/{investor['id']}/orders/{sell.json()['id']}").json()
    assert got["status"] == "failed" and "1,000,000,000,000" in got["failure_reason"], got
