from __future__ import annotations

from tests.twin._trading import set_price


def _symbols(r):
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "list"
    return [a["symbol"] for a in r.json()["data"]]


def test_list_tradable_us_equities(inproc):
    symbols = _symbols(inproc.client.get("/assets", params={"asset_class": "us_equity", "tradable": "true"}))
    assert len(symbols) >= 30
    assert {"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "SPY", "QQQ", "VTI"} <= set(symbols)
    assert "TWTR" not in symbols
    assert _symbols(inproc.client.get("/assets", params={"tradable": "false"})) == ["TWTR"]
    assert _symbols(inproc.client.get("/assets", params={"status": "inactive"})) == ["TWTR"]
    etfs = _symbols(inproc.client.get("/assets", params={"class": "etf", "limit": 200}))
    assert "SPY" in etfs and "AAPL" not in etfs
    assert _symbols(inproc.client.get("/assets", params={"market": "arca", "class": "equity"})) == []
    assert _symbols(inproc.client.get("/assets", params={"asset_class": "crypto"})) == []
    r = inproc.client.get("/assets", params={"asset_class": "stocks"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-004"


def test_asset_fields(inproc):
    r = inproc.client.get("/assets/aapl")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["symbol"] == "AAPL" and a["object"] == "asset" and a["class"] == "equity"
    assert (a["country"], a["market"], a["currency"], a["status"]) == ("US", "XNAS", "USD", "active")
    assert a["tradable"] is True and a["fractionable"] is True
    assert a["price"] == 190.0 and isinstance(a["price"], float)
    assert a["price_timestamp"].endswith("Z")
    assert a["id"] == inproc.client.get("/assets/AAPL").json()["id"]  # deterministic
    spy = inproc.client.get("/assets/SPY").json()
    assert (spy["class"], spy["market"]) == ("etf", "ARCA")
    twtr = inproc.client.get("/assets/TWTR").json()
    assert twtr["tradable"] is False and twtr["status"] == "inactive"


def test_asset_price_follows_the_sandbox_price(inproc):
    set_price(inproc, "TSLA", "275")
    a = inproc.client.get("/assets/TSLA").json()
    assert a["price"] == 275.0 and a["previousClose"] == 250.0 and a["changePercent"] == 10.0


def test_unknown_asset_is_404_003(inproc):
    r = inproc.client.get("/assets/NOPE")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-003"


def test_search(inproc):
    assert _symbols(inproc.client.get("/assets/search", params={"q": "apple"})) == ["AAPL"]
    spdr = _symbols(inproc.client.get("/assets/search", params={"q": "spdr"}))
    assert set(spdr) == {"SPY", "DIA", "GLD"}
    v = _symbols(inproc.client.get("/assets/search", params={"q": "v"}))
    assert v[0] == "V" and v[1:3] == ["VOO", "VTI"]
    assert _symbols(inproc.client.get("/assets/search", params={"q": "twitter"})) == []  # status defaults to active
    assert _symbols(inproc.client.get("/assets/search", params={"q": "twitter", "status": "inactive"})) == ["TWTR"]
    for params in ({}, {"q": "  "}):
        r = inproc.client.get("/assets/search", params=params)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "BLUM-400-002" and r.json()["error"]["param"] == "q"
