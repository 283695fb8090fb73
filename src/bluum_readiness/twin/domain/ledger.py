"""Money: the append-only ledger, holds, and the wallet figures derived from them.

Contract for the other domain modules:
- a completed money movement is one ``post`` (deposits +, withdrawals −, buys −, sells +), tagged with the
  operation id (dep_/wd_/ord_) that caused it — tests read the ledger to prove money moved exactly once;
- money set aside but not yet moved (a pending withdrawal, an open buy order) is a *hold*: the resource carries
  an internal ``_hold_cents`` field, set when reserving and set to 0 when released or captured.

Figures: balance = ledger sum (kept per investor in ``ledger_balances``); reserved = sum of holds;
available = balance − reserved; buying_power = cash_withdrawable = available; equity = balance + market value of
positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["HOLDING_OBJECTS", "available_cents", "balance_cents", "entries", "post", "reserved_cents"]

HOLDING_OBJECTS = ("withdrawal", "order")
_SIGN = {"deposit": 1, "sell": 1, "withdrawal": -1, "buy": -1}


def post(twin: Twin, tenant_id: str, investor_id: str, operation_id: str, kind: str, amount_cents: int) -> str:
    """Record one money movement. ``amount_cents`` is positive; the kind gives the direction."""
    if amount_cents <= 0:
        raise ValueError("a ledger movement must be a positive number of cents")
    entry_id = twin.ids.new("led")
    twin.db.execute(
        "INSERT INTO ledger (id, tenant_id, investor_id, operation_id, kind, amount_cents, created, seq) "
        "VALUES (?,?,?,?,?,?,?,?)",
        (
            entry_id,
            tenant_id,
            investor_id,
            operation_id,
            kind,
            _SIGN[kind] * amount_cents,
            twin.clock.now(),
            twin.db.next_seq(),
        ),
    )
    return entry_id


def balance_cents(twin: Twin, tenant_id: str, investor_id: str) -> int:
    """The sum of the investor's ledger entries, read from ``ledger_balances`` (kept by triggers, see schema.sql)."""
    row = twin.db.one(
        "SELECT cents FROM ledger_balances WHERE tenant_id = ? AND investor_id = ?", (tenant_id, investor_id)
    )
    return int(row[0]) if row else 0


def reserved_cents(twin: Twin, tenant_id: str, investor_id: str) -> int:
    """The sum of the holds of the investor's withdrawals and orders (index ``resources_holding``: open holds only)."""
    row = twin.db.one(
        "SELECT COALESCE(SUM(json_extract(data, '$._hold_cents')), 0) FROM resources "
        "WHERE tenant_id = ? AND investor_id = ? AND object IN (?, ?) AND json_extract(data, '$._hold_cents') > 0",
        (tenant_id, investor_id, *HOLDING_OBJECTS),
    )
    return int(row[0]) if row else 0


def available_cents(twin: Twin, tenant_id: str, investor_id: str) -> int:
    return balance_cents(twin, tenant_id, investor_id) - reserved_cents(twin, tenant_id, investor_id)


def entries(
    twin: Twin, tenant_id: str, *, investor_id: str | None = None, operation_id: str | None = None
) -> list[dict[str, Any]]:
    """Ledger entries, oldest first (for the operator's ledger view)."""
    sql = "SELECT id, investor_id, operation_id, kind, amount_cents, created FROM ledger WHERE tenant_id = ?"
    params: list[Any] = [tenant_id]
    if investor_id is not None:
        sql += " AND investor_id = ?"
        params.append(investor_id)
    if operation_id is not None:
        sql += " AND operation_id = ?"
        params.append(operation_id)
    return [dict(r) for r in twin.db.all(sql + " ORDER BY seq", tuple(params))]
