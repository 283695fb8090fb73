"""Value conventions: decimal strings, money in cents, ISO 8601 UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["cents", "from_cents", "iso", "money", "qty"]

_CENT = Decimal("0.01")


def cents(amount: str | Decimal) -> int:
    """A money amount (decimal string) as integer cents, rounded half-up."""
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(value: int) -> str:
    """Integer cents as a decimal string with two places: 12345 → "123.45"."""
    return str((Decimal(value) / 100).quantize(_CENT))


def money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def qty(value: Decimal) -> str:
    """A quantity as a plain decimal string without trailing zeros ("1", "0.5")."""
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def iso(timestamp: float | None) -> str | None:
    """Unix seconds → ISO 8601 UTC ("2025-06-15T14:30:15Z"), None stays None."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
