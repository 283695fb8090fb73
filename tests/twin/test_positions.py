from __future__ import annotations

from tests.twin._trading import funded_investor, place, positions, set_price, wallet_figures


def test_two_buys_at_different_prices_give_a_vwap_cost_basis(inproc):
    inv = funded_investor(inproc)
    set_price(inproc, "AAPL", "100")
    place(inproc, inv, quantity="1")
    set_price(inproc, "AAPL", "110")
    place(inproc, inv, quantity="3")
    [pos] = positions(inproc, inv)
    assert pos["id"].startswith("pos_") and pos["object"] == "position" and pos["investor_id"] == inv
    assert (pos["symbol"], pos["class"], pos["country"], pos["currency"]) == ("AAPL", "equity", "US", "USD")
    assert pos["quantity"] == "4"
    assert pos["average_cost_basis"] == "107.50"  # (100 + 3 × 110) / 4
    assert pos["total_cost_basis"] == "430.00"
    assert (pos["current_price"], pos["market_value"]) == ("110.00", "440.00")
    assert (pos["unrealized_pl"], pos["unrealized_pl_percent"]) == ("10.00", "2.33")
    assert (pos["price_source"], pos["price_confidence"]) == ("DATABASE", "REAL_TIME")
    assert pos["price_timestamp"].endswith("Z") and pos["last_transaction_at"] is not None
    assert not any(k.startswith("_") for k in pos)


def test_market_value_is_live_and_the_stored_value_follows_the_price(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, symbol="SPY", quantity="2")
    set_price(inproc, "SPY", "500")
    [pos] = positions(inproc, inv)
    assert (pos["current_price"], pos["market_value"], pos["unrealized_pl"]) == ("500.00", "1000.00", "-100.00")
    assert pos["unrealized_pl_percent"] == "-9.09"
    [stored] = inproc.twin.store.list(inproc.pair.tenant_id, "position", investor_id=inv)
    assert stored["market_value"] == "1000.00" and stored["quantity"] == "2"
    r = inproc.client.get(f"/investors/{inv}/positions/{pos['id']}")
    assert r.status_code == 200 and r.json()["market_value"] == "1000.00"


def test_partial_sell_keeps_the_cost_then_a_full_sell_deletes_the_position(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, quantity="3")  # 3 × 190 = 570.00
    set_price(inproc, "AAPL", "200")
    sell = place(inproc, inv, side="sell", quantity="1")
    assert sell["status"] == "filled" and sell["average_price"] == "200.00"
    [pos] = positions(inproc, inv)
    assert (pos["quantity"], pos["average_cost_basis"], pos["total_cost_basis"]) == ("2", "190.00", "380.00")
    assert wallet_figures(inproc, inv)[0] == 1_000_000 - 57_000 + 20_000
    place(inproc, inv, side="sell", quantity="2")
    assert positions(inproc, inv) == []
    r = inproc.client.get(f"/investors/{inv}/positions/{pos['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-001"
    assert wallet_figures(inproc, inv)[0] == 1_000_000 - 57_000 + 60_000
    txns = inproc.twin.store.list(inproc.pair.tenant_id, "transaction", investor_id=inv)
    assert [(t["type"], t["amount"]) for t in txns] == [("buy", "570.00"), ("sell", "200.00"), ("sell", "400.00")]


def test_fractional_positions_and_filters(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, symbol="QQQ", quantity="0.25")
    place(inproc, inv, symbol="KO", quantity="1.5")
    assert [p["symbol"] for p in positions(inproc, inv)] == ["QQQ", "KO"]
    [ko] = positions(inproc, inv, symbol="ko")
    assert (ko["quantity"], ko["market_value"]) == ("1.5", "93.75")
    assert len(positions(inproc, inv, non_zero_only="true")) == 2
    place(inproc, inv, symbol="QQQ", side="sell", quantity="0.25")
    assert [p["symbol"] for p in positions(inproc, inv)] == ["KO"]


def test_positions_are_per_investor(inproc):
    inv = funded_investor(inproc)
    other = funded_investor(inproc)
    place(inproc, inv, quantity="1")
    [pos] = positions(inproc, inv)
    assert positions(inproc, other) == []
    r = inproc.client.get(f"/investors/{other}/positions/{pos['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-001"
    r = inproc.client.get(f"/investors/{inv}/positions/6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-003"
    r = inproc.client.get(f"/investors/{inv}/positions", params={"non_zero_only": "maybe"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-003"


def test_an_investor_with_a_position_cannot_be_closed(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, quantity="1")
    r = inproc.client.post(f"/investors/{inv}/close", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "BLUM-409-003"


def test_fills_show_in_transactions_and_wallet_equity(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, quantity="2")  # 380.00
    set_price(inproc, "AAPL", "200")
    r = inproc.client.get(f"/investors/{inv}/transactions", params={"type": "buy"})
    assert r.status_code == 200, r.text
    [txn] = r.json()["data"]
    assert (txn["type"], txn["status"], txn["amount"], txn["currency"]) == ("buy", "completed", "380.00", "USD")
    assert txn["id"].startswith("txn_") and "AAPL" in txn["description"]
    [wallet] = inproc.client.get(f"/investors/{inv}/wallets").json()["data"]
    assert wallet["balance"] == "9620.00"
    assert wallet["equity"] == "10020.00"  # cash + 2 × 200.00
