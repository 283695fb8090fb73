"""The asset catalogue (◆): a fixed set of US equities and ETFs with deterministic reference prices.

Each tenant sees the reference price of a symbol unless a sandbox control set a simulated price for it
(the ``prices`` table). One delisted asset (``TWTR``) is listed but not tradable, for the error path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.values import iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = [
    "ASSETS",
    "Asset",
    "current_price",
    "find",
    "parse_price",
    "price_text",
    "render",
    "require",
    "set_price",
    "simulated_price",
]

_MARKETS = {
    "XNAS": "NASDAQ",
    "XNYS": "New York Stock Exchange",
    "ARCA": "NYSE Arca",
}
_ASSET_NAMESPACE = uuid.UUID("6b1f7c1e-2f0a-4c55-9a51-8f1d0a4e6b10")


@dataclass(frozen=True)
class Asset:
    symbol: str
    name: str
    asset_class: str  # "equity" | "etf"
    market: str  # "XNAS" | "XNYS" | "ARCA"
    reference_price: str
    status: str = "active"
    tradable: bool = True
    fractionable: bool = True
    marginable: bool = True
    shortable: bool = True

    @property
    def id(self) -> str:
        """◆ A deterministic UUID per symbol (stable across twins and restarts)."""
        return str(uuid.uuid5(_ASSET_NAMESPACE, self.symbol))


def _equity(symbol: str, name: str, market: str, price: str) -> Asset:
    return Asset(symbol, name, "equity", market, price)


def _etf(symbol: str, name: str, market: str, price: str) -> Asset:
    return Asset(symbol, name, "etf", market, price, shortable=False)


ASSETS: dict[str, Asset] = {
    a.symbol: a
    for a in [
        _equity("AAPL", "Apple Inc. Common Stock", "XNAS", "190.00"),
        _equity("MSFT", "Microsoft Corporation Common Stock", "XNAS", "420.00"),
        _equity("GOOGL", "Alphabet Inc. Class A Common Stock", "XNAS", "170.00"),
        _equity("AMZN", "Amazon.com, Inc. Common Stock", "XNAS", "185.00"),
        _equity("NVDA", "NVIDIA Corporation Common Stock", "XNAS", "120.00"),
        _equity("META", "Meta Platforms, Inc. Class A Common Stock", "XNAS", "500.00"),
        _equity("TSLA", "Tesla, Inc. Common Stock", "XNAS", "250.00"),
        _equity("NFLX", "Netflix, Inc. Common Stock", "XNAS", "650.00"),
        _equity("AMD", "Advanced Micro Devices, Inc. Common Stock", "XNAS", "160.00"),
        _equity("INTC", "Intel Corporation Common Stock", "XNAS", "30.00"),
        _equity("ADBE", "Adobe Inc. Common Stock", "XNAS", "520.00"),
        _equity("COST", "Costco Wholesale Corporation Common Stock", "XNAS", "850.00"),
        _equity("PEP", "PepsiCo, Inc. Common Stock", "XNAS", "170.00"),
        _equity("JPM", "JPMorgan Chase & Co. Common Stock", "XNYS", "200.00"),
        _equity("V", "Visa Inc. Class A Common Stock", "XNYS", "275.00"),
        _equity("JNJ", "Johnson & Johnson Common Stock", "XNYS", "155.00"),
        _equity("WMT", "Walmart Inc. Common Stock", "XNYS", "68.00"),
        _equity("PG", "Procter & Gamble Company Common Stock", "XNYS", "165.00"),
        _equity("KO", "Coca-Cola Company Common Stock", "XNYS", "62.50"),
        _equity("DIS", "Walt Disney Company Common Stock", "XNYS", "100.00"),
        _equity("BAC", "Bank of America Corporation Common Stock", "XNYS", "40.00"),
        _equity("XOM", "Exxon Mobil Corporation Common Stock", "XNYS", "115.00"),
        _equity("NKE", "Nike, Inc. Class B Common Stock", "XNYS", "95.00"),
        _etf("SPY", "SPDR S&P 500 ETF Trust", "ARCA", "550.00"),
        _etf("QQQ", "Invesco QQQ Trust, Series 1", "XNAS", "480.00"),
        _etf("VTI", "Vanguard Total Stock Market ETF", "ARCA", "270.00"),
        _etf("VOO", "Vanguard S&P 500 ETF", "ARCA", "505.00"),
        _etf("IWM", "iShares Russell 2000 ETF", "ARCA", "210.00"),
        _etf("DIA", "SPDR Dow Jones Industrial Average ETF Trust", "ARCA", "400.00"),
        _etf("AGG", "iShares Core U.S. Aggregate Bond ETF", "ARCA", "98.50"),
        _etf("GLD", "SPDR Gold Shares", "ARCA", "215.00"),
        _etf("SCHD", "Schwab U.S. Dividend Equity ETF", "ARCA", "80.00"),
        Asset(
            "TWTR",
            "Twitter, Inc. Common Stock (delisted)",
            "equity",
            "XNYS",
            "53.70",
            status="inactive",
            tradable=False,
            fractionable=False,
            marginable=False,
            shortable=False,
        ),
    ]
}

_FOUR_PLACES = Decimal("0.0001")
_CENT = Decimal("0.01")


def price_text(value: Decimal) -> str:
    """A price as a decimal string: two places ("178.50"), or up to four when sub-cent ("0.1234")."""
    q = value.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
    if q == q.quantize(_CENT):
        return str(q.quantize(_CENT))
    return format(q.normalize(), "f")


MAX_PRICE = Decimal(1_000_000_000)


def parse_price(value: str, param: str) -> Decimal:
    """A positive price with at most four decimal places (sub-cent prices are quoted to 0.0001), or 400."""
    price = Decimal(value)
    # the range first: quantizing a price of 10^25 or more overflows the decimal context (it was a 500)
    if not 0 < price <= MAX_PRICE or price != price.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP):
        raise ApiError(
            "BLUM-400-003",
            f"'{param}' must be a positive price of at most {MAX_PRICE:,} with at most 4 decimal places.",
            param=param,
        )
    return price


def find(symbol: str) -> Asset | None:
    return ASSETS.get(symbol.strip().upper())


def require(symbol: str, *, param: str = "symbol") -> Asset:
    """The asset, or 404 BLUM-404-003."""
    asset = find(symbol)
    if asset is None:
        raise ApiError(
            "BLUM-404-003",
            f"Asset {symbol.strip().upper()!r} not found; list tradable symbols with GET /v1/assets?tradable=true.",
            param=param,
        )
    return asset


def simulated_price(twin: Twin, tenant_id: str, symbol: str) -> Decimal | None:
    """The tenant's simulated price of ``symbol`` (set through the sandbox controls), if any."""
    row = twin.db.one("SELECT price FROM prices WHERE tenant_id = ? AND symbol = ?", (tenant_id, symbol))
    return None if row is None else Decimal(row[0])


def current_price(twin: Twin, tenant_id: str, asset: Asset) -> Decimal:
    """The tenant's simulated price if set, else the catalogue's reference price."""
    simulated = simulated_price(twin, tenant_id, asset.symbol)
    return simulated if simulated is not None else Decimal(asset.reference_price)


def set_price(twin: Twin, tenant_id: str, asset: Asset, price: Decimal | None) -> None:
    """Set (or, with None, clear) the tenant's simulated price of ``asset``. Call inside a transaction."""
    if price is None:
        twin.db.execute("DELETE FROM prices WHERE tenant_id = ? AND symbol = ?", (tenant_id, asset.symbol))
        return
    twin.db.execute(
        "INSERT INTO prices (tenant_id, symbol, price) VALUES (?,?,?) "
        "ON CONFLICT(tenant_id, symbol) DO UPDATE SET price = excluded.price",
        (tenant_id, asset.symbol, price_text(price)),
    )


def render(twin: Twin, tenant_id: str, asset: Asset) -> dict[str, Any]:
    """The asset as ``GET /assets`` shows it; quote fields are JSON numbers (camelCase) as Bluum sends them."""
    price = current_price(twin, tenant_id, asset)
    previous = Decimal(asset.reference_price)
    change = price - previous
    now = iso(twin.clock.now())
    return {
        "id": asset.id,
        "object": "asset",
        "livemode": False,
        "class": asset.asset_class,
        "country": "US",
        "market": asset.market,
        "market_name": _MARKETS[asset.market],
        "market_country": "US",
        "market_currency": "USD",
        "symbol": asset.symbol,
        "name": asset.name,
        "status": asset.status,
        "tradable": asset.tradable,
        "marginable": asset.marginable,
        "shortable": asset.shortable,
        "easy_to_borrow": asset.shortable,
        "fractionable": asset.fractionable,
        "fractional_eh_enabled": asset.fractionable,
        "currency": "USD",
        "price": float(price),
        "change": float(change.quantize(_FOUR_PLACES)),
        "changePercent": float((change / previous * 100).quantize(_CENT, rounding=ROUND_HALF_UP)),
        "previousClose": float(previous),
        "bidPrice": float(price),
        "askPrice": float(price),
        "price_timestamp": now,
        "last_synced_at": now,
    }
