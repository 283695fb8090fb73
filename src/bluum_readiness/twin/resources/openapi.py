"""``GET /v1/openapi.json``: the OpenAPI document of the implemented surface (no credentials needed)."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@functools.cache
def _document() -> dict[str, Any]:
    from bluum_readiness.twin.openapi_spec import build  # imports every resource module

    return build()


async def openapi_json(request: Request) -> Response:
    return JSONResponse(_document())


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
