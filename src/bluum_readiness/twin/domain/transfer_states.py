"""The state machine deposits and withdrawals share: ``pending → processing → completed``, or ``cancelled`` /
``failed``; the jobs that advance it; and opening a new transfer.

- ``complete`` moves the ledger exactly once (deposits +, withdrawals −) and releases a withdrawal's hold;
- ``fail`` and ``cancel`` release a withdrawal's hold; cancelling emits no event (◆ Bluum documents none);
- jobs: ``transfer.<kind>.process`` (pending → processing, then the completion is scheduled),
  ``transfer.<kind>.complete``, and ``transfer.deposit.expire`` (a manual deposit fails as ``expired``).

Each change re-syncs the transfer's wallet transaction. Every function here runs inside the caller's
transaction (jobs run in the scheduler's).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from bluum_readiness.twin.domain import ledger
from bluum_readiness.twin.domain.wallet_transactions import sync_transaction
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin
    from bluum_readiness.twin.scheduler import Job

__all__ = [
    "EXPIRE_JOB",
    "OPEN_STATUSES",
    "PROCESS_JOB",
    "STATUSES",
    "ach_details",
    "cancel",
    "complete",
    "fail",
    "open_transfer",
    "register_jobs",
]

STATUSES = ("pending", "processing", "completed", "cancelled", "failed")
OPEN_STATUSES = ("pending", "processing")

_ALPACA_STATUS = {
    "pending": "QUEUED",
    "processing": "SENT_TO_CLEARING",
    "completed": "COMPLETE",
    "cancelled": "CANCELED",
    "failed": "REJECTED",
}

PROCESS_JOB = {"deposit": "transfer.deposit.process", "withdrawal": "transfer.withdrawal.process"}
_COMPLETE_JOB = {"deposit": "transfer.deposit.complete", "withdrawal": "transfer.withdrawal.complete"}
EXPIRE_JOB = "transfer.deposit.expire"


def register_jobs(twin: Twin) -> None:
    for kind in ("deposit", "withdrawal"):
        twin.scheduler.register(PROCESS_JOB[kind], _process_job)
        twin.scheduler.register(_COMPLETE_JOB[kind], _complete_job)
    twin.scheduler.register(EXPIRE_JOB, _expire_job)


# -- opening ------------------------------------------------------------------------------------------------


def ach_details() -> dict[str, Any]:
    """``method_details`` of a transfer that goes through Alpaca (``alpaca_status`` follows the status)."""
    return {"provider_name": "alpaca", "transfer_id": str(uuid.uuid4()), "alpaca_status": "QUEUED"}


def open_transfer(twin: Twin, tenant_id: str, transfer: Resource, job: str | None, delay_s: float = 0.0) -> Resource:
    """Store a new ``pending`` deposit/withdrawal, queue its first ``job`` (if any) ``delay_s`` from now, create
    its wallet transaction and emit ``transfer.<kind>.initiated``."""
    twin.store.insert(tenant_id, transfer)
    if job is not None:
        twin.scheduler.schedule(tenant_id, job, transfer["id"], delay_s)
    sync_transaction(twin, tenant_id, transfer)
    emit(twin, tenant_id, f"transfer.{transfer['object']}.initiated", transfer)
    return transfer


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
    sync_transaction(twin, tenant_id, transfer)
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
    sync_transaction(twin, tenant_id, transfer)
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
    sync_transaction(twin, tenant_id, transfer)
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
    sync_transaction(twin, job.tenant_id, transfer)
    # Timed from when processing was due, not from when this job ran, so a late tick does not stretch the schedule.
    delay = max(0.0, job.due + twin.settings.ach_completion_delay_s - twin.clock.now())
    twin.scheduler.schedule(job.tenant_id, _COMPLETE_JOB[transfer["object"]], transfer["id"], delay)


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
