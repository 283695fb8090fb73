"""Investor KYC in the twin (◆): create → ``onboarding`` → automatic decision after ``kyc_delay_s``.

Test values (settings): tax_id ``kyc_declined_tax_id`` → ``declined``; last_name ``kyc_documents_last_name``
→ ``awaiting_documents`` until a document is accepted, then ``active``. Everyone else → ``active``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin
    from bluum_readiness.twin.scheduler import Job

__all__ = [
    "FORCEABLE_STATUSES",
    "document_accepted",
    "email_key",
    "register_jobs",
    "require_active",
    "set_status",
    "start",
]

STATUSES = (
    "onboarding",
    "under_review",
    "awaiting_documents",
    "active",
    "suspended",
    "closed",
    "declined",
    "setup_failed",
)
FORCEABLE_STATUSES = tuple(s for s in STATUSES if s != "closed")


def email_key(email: str) -> str:
    """What makes two investors' e-mails the same (case-insensitive): stored as the investor's ``_email_key``."""
    return email.lower()


def register_jobs(twin: Twin) -> None:
    twin.scheduler.register("kyc.decide", _decide)


def start(twin: Twin, tenant_id: str, investor: Resource) -> None:
    """Queue the automatic KYC decision for a new investor. Call inside the creating transaction."""
    twin.scheduler.schedule(tenant_id, "kyc.decide", investor["id"], twin.settings.kyc_delay_s)


def _decide(twin: Twin, job: Job) -> None:
    investor = twin.store.get(job.tenant_id, "investor", job.ref)
    if investor is None or investor["status"] != "onboarding":
        return
    if investor.get("_tax_id") == twin.settings.kyc_declined_tax_id:
        set_status(twin, job.tenant_id, investor, "declined")
    elif investor.get("last_name") == twin.settings.kyc_documents_last_name and not investor.get("_documents"):
        set_status(twin, job.tenant_id, investor, "awaiting_documents")
    else:
        set_status(twin, job.tenant_id, investor, "active")


def set_status(twin: Twin, tenant_id: str, investor: Resource, status: str) -> Resource:
    """Move an investor to ``status``, emitting account.updated (and kyc.verification.approved on activation)."""
    if investor["status"] == status:
        return investor
    investor["status"] = status
    if status == "active" and investor.get("account_number") is None:
        investor["account_number"] = f"BLM{twin.ids.token_hex(4).upper()}"
    twin.store.save(tenant_id, investor)
    twin.scheduler.cancel(investor["id"], "kyc.decide")
    emit(twin, tenant_id, "account.updated", investor)
    if status == "active":
        emit(twin, tenant_id, "kyc.verification.approved", investor)
    return investor


def document_accepted(twin: Twin, tenant_id: str, investor_id: str) -> None:
    """A document of this investor was accepted: an investor awaiting documents becomes active."""
    investor = twin.store.get(tenant_id, "investor", investor_id)
    if investor is None:
        return
    investor["_documents"] = int(investor.get("_documents") or 0) + 1
    twin.store.save(tenant_id, investor)
    if investor["status"] == "awaiting_documents":
        set_status(twin, tenant_id, investor, "active")


def require_active(investor: Resource) -> None:
    """Money movement and trading need an active investor: 403 BLUM-403-002 (or -004 when closed/suspended)."""
    status = investor["status"]
    if status == "active":
        return
    if status in ("closed", "suspended"):
        raise ApiError("BLUM-403-004", f"Investor {investor['id']} is {status}; this operation is not allowed.")
    raise ApiError(
        "BLUM-403-002",
        f"Investor {investor['id']} is not approved yet (status {status}); wait for KYC to complete.",
    )
