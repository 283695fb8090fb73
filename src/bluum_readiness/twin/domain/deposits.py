"""Opening deposits in the twin (◆ per method):

- ACH: ``pending`` → (``ach_processing_delay_s``) ``processing`` → (``ach_completion_delay_s``) ``completed``;
  the ledger is credited once, on completion;
- manual_bank_transfer: stays ``pending`` until a sandbox control completes or fails it, or it expires after
  ``manual_deposit_expiry_s`` (→ ``failed``, failure_reason ``expired``); the investor is shown the receiving
  bank and a reference code;
- wire: stays ``pending`` until a sandbox control completes or fails it; it does not expire.

What happens after opening is the shared state machine in ``transfer_states``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bluum_readiness.twin.domain.transfer_states import EXPIRE_JOB, PROCESS_JOB, ach_details, open_transfer
from bluum_readiness.twin.domain.wallet_transactions import wallet_of
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import from_cents, iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["DEPOSIT_METHODS", "RECEIVING_BANK", "create_deposit"]

DEPOSIT_METHODS = ("ach", "manual_bank_transfer", "wire")

# ◆ The bank a manual or wire deposit is sent to (Bluum's documented example bank).
RECEIVING_BANK: dict[str, str] = {
    "bank_name": "Choice Financial Group",
    "bank_address": "4501 23rd Avenue S, Fargo, ND 58104, USA",
    "account_name": "Bluum Finance FBO Investors",
    "account_number": "202512345678",
    "routing_number": "091311229",
    "swift_code": "CHFGUS44021",
}


def _manual_details(twin: Twin, amount_cents: int, currency: str, expires_at: str | None) -> dict[str, Any]:
    reference = f"BLUUM-{twin.ids.token_hex(4).upper()}"
    return {
        "reference_code": reference,
        "bank_details": {
            **RECEIVING_BANK,
            "instructions": f"Send a domestic bank transfer of {from_cents(amount_cents)} {currency} to this "
            f"account and put the reference code {reference} in the memo; transfers without it cannot be "
            "matched to the deposit.",
        },
        "expires_at": expires_at,
    }


def _wire_details(currency: str) -> dict[str, Any]:
    return {
        "provider_name": "alpaca",
        "funding_details": [
            {
                "payment_type": "domestic_wire",
                "currency": currency,
                "account_number": RECEIVING_BANK["account_number"],
                "routing_code": RECEIVING_BANK["routing_number"],
                "bank_name": RECEIVING_BANK["bank_name"],
            },
            {
                "payment_type": "swift_wire",
                "currency": currency,
                "account_number": RECEIVING_BANK["account_number"],
                "routing_code": RECEIVING_BANK["swift_code"],
                "bank_name": RECEIVING_BANK["bank_name"],
            },
        ],
    }


def create_deposit(
    twin: Twin,
    tenant_id: str,
    investor: Resource,
    *,
    amount_cents: int,
    currency: str,
    method: str,
    funding_source_id: str | None,
    description: str | None,
) -> Resource:
    """A new ``pending`` deposit with its transaction, jobs and ``transfer.deposit.initiated`` event."""
    now = twin.clock.now()
    expires_at: str | None = None
    job: str | None = None
    delay_s = 0.0
    if method == "ach":
        method_details = ach_details()
        job, delay_s = PROCESS_JOB["deposit"], twin.settings.ach_processing_delay_s
    elif method == "manual_bank_transfer":
        expires_at = iso(now + twin.settings.manual_deposit_expiry_s)
        method_details = _manual_details(twin, amount_cents, currency, expires_at)
        job, delay_s = EXPIRE_JOB, twin.settings.manual_deposit_expiry_s
    else:  # wire
        method_details = _wire_details(currency)
    deposit = twin.new_resource(
        "dep",
        "deposit",
        investor_id=investor["id"],
        wallet_id=wallet_of(twin, tenant_id, investor["id"])["id"],
        funding_source_id=funding_source_id,
        method=method,
        status="pending",
        amount=from_cents(amount_cents),
        currency=currency,
        description=description,
        method_details=method_details,
        initiated_at=iso(now),
        received_at=None,
        completed_at=None,
        expires_at=expires_at,
        failure_reason=None,
    )
    return open_transfer(twin, tenant_id, deposit, job, delay_s)
