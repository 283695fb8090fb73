"""The investor's wallet and its transactions (``txn_``): one per money operation, following its status.

Every deposit and withdrawal has a mirror transaction whose status follows it (``sync_transaction``); fills
record their buy/sell transactions through ``record_transaction``. Every function here runs inside the
caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import cents, from_cents, iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["TRANSACTION_TYPES", "record_transaction", "sync_transaction", "wallet_of"]

TRANSACTION_TYPES = ("deposit", "withdrawal", "buy", "sell")


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


def sync_transaction(twin: Twin, tenant_id: str, transfer: Resource) -> None:
    """Bring a deposit's or withdrawal's transaction in line with it (creating it the first time)."""
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
