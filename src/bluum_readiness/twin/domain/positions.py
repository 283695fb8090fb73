"""Positions in the twin: what an investor holds, how a fill changes it, and its live valuation.

A position is created by the first buy of a symbol, grows with VWAP cost (``_avg_cost``), shrinks with sells
and is deleted (◆) when it reaches zero. Its price-dependent figures are recomputed at fills, when the sandbox
sets a price, and on every read (``position_view``). Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from bluum_readiness.twin.domain import catalog
from bluum_readiness.twin.domain import transitions as tr
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import iso, money, qty

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["apply_fill", "position_of", "position_view", "refresh", "sellable"]

_CENT = Decimal("0.01")


def position_of(twin: Twin, tenant_id: str, investor_id: str, symbol: str) -> Resource | None:
    """The investor's position in ``symbol``, if any."""
    found = twin.store.list(tenant_id, "position", investor_id=investor_id, where=lambda p: p["symbol"] == symbol)
    return found[0] if found else None


def sellable(twin: Twin, tenant_id: str, investor_id: str, symbol: str, *, excluding: str | None = None) -> Decimal:
    """Shares an investor may still sell: the position minus what other open sell orders already claim."""
    position = position_of(twin, tenant_id, investor_id, symbol)
    held = Decimal(position["quantity"]) if position else Decimal(0)
    claimed = sum(
        (
            Decimal(o["quantity"]) - Decimal(o["filled_quantity"])
            for o in twin.store.list(
                tenant_id,
                "order",
                investor_id=investor_id,
                where=lambda o: (
                    o["symbol"] == symbol
                    and o["side"] == "sell"
                    and o["status"] in tr.NON_TERMINAL
                    and o["id"] != excluding
                ),
            )
        ),
        Decimal(0),
    )
    return held - claimed


def refresh(position: Resource, price: Decimal, now: float) -> Resource:
    """Recompute a position's price-dependent figures at ``price`` (in place)."""
    quantity = Decimal(position["quantity"])
    cost = quantity * Decimal(position["_avg_cost"])
    value = quantity * price
    position["total_cost_basis"] = money(cost)
    position["current_price"] = catalog.price_text(price)
    position["market_value"] = money(value)
    position["unrealized_pl"] = money(value - cost)
    percent = (value - cost) / cost * 100 if cost else Decimal(0)
    position["unrealized_pl_percent"] = str(percent.quantize(_CENT, rounding=ROUND_HALF_UP))
    position["price_source"] = "DATABASE"
    position["price_confidence"] = "REAL_TIME"
    position["price_timestamp"] = iso(now)
    return position


def position_view(twin: Twin, tenant_id: str, position: Resource) -> Resource:
    """A stored position rendered live at the tenant's current price."""
    asset = catalog.require(position["symbol"])
    return refresh(dict(position), catalog.current_price(twin, tenant_id, asset), twin.clock.now())


def apply_fill(
    twin: Twin, tenant_id: str, order: Resource, asset: catalog.Asset, quantity: Decimal, price: Decimal, now: float
) -> None:
    """Create, grow (VWAP cost), shrink or delete (◆ at zero) the investor's position in the symbol."""
    position = position_of(twin, tenant_id, order["investor_id"], asset.symbol)
    if order["side"] == "buy":
        if position is None:
            position = twin.new_resource(
                "pos",
                "position",
                investor_id=order["investor_id"],
                symbol=asset.symbol,
                asset_id=asset.id,
                **{"class": asset.asset_class},
                country="US",
                currency="USD",
                quantity="0",
                average_cost_basis="0.00",
                _avg_cost="0",
                created_at=iso(now),
            )
            twin.store.insert(tenant_id, position)
        held = Decimal(position["quantity"])
        total = held + quantity
        average = (held * Decimal(position["_avg_cost"]) + quantity * price) / total
        position["_avg_cost"] = str(average)
        position["quantity"] = qty(total)
        position["average_cost_basis"] = catalog.price_text(average)
    else:
        assert position is not None  # checked before the fill
        remaining = Decimal(position["quantity"]) - quantity
        if remaining <= 0:
            twin.store.delete(tenant_id, position["id"])
            return
        position["quantity"] = qty(remaining)
    position["last_transaction_at"] = iso(now)
    position["updated_at"] = iso(now)
    twin.store.save(tenant_id, refresh(position, price, now))
