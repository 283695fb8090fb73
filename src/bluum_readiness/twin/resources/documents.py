"""Documents (§5.3): multipart upload, list (cursor ``starting_after``), retrieve, download, delete.

An upload is ``uploaded`` and is accepted after ``document_delay_s`` (see ``domain.documents``).
Investor-scoped keys see and upload only their investor's documents. The bytes live in the
``document_blobs`` table, removed with the document.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import documents as review
from bluum_readiness.twin.engine import Principal
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource, public
from bluum_readiness.twin.validation import JsonRejected, ascii_int, in_timestamp_range, load_json, prefixed_id
from bluum_readiness.twin.values import iso

__all__ = ["PURPOSES", "STATUSES", "routes"]

PURPOSES = (
    "KYC",
    "KYB",
    "EDD",
    "TAX",
    "FUNDING_VERIFICATION",
    "AGREEMENT",
    "ACCOUNT_STATEMENT",
    "TRADE_CONFIRMATION",
    "OTHER",
)
STATUSES = ("uploaded", "processing", "accepted", "rejected", "expired")
FORM_OVERHEAD_BYTES = 1024 * 1024
"""Room for the non-file fields and multipart framing when pre-checking ``Content-Length``."""


def _too_large(limit: int) -> ApiError:
    return ApiError(
        "BLUM-400-008",
        f"The document is larger than the {limit} byte upload limit (10 MB on Bluum).",
        param="document",
    )


def _text_field(form: FormData, name: str, *, required: bool = False) -> str | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ApiError("BLUM-400-002", f"Missing required field '{name}'.", param=name)
        return None
    if not isinstance(value, str):
        raise ApiError("BLUM-400-003", f"'{name}' must be a text field, not a file.", param=name)
    return value.strip()


def _timestamp_field(form: FormData, name: str) -> str | None:
    raw = _text_field(form, name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            "BLUM-400-003", f"'{name}' must be an ISO 8601 timestamp, e.g. 2026-06-15T14:30:00Z.", param=name
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return iso(in_timestamp_range(parsed.timestamp(), name))


def _metadata_field(form: FormData) -> dict[str, Any]:
    raw = _text_field(form, "metadata")
    if raw is None:
        return {}
    try:
        data = load_json(raw)
    except JsonRejected:
        data = None
    if not isinstance(data, dict):
        raise ApiError(
            "BLUM-400-003", '\'metadata\' must be a JSON object string, e.g. {"ref":"abc"}.', param="metadata"
        )
    return data


def _owner_investor(request: Request, caller: Principal, investor_id: str | None) -> str | None:
    """The investor the upload belongs to (checked in the tenant and against an investor-scoped key)."""
    if caller.scope == "investor":
        if investor_id is not None and investor_id != caller.investor_id:
            raise ApiError("BLUM-403-001", "This investor-scoped key may only access its own investor.")
        investor_id = caller.investor_id
    if investor_id is None:
        return None
    investor_id = prefixed_id(investor_id, "inv", "investor_id")
    http.twin(request).store.require(caller.tenant_id, "investor", investor_id, param="investor_id")
    return investor_id


async def upload_document(request: Request) -> Response:
    caller = http.principal(request)
    twin = http.twin(request)
    limit = twin.settings.max_upload_bytes
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(
            "BLUM-400-001",
            "Send the upload as multipart/form-data with a 'document' file field and a 'document_type' field.",
        )
    declared = request.headers.get("content-length")
    size = ascii_int(declared) if declared is not None else None
    if size is not None and size > limit + FORM_OVERHEAD_BYTES:
        raise _too_large(limit)
    try:
        async with request.form() as form:
            upload = form.get("document")
            if upload is None:
                raise ApiError("BLUM-400-002", "Missing required field 'document' (the file).", param="document")
            if not isinstance(upload, UploadFile):
                raise ApiError("BLUM-400-003", "'document' must be a file part, not a text field.", param="document")
            content = await upload.read(limit + 1)
            file_name = upload.filename or "document"
            mime_type = upload.content_type
            document_type = _text_field(form, "document_type", required=True)
            purpose = _text_field(form, "purpose")
            investor_field = _text_field(form, "investor_id")
            expires_at = _timestamp_field(form, "expires_at")
            metadata = _metadata_field(form)
    except HTTPException as exc:  # a malformed multipart body
        raise ApiError("BLUM-400-001", f"Malformed multipart/form-data body: {exc.detail}") from None
    if len(content) > limit:
        raise _too_large(limit)
    if not content:
        raise ApiError("BLUM-400-001", "The uploaded document is empty.", param="document")
    if purpose is not None:
        purpose = purpose.upper()
        if purpose not in PURPOSES:
            raise ApiError(
                "BLUM-400-004", f"Invalid value for 'purpose': expected one of {', '.join(PURPOSES)}.", param="purpose"
            )
    if not mime_type or mime_type == "application/octet-stream":
        mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
    with twin.db.tx():
        investor_id = _owner_investor(request, caller, investor_field)
        document = twin.new_resource("doc", "document")
        document["metadata"] = metadata
        document.update(
            document_id=document["id"],
            owner_type="investor" if investor_id else "tenant",
            investor_id=investor_id,
            purpose=purpose.lower() if purpose else None,
            document_type=document_type,
            file_name=file_name,
            mime_type=mime_type,
            file_size=len(content),
            status="uploaded",
            expires_at=expires_at,
            uploaded_at=iso(twin.clock.now()),
        )
        twin.store.insert(caller.tenant_id, document)
        twin.db.execute("INSERT INTO document_blobs (id, content) VALUES (?, ?)", (document["id"], content))
        review.start_review(twin, caller.tenant_id, document)
        return http.commit(request, document, 201)


def _query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw)
    if value is None or not lo <= value <= hi:
        raise ApiError(
            "BLUM-400-003", f"'{name}' must be an integer between {lo} and {hi}; got {raw[:40]!r}.", param=name
        )
    return value


def _query_choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw.lower() not in (a.lower() for a in allowed):
        raise ApiError("BLUM-400-004", f"Invalid value for '{name}': expected one of {', '.join(allowed)}.", param=name)
    return raw.lower()


async def list_documents(request: Request) -> Response:
    """``{data, has_more}`` (no ``object``/``url``, as Bluum documents), oldest first, cursor ``starting_after``."""
    caller = http.principal(request)
    twin = http.twin(request)
    limit = _query_int(request, "limit", http.DEFAULT_LIMIT, 1, http.MAX_LIMIT)
    investor_id = request.query_params.get("investor_id")
    if investor_id is not None:
        investor_id = prefixed_id(investor_id, "inv", "investor_id")
    if caller.scope == "investor":
        if investor_id is not None and investor_id != caller.investor_id:
            raise ApiError("BLUM-403-001", "This investor-scoped key may only access its own investor.")
        investor_id = caller.investor_id
    purpose = _query_choice(request, "purpose", PURPOSES)
    status = _query_choice(request, "status", STATUSES)
    document_type = request.query_params.get("document_type")

    def wanted(d: Resource) -> bool:
        return (
            (purpose is None or d.get("purpose") == purpose)
            and (status is None or d["status"] == status)
            and (document_type is None or d["document_type"] == document_type)
        )

    items = twin.store.list(caller.tenant_id, "document", investor_id=investor_id, where=wanted)
    cursor = request.query_params.get("starting_after")
    if cursor is not None:
        cursor = prefixed_id(cursor, "doc", "starting_after")
        position = next((i for i, d in enumerate(items) if d["id"] == cursor), None)
        if position is None:
            raise ApiError("BLUM-404-001", f"No such document: {cursor!r}.", param="starting_after")
        items = items[position + 1 :]
    return JSONResponse({"data": [public(d) for d in items[:limit]], "has_more": len(items) > limit})


def _document_of(request: Request) -> Resource:
    caller = http.principal(request)
    document_id = http.path_id(request, "document_id", "doc")
    document = http.twin(request).store.require(caller.tenant_id, "document", document_id, param="document_id")
    if caller.scope == "investor" and document.get("investor_id") != caller.investor_id:
        raise ApiError("BLUM-403-001", "This investor-scoped key may only access its own investor's documents.")
    return document


async def get_document(request: Request) -> Response:
    return http.json(_document_of(request))


async def download_document(request: Request) -> Response:
    document = _document_of(request)
    row = http.twin(request).db.one("SELECT content FROM document_blobs WHERE id = ?", (document["id"],))
    if row is None:  # pragma: no cover - blobs are written with their document
        raise ApiError("BLUM-404-001", f"The content of document {document['id']} is not available.")
    safe_name = "".join(c for c in document["file_name"] if c.isprintable() and c not in '"\\')
    return Response(
        bytes(row[0]),
        media_type=document["mime_type"],
        headers={"content-disposition": f'attachment; filename="{safe_name}"'},
    )


async def delete_document(request: Request) -> Response:
    caller = http.principal(request)
    twin = http.twin(request)
    with twin.db.tx():
        document = _document_of(request)
        twin.store.delete(caller.tenant_id, document["id"])
        twin.db.execute("DELETE FROM document_blobs WHERE id = ?", (document["id"],))
        twin.scheduler.cancel(document["id"], review.REVIEW_JOB)
    return http.json({"id": document["id"], "object": "document", "deleted": True})


routes = [
    Route("/documents", upload_document, methods=["POST"]),
    Route("/documents", list_documents, methods=["GET"]),
    Route("/documents/{document_id}", get_document, methods=["GET"]),
    Route("/documents/{document_id}/download", download_document, methods=["GET"]),
    Route("/documents/{document_id}", delete_document, methods=["DELETE"]),
]
