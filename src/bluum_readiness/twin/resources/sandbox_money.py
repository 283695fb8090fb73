"""Sandbox controls for money (◆, twin only), under ``/_sandbox`` with tenant credentials.

Bluum completes manual/wire deposits from its dashboard; the twin exposes the same as endpoints:
complete or fail a pending/processing deposit or withdrawal. Each returns the updated resource.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import transfers
from bluum_readiness.twin.validation import Body, prefixed_id

DEFAULT_FAILURE_REASON = "failed_by_sandbox_control"


class FailTransfer(Body):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


def _action(obj: str, param: str, prefix: str, fail: bool) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        caller = http.principal(request)
        reason = DEFAULT_FAILURE_REASON
        if fail:
            reason = (await http.body(request, FailTransfer)).reason or DEFAULT_FAILURE_REASON
        transfer_id = prefixed_id(request.path_params[param], prefix, param)
        twin = http.twin(request)
        with twin.db.tx():
            transfer = twin.store.require(caller.tenant_id, obj, transfer_id, param=param)
            if fail:
                transfers.fail(twin, caller.tenant_id, transfer, reason)
            else:
                transfers.complete(twin, caller.tenant_id, transfer)
            return http.commit(request, transfer, 200)

    return handler


routes = [
    Route("/deposits/{deposit_id}/complete", _action("deposit", "deposit_id", "dep", False), methods=["POST"]),
    Route("/deposits/{deposit_id}/fail", _action("deposit", "deposit_id", "dep", True), methods=["POST"]),
    Route(
        "/withdrawals/{withdrawal_id}/complete", _action("withdrawal", "withdrawal_id", "wd", False), methods=["POST"]
    ),
    Route("/withdrawals/{withdrawal_id}/fail", _action("withdrawal", "withdrawal_id", "wd", True), methods=["POST"]),
]
