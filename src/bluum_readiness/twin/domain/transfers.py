"""Money in and out: the entry point for deposits, withdrawals and their wallet transactions.

Lifecycle (external vocabulary ``pending → processing → completed``, or ``cancelled`` / ``failed``), split by job:

- ``deposits``: opening a deposit, per method (ACH timings; manual bank transfer and wire wait for a sandbox
  control, manual ones expire);
- ``withdrawals``: opening a withdrawal, whose amount is held at once;
- ``transfer_states``: the state machine both share (complete, fail, cancel, the jobs that advance them);
- ``wallet_transactions``: the wallet and the ``txn_`` mirror of every deposit, withdrawal and fill.

This module re-exports what the resource modules use (every name in ``__all__``) and holds the request-level
helpers both kinds share: the funding-source check and the date-range filter. Every function here runs inside
the caller's transaction (jobs run in the scheduler's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from bluum_readiness.twin.domain.deposits import DEPOSIT_METHODS, RECEIVING_BANK, create_deposit
from bluum_readiness.twin.domain.transfer_states import (
    OPEN_STATUSES,
    STATUSES,
    cancel,
    complete,
    fail,
    register_jobs,
)
from bluum_readiness.twin.domain.wallet_transactions import TRANSACTION_TYPES, record_transaction, wallet_of
from bluum_readiness.twin.domain.withdrawals import WITHDRAWAL_METHODS, create_withdrawal
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = [
    "DEPOSIT_METHODS",
    "OPEN_STATUSES",
    "RECEIVING_BANK",
    "STATUSES",
    "TRANSACTION_TYPES",
    "WITHDRAWAL_METHODS",
    "cancel",
    "complete",
    "create_deposit",
    "create_withdrawal",
    "date_window",
    "fail",
    "record_transaction",
    "register_jobs",
    "require_funding_source",
    "wallet_of",
]


def require_funding_source(twin: Twin, tenant_id: str, investor_id: str, funding_source_id: str) -> Resource:
    """An active funding source of this investor: 404 BLUM-404-001 if unknown, 409 BLUM-409-003 if disconnected."""
    source = twin.store.get(tenant_id, "funding_source", funding_source_id)
    if source is None or source["investor_id"] != investor_id:
        raise ApiError(
            "BLUM-404-001",
            f"No such funding source {funding_source_id!r} for investor {investor_id}; "
            "connect one with POST /investors/{investor_id}/funding-sources/connect.",
            param="funding_source_id",
        )
    if source["status"] != "active":
        raise ApiError(
            "BLUM-409-003",
            f"Funding source {funding_source_id} is {source['status']}; connect an active funding source.",
            param="funding_source_id",
        )
    return source


# -- list filters ------------------------------------------------------------------------------------------


def _parse_date(value: str, param: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            "BLUM-400-003", f"'{param}' must be a date in YYYY-MM-DD format; got {value!r}.", param=param
        ) from None


def date_window(date_from: str | None, date_to: str | None) -> tuple[float | None, float | None]:
    """``[start, end)`` in unix seconds for inclusive UTC dates; 400 BLUM-400-007 when from is after to."""
    start = _parse_date(date_from, "date_from") if date_from is not None else None
    end = _parse_date(date_to, "date_to") if date_to is not None else None
    if start is not None and end is not None and start > end:
        raise ApiError(
            "BLUM-400-007",
            f"date_from ({date_from}) is after date_to ({date_to}); send a range whose start precedes its end.",
            param="date_from",
        )

    def ts(d: date) -> float:
        return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()

    def end_of(d: date) -> float:  # the next midnight; 9999-12-31 has none in ``date`` (it was a 500)
        return ts(d) + 86400.0

    return (
        ts(start) if start is not None else None,
        end_of(end) if end is not None else None,
    )
