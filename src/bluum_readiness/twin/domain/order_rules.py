"""Order validation in the twin: the cross-field rules of an order body and the 4xx errors of placing one.

Shared by placing (``trading.place``), estimating (``trading.estimate``) and filling (``fills``), so an order
is judged by the same rules and worded the same way wherever it is checked. Pure: no database access.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from bluum_readiness.twin.domain import catalog
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, from_cents, qty

__all__ = [
    "MAX_NOTIONAL",
    "MAX_QUANTITY",
    "QUANTITY_PLACES",
    "QUANTUM",
    "check_shape",
    "estimated_cost",
    "insufficient_funds",
    "insufficient_position",
    "require_tradable",
]

QUANTITY_PLACES = 9
MAX_QUANTITY = Decimal(1_000_000_000)
MAX_NOTIONAL = Decimal(1_000_000_000_000)
QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)
"""The smallest quantity step (one billionth of a share)."""


def check_shape(
    *,
    side: str,
    order_type: str,
    quantity: str | None,
    notional: str | None,
    limit_price: str | None,
    stop_price: str | None,
) -> None:
    """Cross-field rules of an order (or estimate) body: 400s that a field type alone cannot express."""
    if quantity is None and notional is None:
        raise ApiError("BLUM-400-001", "Send exactly one of 'quantity' or 'notional'.", param="quantity")
    if quantity is not None and notional is not None:
        raise ApiError("BLUM-400-001", "Send either 'quantity' or 'notional', not both.", param="notional")
    if notional is not None and (side != "buy" or order_type != "market"):
        raise ApiError(
            "BLUM-400-001",
            "'notional' is allowed only on buy market orders; send 'quantity' for sells and priced orders.",
            param="notional",
        )
    if quantity is not None and (
        Decimal(quantity) > MAX_QUANTITY
        or Decimal(quantity) != Decimal(quantity).quantize(QUANTUM, rounding=ROUND_DOWN)
    ):
        raise ApiError(
            "BLUM-400-006",
            f"'quantity' must be at most {MAX_QUANTITY:,} with at most {QUANTITY_PLACES} decimal places.",
            param="quantity",
        )
    if notional is not None and Decimal(notional) > MAX_NOTIONAL:
        raise ApiError("BLUM-400-005", f"'notional' must be at most {MAX_NOTIONAL:,}.", param="notional")
    if limit_price is not None:
        catalog.parse_price(limit_price, "limit_price")
    if stop_price is not None:
        catalog.parse_price(stop_price, "stop_price")
    needs_limit = order_type in ("limit", "stop_limit")
    needs_stop = order_type in ("stop", "stop_limit")
    if needs_limit and limit_price is None:
        raise ApiError(
            "BLUM-400-002", f"Missing required field 'limit_price' for a {order_type} order.", param="limit_price"
        )
    if needs_stop and stop_price is None:
        raise ApiError(
            "BLUM-400-002", f"Missing required field 'stop_price' for a {order_type} order.", param="stop_price"
        )
    if not needs_limit and limit_price is not None:
        raise ApiError(
            "BLUM-400-001",
            f"'limit_price' applies only to limit and stop_limit orders; remove it from this {order_type} order.",
            param="limit_price",
        )
    if not needs_stop and stop_price is not None:
        raise ApiError(
            "BLUM-400-001",
            f"'stop_price' applies only to stop and stop_limit orders; remove it from this {order_type} order.",
            param="stop_price",
        )


def estimated_cost(order: Resource, price: Decimal) -> int:
    """What a buy order is expected to cost, in cents (the amount its hold reserves)."""
    if order.get("notional") is not None:
        return cents(order["notional"])
    quantity = Decimal(order["quantity"])
    if order["type"] in ("limit", "stop_limit"):
        per_share = Decimal(order["limit_price"])
    elif order["type"] == "stop":
        per_share = max(price, Decimal(order["stop_price"]))
    else:
        per_share = price
    return cents(quantity * per_share)


def insufficient_funds(needed: int, available: int) -> ApiError:
    return ApiError(
        "BLUM-422-001",
        f"Insufficient buying power: this order needs about ${from_cents(needed)} and "
        f"${from_cents(max(available, 0))} is available. Deposit funds or reduce the order.",
    )


def insufficient_position(symbol: str, wanted: Decimal, sellable: Decimal) -> ApiError:
    return ApiError(
        "BLUM-422-004",
        f"Cannot sell {qty(wanted)} {symbol}: {qty(max(sellable, Decimal(0)))} shares are available to sell "
        "(held, minus open sell orders). Reduce the quantity.",
        param="quantity",
    )


def require_tradable(asset: catalog.Asset) -> None:
    if not asset.tradable:
        raise ApiError(
            "BLUM-422-003",
            f"Asset {asset.symbol} is not tradable (status {asset.status}); choose a tradable asset.",
            param="symbol",
        )
