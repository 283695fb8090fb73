"""HTTP helpers shared by the resource modules: the twin, the caller, bodies, ids, lists, responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bluum_readiness.twin.engine import Principal, Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource, public
from bluum_readiness.twin.validation import ascii_int, parse_json_body, prefixed_id

__all__ = [
    "body",
    "commit",
    "investor_of",
    "json",
    "list_envelope",
    "path_id",
    "principal",
    "query_bool",
    "require_tenant_scope",
    "twin",
]

M = TypeVar("M", bound=BaseModel)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def twin(request: Request) -> Twin:
    t: Twin = request.app.state.twin
    return t


def principal(request: Request) -> Principal:
    p: Principal = request.scope["bluum.principal"]
    return p


def require_tenant_scope(request: Request) -> Principal:
    """The caller, who must hold tenant-wide credentials (not an investor-scoped key)."""
    p = principal(request)
    if p.scope != "tenant":
        raise ApiError("BLUM-403-001", "This endpoint needs tenant-wide credentials; investor-scoped keys are refused.")
    return p


async def body(request: Request, model: type[M]) -> M:
    return parse_json_body(await request.body(), model)


def path_id(request: Request, name: str, prefix: str) -> str:
    return prefixed_id(request.path_params[name], prefix, name)


def investor_of(request: Request) -> Resource:
    """The investor named by the ``investor_id`` path parameter, within the caller's tenant and key scope."""
    caller = principal(request)
    investor_id = path_id(request, "investor_id", "inv")
    if caller.scope == "investor" and caller.investor_id != investor_id:
        raise ApiError("BLUM-403-001", "This investor-scoped key may only access its own investor.")
    return twin(request).store.require(caller.tenant_id, "investor", investor_id, param="investor_id")


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(data, dict) and "object" in data:
        data = public(data)
    return JSONResponse(data, status_code=status, headers=headers)


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw)
    if value is None:
        raise ApiError("BLUM-400-003", f"'{name}' must be an integer between {lo} and {hi}.", param=name)
    if not lo <= value <= hi:
        raise ApiError("BLUM-400-003", f"'{name}' must be between {lo} and {hi}; got {value}.", param=name)
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError("BLUM-400-003", f"'{name}' must be true or false; got {raw!r}.", param=name)


def query_enum(request: Request, name: str, allowed: Sequence[str]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in allowed:
        raise ApiError("BLUM-400-004", f"Invalid value for '{name}': expected one of {', '.join(allowed)}.", param=name)
    return raw


def list_envelope(request: Request, items: Sequence[Resource]) -> Response:
    """A paged list: ``{"object":"list","url","has_more","data"}`` with ``limit`` (1–200, default 50) and ``offset``."""
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, 10**9)
    page = items[offset : offset + limit]
    return JSONResponse(
        {
            "object": "list",
            "url": request.url.path,
            "has_more": offset + limit < len(items),
            "data": [public(r) for r in page],
        }
    )


def commit(request: Request, data: Any, status: int = 201) -> Response:
    """The JSON response of a state-changing request. Call it *inside* the handler's transaction:
    for a request with an Idempotency-Key it records the response in that same transaction, so the
    effect and its idempotent replay commit together."""
    response = json(data, status)
    context = request.scope.get("bluum.idempotency")
    if context is not None:
        context.record(status, "application/json", bytes(response.body))
    return response
