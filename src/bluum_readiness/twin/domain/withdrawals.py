"""Opening withdrawals in the twin: every method (◆) follows the ACH timings, and the amount is held at once.

The hold (``_hold_cents``, see ``ledger``) makes the money unavailable from the moment the withdrawal is
accepted; on completion the ledger is debited and the hold released in the same transaction (the shared state
machine in ``transfer_states``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluum_readiness.twin.domain import ledger
from bluum_readiness.twin.domain.transfer_states import PROCESS_JOB, ach_details, open_transfer
from bluum_readiness.twin.domain.wallet_transactions import wallet_of
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import from_cents, iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["WITHDRAWAL_METHODS", "create_withdrawal"]

WITHDRAWAL_METHODS = ("ach", "wire", "manual_bank_transfer")


def create_withdrawal(
    twin: Twin,
    tenant_id: str,
    investor: Resource,
    *,
    amount_cents: int,
    currency: str,
    method: str,
    funding_source_id: str,
    description: str | None,
) -> Resource:
    """A new ``pending`` withdrawal holding its amount: 422 BLUM-422-001 when it exceeds the available cash."""
    available = ledger.available_cents(twin, tenant_id, investor["id"])
    if amount_cents > available:
        raise ApiError(
            "BLUM-422-001",
            f"Insufficient funds: {from_cents(available)} {currency} is available to withdraw and "
            f"{from_cents(amount_cents)} was requested; withdraw at most {from_cents(max(available, 0))}.",
            param="amount",
        )
    withdrawal = twin.new_resource(
        "wd",
        "withdrawal",
        investor_id=investor["id"],
        wallet_id=wallet_of(twin, tenant_id, investor["id"])["id"],
        funding_source_id=funding_source_id,
        method=method,
        status="pending",
        amount=from_cents(amount_cents),
        currency=currency,
        description=description,
        method_details=ach_details(),
        destination_details=None,
        initiated_at=iso(twin.clock.now()),
        completed_at=None,
        failure_reason=None,
        _hold_cents=amount_cents,
    )
    return open_transfer(twin, tenant_id, withdrawal, PROCESS_JOB["withdrawal"], twin.settings.ach_processing_delay_s)
