from __future__ import annotations

import json
import re
import time

from bluum_readiness.testing import investor_profile
from bluum_readiness.twin.domain import ledger
from tests.twin._trading import SANDBOX, funded_investor, get_order, place, set_price, wallet_figures

ORD_RE = re.compile(r"^ord_[0-9a-hjkmnp-tv-z]{26}$")


def _events(inproc, order_id):
    rows = inproc.twin.db.all(
        "SELECT type, body FROM events WHERE tenant_id = ? ORDER BY seq", (inproc.pair.tenant_id,)
    )
    return [r["type"] for r in rows if json.loads(r["body"])["data"].get("id") == order_id]


def _error(r, status, code, param=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, r.text
    if param is not None:
        assert err.get("param") == param, r.text
    return err


def test_market_buy_is_accepted_pending_then_fills_at_the_current_price(inproc):
    inv = funded_investor(inproc)
    r = inproc.client.post(
        f"/investors/{inv}/orders",
        json={"symbol": "aapl", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "2"},
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert ORD_RE.match(order["id"]) and order["object"] == "order" and order["livemode"] is False
    assert order["status"] == "pending" and order["symbol"] == "AAPL" and order["investor_id"] == inv
    assert (order["filled_quantity"], order["remaining_quantity"], order["average_price"]) == ("0", "2", "0.00")
    assert order["submitted_at"].endswith("Z") and order["filled_at"] is None and order["commission"] == "0.00"
    assert not any(k.startswith("_") for k in order)
    assert wallet_figures(inproc, inv) == (1_000_000, 1_000_000 - 38_000)  # held while pending

    inproc.advance()
    filled = get_order(inproc, inv, order["id"])
    assert filled["status"] == "filled"
    assert (filled["filled_quantity"], filled["remaining_quantity"], filled["average_price"]) == ("2", "0", "190.00")
    assert filled["filled_at"] is not None and filled["settlement_date"] is not None
    assert wallet_figures(inproc, inv) == (1_000_000 - 38_000, 1_000_000 - 38_000)
    moves = ledger.entries(inproc.twin, inproc.pair.tenant_id, operation_id=order["id"])
    assert [(m["kind"], m["amount_cents"]) for m in moves] == [("buy", -38_000)]
    assert _events(inproc, order["id"]) == ["order.accepted", "order.filled"]
    txns = inproc.twin.store.list(inproc.pair.tenant_id, "transaction", investor_id=inv)
    assert [(t["type"], t["amount"], t["status"]) for t in txns] == [("buy", "380.00", "completed")]
    assert txns[0]["id"].startswith("txn_") and txns[0]["wallet_id"].startswith("wlt_")


def test_limit_buy_rests_open_then_fills_when_the_price_crosses(inproc):
    inv = funded_investor(inproc)
    order = place(inproc, inv, type="limit", time_in_force="gtc", quantity="2", limit_price="180.00")
    assert order["status"] == "open"
    assert wallet_figures(inproc, inv) == (1_000_000, 1_000_000 - 36_000)
    set_price(inproc, "AAPL", "185.00")
    assert get_order(inproc, inv, order["id"])["status"] == "open"
    assert set_price(inproc, "AAPL", "179.50")["price"] == "179.50"
    filled = get_order(inproc, inv, order["id"])
    assert filled["status"] == "filled" and filled["average_price"] == "179.50"
    assert wallet_figures(inproc, inv) == (1_000_000 - 35_900, 1_000_000 - 35_900)


def test_limit_sell_fills_when_the_price_rises_to_the_limit(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, quantity="3")
    sell = place(inproc, inv, side="sell", type="limit", time_in_force="gtc", quantity="3", limit_price="200")
    assert sell["status"] == "open" and sell["limit_price"] == "200.00"
    set_price(inproc, "AAPL", "201.25")
    sell = get_order(inproc, inv, sell["id"])
    assert sell["status"] == "filled" and sell["average_price"] == "201.25"
    assert wallet_figures(inproc, inv)[0] == 1_000_000 - 57_000 + 60_375


def test_cancel_of_a_resting_order_releases_the_hold(inproc):
    inv = funded_investor(inproc)
    order = place(inproc, inv, type="limit", time_in_force="day", quantity="10", limit_price="100")
    assert wallet_figures(inproc, inv) == (1_000_000, 1_000_000 - 100_000)
    r = inproc.client.post(f"/investors/{inv}/orders/{order['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["cancelled_at"] is not None
    assert wallet_figures(inproc, inv) == (1_000_000, 1_000_000)
    set_price(inproc, "AAPL", "90")  # a cancelled order never fills
    assert get_order(inproc, inv, order["id"])["status"] == "cancelled"
    _error(inproc.client.post(f"/investors/{inv}/orders/{order['id']}/cancel"), 409, "BLUM-409-003")
    assert _events(inproc, order["id"]) == ["order.accepted", "order.canceled"]


def test_cancel_of_a_filled_order_is_409(inproc):
    inv = funded_investor(inproc)
    order = place(inproc, inv, quantity="1")
    err = _error(inproc.client.post(f"/investors/{inv}/orders/{order['id']}/cancel"), 409, "BLUM-409-003")
    assert "filled" in err["message"]


def test_notional_buy_buys_a_fraction_for_exactly_the_notional(inproc):
    inv = funded_investor(inproc)
    order = place(inproc, inv, notional="100")
    assert order["status"] == "filled" and order["notional"] == "100.00"
    assert order["filled_quantity"] == "0.526315789" == order["quantity"]
    assert wallet_figures(inproc, inv)[0] == 1_000_000 - 10_000


def test_ioc_and_fok_orders_that_cannot_fill_at_once_are_cancelled(inproc):
    inv = funded_investor(inproc)
    for tif in ("ioc", "fok"):
        order = place(inproc, inv, type="limit", time_in_force=tif, quantity="1", limit_price="150")
        assert order["status"] == "cancelled", tif
        assert tif in order["failure_reason"]
        assert _events(inproc, order["id"]) == ["order.accepted", "order.canceled"]
    assert wallet_figures(inproc, inv) == (1_000_000, 1_000_000)
    marketable = place(inproc, inv, type="limit", time_in_force="ioc", quantity="1", limit_price="195")
    assert marketable["status"] == "filled" and marketable["average_price"] == "190.00"


def test_stop_orders_trigger_when_the_price_reaches_the_stop(inproc):
    inv = funded_investor(inproc)
    stop = place(inproc, inv, type="stop", time_in_force="gtc", quantity="1", stop_price="200")
    assert stop["status"] == "open"
    set_price(inproc, "AAPL", "199.99")
    assert get_order(inproc, inv, stop["id"])["status"] == "open"
    set_price(inproc, "AAPL", "201")
    stop = get_order(inproc, inv, stop["id"])
    assert stop["status"] == "filled" and stop["average_price"] == "201.00"

    # stop_limit sell: triggers at or below 190, then sells only at 189 or better
    stop_limit = place(
        inproc,
        inv,
        side="sell",
        type="stop_limit",
        time_in_force="gtc",
        quantity="1",
        stop_price="190",
        limit_price="189",
    )
    assert stop_limit["status"] == "open"
    set_price(inproc, "AAPL", "188")  # triggered, but below the limit: rests
    assert get_order(inproc, inv, stop_limit["id"])["status"] == "open"
    set_price(inproc, "AAPL", "195")  # above the stop again, but already triggered: fills as a limit
    stop_limit = get_order(inproc, inv, stop_limit["id"])
    assert stop_limit["status"] == "filled" and stop_limit["average_price"] == "195.00"


def test_market_buy_fails_at_fill_when_the_price_moved_beyond_the_cash(make_inproc):
    inproc = make_inproc(order_fill_delay_s=5)
    inv = funded_investor(inproc, 100_000)
    r = inproc.client.post(
        f"/investors/{inv}/orders",
        json={"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "5"},
    )
    assert r.status_code == 201
    set_price(inproc, "AAPL", "250")
    inproc.advance(1)
    assert get_order(inproc, inv, r.json()["id"])["status"] == "pending"  # fill delay not over yet
    inproc.advance(5)
    order = get_order(inproc, inv, r.json()["id"])
    assert order["status"] == "failed" and "Insufficient buying power" in order["failure_reason"]
    assert order["failed_at"] is not None
    assert wallet_figures(inproc, inv) == (100_000, 100_000)
    assert _events(inproc, order["id"]) == ["order.accepted", "order.rejected"]


def test_hold_keeps_an_order_unfilled_until_release(make_inproc):
    inproc = make_inproc(order_fill_delay_s=1)
    inv = funded_investor(inproc)
    r = inproc.client.post(
        f"/investors/{inv}/orders",
        json={"symbol": "MSFT", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"},
    )
    order_id = r.json()["id"]
    held = inproc.client.post(f"{SANDBOX}/orders/{order_id}/hold")
    assert held.status_code == 200 and held.json()["status"] == "pending"
    inproc.advance(10)
    assert get_order(inproc, inv, order_id)["status"] == "pending"
    released = inproc.client.post(f"{SANDBOX}/orders/{order_id}/release")
    assert released.status_code == 200 and released.json()["status"] == "filled"
    _error(inproc.client.post(f"{SANDBOX}/orders/{order_id}/hold"), 409, "BLUM-409-003")
    _error(inproc.client.post(f"{SANDBOX}/orders/ord_01j9x8m2k7qpzwv3t5r6y8n0ab/hold"), 404, "BLUM-404-001")


def test_a_held_resting_order_ignores_price_moves_and_fills_on_release(inproc):
    inv = funded_investor(inproc)
    order = place(inproc, inv, type="limit", time_in_force="gtc", quantity="1", limit_price="180")
    assert inproc.client.post(f"{SANDBOX}/orders/{order['id']}/hold").status_code == 200
    set_price(inproc, "AAPL", "170")
    assert get_order(inproc, inv, order["id"])["status"] == "open"
    released = inproc.client.post(f"{SANDBOX}/orders/{order['id']}/release").json()
    assert released["status"] == "filled" and released["average_price"] == "170.00"


def test_a_held_order_can_still_be_cancelled(inproc):
    inv = funded_investor(inproc)
    order = place(inproc, inv, type="limit", time_in_force="gtc", quantity="1", limit_price="180")
    inproc.client.post(f"{SANDBOX}/orders/{order['id']}/hold")
    r = inproc.client.post(f"/investors/{inv}/orders/{order['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    _error(inproc.client.post(f"{SANDBOX}/orders/{order['id']}/release"), 409, "BLUM-409-003")


def test_order_errors(inproc):
    inv = funded_investor(inproc, 50_000)
    url = f"/investors/{inv}/orders"
    base = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}

    def post(**override):
        body = {**base, **override}
        return inproc.client.post(url, json={k: v for k, v in body.items() if v is not None})

    for bad in ("0", "-1", "abc", 1, "1.0000000001"):
        _error(post(quantity=bad), 400, "BLUM-400-006", "quantity")
    _error(post(quantity="1000000001"), 400, "BLUM-400-006", "quantity")
    _error(post(type="limit", limit_price="1.00001"), 400, "BLUM-400-003", "limit_price")
    _error(post(type="stop", stop_price="0"), 400, "BLUM-400-003", "stop_price")
    _error(post(quantity=None), 400, "BLUM-400-001", "quantity")
    _error(post(notional="10.00"), 400, "BLUM-400-001", "notional")
    _error(post(side="sell", quantity=None, notional="10.00"), 400, "BLUM-400-001", "notional")
    _error(post(type="limit", quantity=None, notional="10.00", limit_price="1"), 400, "BLUM-400-001", "notional")
    _error(post(quantity=None, notional="10.001"), 400, "BLUM-400-005", "notional")
    _error(post(type="limit"), 400, "BLUM-400-002", "limit_price")
    _error(post(type="stop_limit", limit_price="1"), 400, "BLUM-400-002", "stop_price")
    _error(post(type="stop"), 400, "BLUM-400-002", "stop_price")
    _error(post(limit_price="1"), 400, "BLUM-400-001", "limit_price")
    _error(post(symbol=None), 400, "BLUM-400-002", "symbol")
    _error(post(type="trailing_stop"), 400, "BLUM-400-004", "type")
    _error(post(time_in_force="opg"), 400, "BLUM-400-004", "time_in_force")
    _error(post(symbol="NOPE"), 404, "BLUM-404-003", "symbol")
    _error(post(symbol="TWTR"), 422, "BLUM-422-003", "symbol")
    err = _error(post(quantity="3"), 422, "BLUM-422-001")
    assert "570.00" in err["message"] and "500.00" in err["message"]
    _error(post(side="sell"), 422, "BLUM-422-004", "quantity")
    assert inproc.twin.store.list(inproc.pair.tenant_id, "order") == []

    pending = inproc.client.post("/investors", json=investor_profile()).json()["id"]
    r = inproc.client.post(f"/investors/{pending}/orders", json=base)
    _error(r, 403, "BLUM-403-002")


def test_selling_more_than_held_counts_other_open_sell_orders(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, quantity="3")
    resting = place(inproc, inv, side="sell", type="limit", time_in_force="gtc", quantity="2", limit_price="999")
    assert resting["status"] == "open"
    body = {"symbol": "AAPL", "side": "sell", "type": "market", "time_in_force": "day", "quantity": "2"}
    err = _error(inproc.client.post(f"/investors/{inv}/orders", json=body), 422, "BLUM-422-004")
    assert "1 shares are available" in err["message"]
    assert place(inproc, inv, side="sell", quantity="1")["status"] == "filled"


def test_buying_power_counts_holds_of_open_orders(inproc):
    inv = funded_investor(inproc, 50_000)
    place(inproc, inv, type="limit", time_in_force="gtc", quantity="2", limit_price="180")  # holds 360.00
    body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    _error(inproc.client.post(f"/investors/{inv}/orders", json=body), 422, "BLUM-422-001")


def test_duplicate_client_order_id_is_409(inproc):
    inv = funded_investor(inproc)
    place(inproc, inv, quantity="1", client_order_id="my-1")
    body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    r = inproc.client.post(f"/investors/{inv}/orders", json={**body, "client_order_id": "my-1"})
    _error(r, 409, "BLUM-409-001", "client_order_id")


def test_idempotency_key_replays_the_order(inproc):
    inv = funded_investor(inproc)
    body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    headers = {"Idempotency-Key": "ord-key-1"}
    first = inproc.client.post(f"/investors/{inv}/orders", json=body, headers=headers)
    inproc.advance()
    again = inproc.client.post(f"/investors/{inv}/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(inproc.twin.store.list(inproc.pair.tenant_id, "order")) == 1


def test_list_orders_filters(inproc):
    inv = funded_investor(inproc)
    filled = place(inproc, inv, quantity="1")
    resting = place(inproc, inv, symbol="MSFT", type="limit", time_in_force="gtc", quantity="1", limit_price="1")
    url = f"/investors/{inv}/orders"

    def ids(**params):
        r = inproc.client.get(url, params=params)
        assert r.status_code == 200, r.text
        assert r.json()["object"] == "list" and r.json()["url"] == f"/v1{url}"
        return [o["id"] for o in r.json()["data"]]

    assert ids() == [filled["id"], resting["id"]]
    assert ids(status="open") == [resting["id"]]
    assert ids(status="filled") == [filled["id"]]
    assert ids(symbol="msft") == [resting["id"]]
    assert ids(side="sell") == []
    _error(inproc.client.get(url, params={"status": "done"}), 400, "BLUM-400-004", "status")

    other = funded_investor(inproc)
    _error(inproc.client.get(f"/investors/{other}/orders/{filled['id']}"), 404, "BLUM-404-001")
    _error(inproc.client.get(f"{url}/6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d"), 400, "BLUM-400-003")
    _error(inproc.client.get(f"{url}/ord_01j9x8m2k7qpzwv3t5r6y8n0ab"), 404, "BLUM-404-001")


def test_order_estimates_are_indicative_and_write_nothing(inproc):
    inv = funded_investor(inproc, 50_000)
    url = f"/investors/{inv}/order-estimates"
    r = inproc.client.post(url, json={"symbol": "aapl", "side": "buy", "type": "market", "quantity": "2"})
    assert r.status_code == 200, r.text
    est = r.json()
    assert est["object"] == "order_estimate" and est["investor_id"] == inv and est["symbol"] == "AAPL"
    assert (est["estimated_price"], est["estimated_quantity"], est["total_estimated_value"]) == (
        "190.00",
        "2",
        "380.00",
    )
    assert est["commission"] == "0.00" and est["errors"] == [] and est["currency"] == "USD"

    est = inproc.client.post(url, json={"symbol": "AAPL", "side": "buy", "type": "market", "notional": "95"}).json()
    assert (est["estimated_quantity"], est["total_estimated_value"]) == ("0.5", "95.00")

    est = inproc.client.post(
        url, json={"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": "3", "limit_price": "180"}
    ).json()
    assert est["estimated_price"] == "180.00" and [e["code"] for e in est["errors"]] == ["BLUM-422-001"]

    est = inproc.client.post(url, json={"symbol": "TWTR", "side": "sell", "type": "market", "quantity": "1"}).json()
    assert [e["code"] for e in est["errors"]] == ["BLUM-422-003", "BLUM-422-004"]

    _error(
        inproc.client.post(url, json={"symbol": "AAPL", "side": "buy", "type": "stop", "quantity": "1"}),
        400,
        "BLUM-400-004",
        "type",
    )
    _error(
        inproc.client.post(url, json={"symbol": "ZZZZ", "side": "buy", "type": "market", "quantity": "1"}),
        404,
        "BLUM-404-003",
    )
    _error(
        inproc.client.post(url, json={"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": "1"}),
        400,
        "BLUM-400-002",
        "limit_price",
    )
    assert inproc.twin.store.list(inproc.pair.tenant_id, "order") == []
    assert wallet_figures(inproc, inv) == (50_000, 50_000)


def test_sandbox_prices(inproc):
    r = inproc.client.get(f"{SANDBOX}/prices/aapl")
    assert r.status_code == 200 and r.json()["price"] == "190.00" and r.json()["source"] == "catalogue"
    assert set_price(inproc, "aapl", "12.3456")["price"] == "12.3456"
    assert inproc.client.get(f"{SANDBOX}/prices/AAPL").json()["source"] == "simulated"
    assert inproc.client.delete(f"{SANDBOX}/prices/AAPL").json()["price"] == "190.00"
    _error(inproc.client.put(f"{SANDBOX}/prices/NOPE", json={"price": "1"}), 404, "BLUM-404-003")
    _error(inproc.client.put(f"{SANDBOX}/prices/AAPL", json={"price": "-1"}), 400, "BLUM-400-003", "price")
    _error(inproc.client.put(f"{SANDBOX}/prices/AAPL", json={}), 400, "BLUM-400-002", "price")
    _error(inproc.client.put(f"{SANDBOX}/prices/AAPL", json={"price": "0.00001"}), 400, "BLUM-400-003", "price")
    _error(inproc.client.put(f"{SANDBOX}/prices/AAPL", json={"price": 12.5}), 400, "BLUM-400-003", "price")


def test_prices_are_per_tenant(inproc):
    other = inproc.twin.create_tenant("other")
    set_price(inproc, "AAPL", "100")
    with inproc.client_for(other) as c:
        assert c.get(f"{SANDBOX}/prices/AAPL").json()["price"] == "190.00"


def test_trading_over_real_sockets(client, twin_server):
    r = client.post("/investors", json=investor_profile())
    assert r.status_code == 201, r.text
    inv = r.json()["id"]
    deadline = time.monotonic() + 5
    while client.get(f"/investors/{inv}").json()["status"] != "active":
        assert time.monotonic() < deadline, "investor never became active"
        time.sleep(0.02)
    with twin_server.twin.db.tx():
        ledger.post(twin_server.twin, twin_server.pair.tenant_id, inv, "dep_" + "0" * 26, "deposit", 1_000_000)

    body = {
        "symbol": "NVDA",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "quantity": "4",
        "limit_price": "110",
    }
    order = client.post(f"/investors/{inv}/orders", json=body, headers={"Idempotency-Key": "sock-1"}).json()
    sandbox = twin_server.origin + "/_sandbox"

    def wait_for(status):
        deadline = time.monotonic() + 5
        while True:
            current = client.get(f"/investors/{inv}/orders/{order['id']}").json()
            if current["status"] == status:
                return current
            assert time.monotonic() < deadline, f"order stuck in {current['status']}, expected {status}"
            time.sleep(0.02)

    wait_for("open")
    assert client.put(f"{sandbox}/prices/NVDA", json={"price": "105.5"}).status_code == 200
    filled = wait_for("filled")
    assert filled["average_price"] == "105.50"
    positions = client.get(f"/investors/{inv}/positions").json()["data"]
    assert [(p["symbol"], p["quantity"], p["market_value"]) for p in positions] == [("NVDA", "4", "422.00")]
