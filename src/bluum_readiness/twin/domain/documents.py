"""Document review in the twin (◆): an upload is ``uploaded``, then ``accepted`` after ``document_delay_s``.

Acceptance emits ``document.approved`` and, for an investor's document, tells KYC
(an investor ``awaiting_documents`` becomes ``active``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluum_readiness.twin.domain import kyc
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin
    from bluum_readiness.twin.scheduler import Job

__all__ = ["REVIEW_JOB", "register_jobs", "start_review"]

REVIEW_JOB = "document.review"


def register_jobs(twin: Twin) -> None:
    twin.scheduler.register(REVIEW_JOB, _review)


def start_review(twin: Twin, tenant_id: str, document: Resource) -> None:
    """Queue the automatic acceptance of a new upload. Call inside the uploading transaction."""
    twin.scheduler.schedule(tenant_id, REVIEW_JOB, document["id"], twin.settings.document_delay_s)


def _review(twin: Twin, job: Job) -> None:
    document = twin.store.get(job.tenant_id, "document", job.ref)
    if document is None or document["status"] not in ("uploaded", "processing"):
        return
    document["status"] = "accepted"
    document["reviewed_at"] = iso(twin.clock.now())
    twin.store.save(job.tenant_id, document)
    emit(twin, job.tenant_id, "document.approved", document)
    if document.get("investor_id"):
        kyc.document_accepted(twin, job.tenant_id, document["investor_id"])
