"""Money in and out: deposit and withdrawal state machines, their jobs, and the wallet's transactions.

Lifecycle (external vocabulary ``pending → processing → completed``, or ``cancelled`` / ``failed``):

- ACH deposit: ``pending`` → (``ach_processing_delay_s``) ``processing`` → (``ach_completion_delay_s``)
  ``completed``; the ledger is credited once, on completion.
- manual_bank_transfer deposit (◆): stays ``pending`` until a sandbox control completes or fails it, or it
  expires after ``manual_deposit_expiry_s`` (→ ``failed``, failure_reason ``expired``).
- wire deposit (◆): stays ``pending`` until a sandbox control completes or fails it; it does not expire.
- withdrawal, every method (◆): the amount is held at once (``_hold_cents``, see ``ledger``), then the ACH
  timings apply; on completion the ledger is debited and the hold released in the same transaction.

Every deposit and withdrawal has a mirror ``transaction`` (``txn_``) whose status follows it;
``record_transaction`` is also how the trading package records buys and sells.
Every function here runs inside the caller's transaction (jobs run in the scheduler's).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bluum_readiness.twin.domain import ledger
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, from_cents, iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin
    from bluum_readiness.twin.scheduler import Job

__all__ = [
    "DEPOSIT_METHODS",
    "OPEN_STATUSES",
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

STATUSES = ("pending", "processing", "completed", "cancelled", "failed")
OPEN_STATUSES = ("pending", "processing")
DEPOSIT_METHODS = ("ach", "manual_bank_transfer", "wire")
WITHDRAWAL_METHODS = ("ach", "wire", "manual_bank_transfer")
TRANSACTION_TYPES = ("deposit", "withdrawal", "buy", "sell")

# ◆ The bank a manual or wire deposit is sent to (Bluum's documented example bank).
RECEIVING_BANK: dict[str, str] = {
    "bank_name": "Choice Financial Group",
    "bank_address": "4501 23rd Avenue S, Fargo, ND 58104, USA",
    "account_name": "Bluum Finance FBO Investors",
    "account_number": "202512345678",
    "routing_number": "091311229",
    "swift_code": "CHFGUS44021",
}

_ALPACA_STATUS = {
    "pending": "QUEUED",
    "processing": "SENT_TO_CLEARING",
    "completed": "COMPLETE",
    "cancelled": "CANCELED",
    "failed": "REJECTED",
}

_PROCESS = {"deposit": "transfer.deposit.process", "withdrawal": "transfer.withdrawal.process"}
_COMPLETE = {"deposit": "transfer.deposit.complete", "withdrawal": "transfer.withdrawal.complete"}
_EXPIRE = "transfer.deposit.expire"


def register_jobs(twin: Twin) -> None:
    for kind in ("deposit", "withdrawal"):
        twin.scheduler.register(_PROCESS[kind], _process_job)
        twin.scheduler.register(_COMPLETE[kind], _complete_job)
    twin.scheduler.register(_EXPIRE, _expire_job)


# -- wallets and transactions ------------------------------------------------------------------------------


def wallet_of(twin: Twin, tenant_id: str, investor_id: str) -> Resource:
    """The investor's USD wallet (created with the investor; created here if an older record lacks one)."""
    wallets = twin.store.list(tenant_id, "wallet", investor_id=investor_id)
    if wallets:
        return wallets[0]
    wallet = twin.new_resource("wlt", "wallet", investor_id=investor_id, currency="USD", status="active")
    return twin.store.insert(tenant_id, wallet)


def record_transaction(
    twin: Twin,
    tenant_id: str,
    investor_id: str,
    *,
    type: str,
    amount_cents: int,
    status: str,
    operation_id: str,
    method: str | None = None,
    description: str | None = None,
    failure_reason: str | None = None,
    currency: str = "USD",
) -> Resource:
    """Create or update the wallet transaction of one operation (dep_/wd_/ord_ id). Call inside a transaction.

    The first call creates the ``txn_`` resource; later calls with the same ``operation_id`` update its
    status, amount and description. ``completed_at`` / ``failed_at`` are stamped when the status first
    becomes ``completed`` / ``failed``. Returns the stored transaction.
    """
    if type not in TRANSACTION_TYPES:
        raise ValueError(f"unknown transaction type {type!r}")
    now = iso(twin.clock.now())
    found = twin.store.find(tenant_id, "transaction", "_operation_id", operation_id, investor_id=investor_id)
    if found:
        txn = found[0]
    else:
        txn = twin.new_resource(
            "txn",
            "transaction",
            investor_id=investor_id,
            wallet_id=wallet_of(twin, tenant_id, investor_id)["id"],
            type=type,
            status=status,
            amount=from_cents(amount_cents),
            currency=currency,
            method=method,
            description=description,
            completed_at=None,
            failed_at=None,
            failure_reason=None,
            _operation_id=operation_id,
        )
    txn["status"] = status
    txn["amount"] = from_cents(amount_cents)
    if method is not None:
        txn["method"] = method
    if description is not None:
        txn["description"] = description
    if status == "completed" and txn["completed_at"] is None:
        txn["completed_at"] = now
    if status == "failed":
        txn["failed_at"] = txn["failed_at"] or now
        txn["failure_reason"] = failure_reason
    if found:
        twin.store.save(tenant_id, txn)
    else:
        twin.store.insert(tenant_id, txn)
    return txn


def _sync_transaction(twin: Twin, tenant_id: str, transfer: Resource) -> None:
    record_transaction(
        twin,
        tenant_id,
        transfer["investor_id"],
        type=transfer["object"],
        amount_cents=cents(transfer["amount"]),
        status=transfer["status"],
        operation_id=transfer["id"],
        method=transfer["method"],
        description=transfer.get("description"),
        failure_reason=transfer.get("failure_reason"),
        currency=transfer["currency"],
    )


# -- funding sources ---------------------------------------------------------------------------------------


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


# -- creation ----------------------------------------------------------------------------------------------


def _ach_details() -> dict[str, Any]:
    return {"provider_name": "alpaca", "transfer_id": str(uuid.uuid4()), "alpaca_status": "QUEUED"}


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
    if method == "ach":
        method_details = _ach_details()
    elif method == "manual_bank_transfer":
        expires_at = iso(now + twin.settings.manual_deposit_expiry_s)
        reference = f"BLUUM-{twin.ids.token_hex(4).upper()}"
        method_details = {
            "reference_code": reference,
            "bank_details": {
                **RECEIVING_BANK,
                "instructions": f"Send a domestic bank transfer of {from_cents(amount_cents)} {currency} to this "
                f"account and put the reference code {reference} in the memo; transfers without it cannot be "
                "matched to the deposit.",
            },
            "expires_at": expires_at,
        }
    else:  # wire
        method_details = {
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
    twin.store.insert(tenant_id, deposit)
    if method == "ach":
        twin.scheduler.schedule(tenant_id, _PROCESS["deposit"], deposit["id"], twin.settings.ach_processing_delay_s)
    elif method == "manual_bank_transfer":
        twin.scheduler.schedule(tenant_id, _EXPIRE, deposit["id"], twin.settings.manual_deposit_expiry_s)
    _sync_transaction(twin, tenant_id, deposit)
    emit(twin, tenant_id, "transfer.deposit.initiated", deposit)
    return deposit


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
    now = twin.clock.now()
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
        method_details=_ach_details(),
        destination_details=None,
        initiated_at=iso(now),
        completed_at=None,
        failure_reason=None,
        _hold_cents=amount_cents,
    )
    twin.store.insert(tenant_id, withdrawal)
    twin.scheduler.schedule(tenant_id, _PROCESS["withdrawal"], withdrawal["id"], twin.settings.ach_processing_delay_s)
    _sync_transaction(twin, tenant_id, withdrawal)
    emit(twin, tenant_id, "transfer.withdrawal.initiated", withdrawal)
    return withdrawal


# -- transitions -------------------------------------------------------------------------------------------


def _set_status(transfer: Resource, status: str) -> None:
    transfer["status"] = status
    details = transfer.get("method_details")
    if isinstance(details, dict) and "alpaca_status" in details:
        details["alpaca_status"] = _ALPACA_STATUS[status]


def _conflict(transfer: Resource, allowed: str, action: str) -> ApiError:
    return ApiError(
        "BLUM-409-003",
        f"{transfer['object'].capitalize()} {transfer['id']} is {transfer['status']}; "
        f"only a {allowed} {transfer['object']} can be {action}.",
    )


def complete(twin: Twin, tenant_id: str, transfer: Resource) -> Resource:
    """Complete a pending or processing deposit/withdrawal: the ledger moves exactly once.

    409 BLUM-409-003 if the transfer is already completed, cancelled or failed.
    """
    if transfer["status"] not in OPEN_STATUSES:
        raise _conflict(transfer, "pending or processing", "completed")
    kind = transfer["object"]
    amount = cents(transfer["amount"])
    if not ledger.entries(twin, tenant_id, operation_id=transfer["id"]):
        ledger.post(twin, tenant_id, transfer["investor_id"], transfer["id"], kind, amount)
    now = iso(twin.clock.now())
    _set_status(transfer, "completed")
    transfer["completed_at"] = now
    if kind == "deposit":
        transfer["received_at"] = transfer.get("received_at") or now
    else:
        transfer["_hold_cents"] = 0
    twin.store.save(tenant_id, transfer)
    twin.scheduler.cancel(transfer["id"])
    _sync_transaction(twin, tenant_id, transfer)
    emit(twin, tenant_id, f"transfer.{kind}.completed", transfer)
    return transfer


def fail(twin: Twin, tenant_id: str, transfer: Resource, reason: str) -> Resource:
    """Fail a pending or processing deposit/withdrawal, releasing any hold (409 BLUM-409-003 otherwise)."""
    if transfer["status"] not in OPEN_STATUSES:
        raise _conflict(transfer, "pending or processing", "failed")
    _set_status(transfer, "failed")
    transfer["failure_reason"] = reason
    if transfer["object"] == "withdrawal":
        transfer["_hold_cents"] = 0
    twin.store.save(tenant_id, transfer)
    twin.scheduler.cancel(transfer["id"])
    _sync_transaction(twin, tenant_id, transfer)
    emit(twin, tenant_id, f"transfer.{transfer['object']}.failed", transfer)
    return transfer


def cancel(twin: Twin, tenant_id: str, transfer: Resource) -> Resource:
    """Cancel a pending deposit/withdrawal (409 BLUM-409-003 otherwise); a withdrawal's hold is released.

    ◆ No webhook event: Bluum documents none for cancellations.
    """
    if transfer["status"] != "pending":
        raise _conflict(transfer, "pending", "cancelled")
    _set_status(transfer, "cancelled")
    if transfer["object"] == "withdrawal":
        transfer["_hold_cents"] = 0
    twin.store.save(tenant_id, transfer)
    twin.scheduler.cancel(transfer["id"])
    _sync_transaction(twin, tenant_id, transfer)
    return transfer


# -- jobs --------------------------------------------------------------------------------------------------


def _load(twin: Twin, job: Job) -> Resource | None:
    obj = "deposit" if job.ref.startswith("dep_") else "withdrawal"
    return twin.store.get(job.tenant_id, obj, job.ref)


def _process_job(twin: Twin, job: Job) -> None:
    transfer = _load(twin, job)
    if transfer is None or transfer["status"] != "pending":
        return
    _set_status(transfer, "processing")
    twin.store.save(job.tenant_id, transfer)
    _sync_transaction(twin, job.tenant_id, transfer)
    # Timed from when processing was due, not from when this job ran, so a late tick does not stretch the schedule.
    delay = max(0.0, job.due + twin.settings.ach_completion_delay_s - twin.clock.now())
    twin.scheduler.schedule(job.tenant_id, _COMPLETE[transfer["object"]], transfer["id"], delay)


def _complete_job(twin: Twin, job: Job) -> None:
    transfer = _load(twin, job)
    if transfer is None or transfer["status"] not in OPEN_STATUSES:
        return
    complete(twin, job.tenant_id, transfer)


def _expire_job(twin: Twin, job: Job) -> None:
    transfer = _load(twin, job)
    if transfer is None or transfer["status"] != "pending":
        return
    fail(twin, job.tenant_id, transfer, "expired")


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

    return (
        ts(start) if start is not None else None,
        ts(end + timedelta(days=1)) if end is not None else None,
    )
