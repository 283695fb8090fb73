"""What the lifecycle checks share: the item, money read as ``Decimal``, order bodies, and the target's prices and
wallets read with the suite's own client."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from bluum_readiness.errors import HarnessError
from bluum_readiness.harness import TARGET_FAILED

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

ITEM = "lifecycle"
CENT = Decimal("0.01")
TRANSFER_DONE = frozenset({"completed", "failed", "cancelled", "canceled", "returned", "rejected"})


def to_decimal(value: Any) -> Decimal:
    """A money or quantity field as ``Decimal``: 0 when it is missing or not a number."""
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def order_body(kind: str, symbol: str, side: str, quantity: str, limit_price: Decimal | None = None) -> dict[str, Any]:
    """A good-till-cancelled order as ``place_order`` takes it (``limit_price`` to the cent, for a limit order)."""
    body: dict[str, Any] = {"symbol": symbol, "side": side, "type": kind, "time_in_force": "gtc", "quantity": quantity}
    if limit_price is not None:
        body["limit_price"] = f"{limit_price:.2f}"
    return body


def price_of(h: Harness, symbol: str) -> Decimal:
    """The asset's current price at the target, to the cent."""
    return to_decimal(h.call("GET", f"/assets/{symbol}")["price"]).quantize(CENT)


def wallet_of(h: Harness, investor: str) -> dict[str, Any]:
    """The investor's (first) wallet at the target. None is the target's state, not the integration's doing: not
    verifiable against a real target, the suite's fault (broken) against the twin (``Harness.target_fault``)."""
    wallets = h.call("GET", f"/investors/{investor}/wallets")["data"]
    if not wallets:
        raise h.target_fault(
            f"the target shows investor {investor} with no wallet (GET /investors/{investor}/wallets is empty), so "
            f"its balances could not be read: {TARGET_FAILED}",
            HarnessError(f"investor {investor} has no wallet at the target"),
        )
    wallet: dict[str, Any] = wallets[0]
    return wallet


def filled_value(order: dict[str, Any]) -> Decimal:
    """What a filled order moved: filled quantity × average price, to the cent."""
    return (to_decimal(order.get("filled_quantity")) * to_decimal(order.get("average_price"))).quantize(CENT)
