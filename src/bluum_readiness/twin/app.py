"""The twin's ASGI app: ``create_app(settings)`` wires middleware, routes, errors and the background loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from types import ModuleType

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bluum_readiness.clock import Clock
from bluum_readiness.twin import dispatcher
from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.middleware import (
    AuthMiddleware,
    IdempotencyMiddleware,
    RateLimitMiddleware,
    RequestCounts,
    RequestIdMiddleware,
)
from bluum_readiness.twin.resources import (
    api_keys,
    assets,
    deposits,
    documents,
    funding,
    investors,
    openapi,
    orders,
    positions,
    sandbox,
    sandbox_money,
    sandbox_trading,
    sandbox_webhooks,
    unoffered,
    wallets,
    webhooks,
    withdrawals,
)
from bluum_readiness.twin.settings import TwinSettings

__all__ = ["API_MODULES", "SANDBOX_MODULES", "api_routes", "create_app", "sandbox_routes", "unoffered_routes"]

log = logging.getLogger("bluum_readiness.twin")

API_MODULES: tuple[ModuleType, ...] = (
    investors,
    documents,
    funding,
    wallets,
    deposits,
    withdrawals,
    orders,
    positions,
    assets,
    api_keys,
    webhooks,
    openapi,
)
SANDBOX_MODULES: tuple[ModuleType, ...] = (sandbox, sandbox_money, sandbox_trading, sandbox_webhooks)


def api_routes() -> list[BaseRoute]:
    """The implemented API (each documented in the OpenAPI document)."""
    return [route for module in API_MODULES for route in module.routes]


def unoffered_routes() -> list[BaseRoute]:
    """Bluum routes the twin does not offer: add-on products (403) and documented routes it does not implement
    (404 BLUM-404-002); matched before the implemented ones so ``/assets/batch`` never reaches ``/assets/{symbol}``."""
    return unoffered.routes({route.path for route in api_routes() if isinstance(route, Route)})


def sandbox_routes() -> list[BaseRoute]:
    return [route for module in SANDBOX_MODULES for route in module.routes]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        error = ApiError(
            "BLUM-404-002",
            f"No endpoint {request.method} {request.url.path}; see /v1/openapi.json for the implemented surface.",
        )
    else:
        error = ApiError("BLUM-400-001", str(exc.detail))
    return JSONResponse(error.body(), status_code=error.status)


async def _every_tick(twin: Twin, stop: asyncio.Event, work: Callable[[], Awaitable[object]], what: str) -> None:
    """Run ``work`` every tick until stopped; a failure is logged and the loop goes on."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception("background %s failed", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=twin.settings.tick_interval_s)


async def _run_jobs(twin: Twin) -> int:
    return twin.scheduler.run_due()


MAX_DISPATCHES = 4
"""Delivery batches in flight at once: each tick starts one without waiting for the previous ones, so a delivery
that became due is sent at the next tick even while a slow receiver holds an earlier one (the dispatcher's
in-flight set keeps any delivery from being sent twice at once)."""


class _Dispatches:
    """The webhook delivery loop's work: start a ``dispatch_due`` batch per tick, at most ``MAX_DISPATCHES`` at a
    time; ``drain()`` waits for those still running when the twin stops."""

    def __init__(self, twin: Twin) -> None:
        self._twin = twin
        self._running: set[asyncio.Task[int]] = set()

    async def tick(self) -> None:
        if len(self._running) >= MAX_DISPATCHES:
            return
        task = asyncio.create_task(dispatcher.dispatch_due(self._twin))
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[int]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background webhook delivery failed", exc_info=task.exception())

    async def drain(self) -> None:
        await asyncio.gather(*self._running, return_exceptions=True)


def _background(twin: Twin, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Two loops, so a slow webhook receiver never holds up KYC, transfers or fills."""
    dispatches = _Dispatches(twin)

    async def deliveries() -> None:
        await _every_tick(twin, stop, dispatches.tick, "webhook delivery")
        await dispatches.drain()

    return [
        asyncio.create_task(_every_tick(twin, stop, lambda: _run_jobs(twin), "jobs")),
        asyncio.create_task(deliveries()),
    ]


def create_app(
    settings: TwinSettings | None = None,
    *,
    clock: Clock | None = None,
    twin: Twin | None = None,
    background: bool = True,
) -> Starlette:
    """A twin app. Pass ``twin`` to share an engine with the caller; ``background=False`` leaves advancing
    time to the caller (``twin.scheduler.run_due()``, ``dispatcher.dispatch_due``) for deterministic tests."""
    engine = twin or Twin(settings, clock=clock)
    counts = RequestCounts()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = _background(engine, stop) if background else []
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    app = Starlette(
        routes=[
            Mount("/v1", routes=[*unoffered_routes(), *api_routes()]),
            Mount("/_sandbox", routes=sandbox_routes()),
        ],
        middleware=[
            Middleware(RequestIdMiddleware, ids=engine.ids, counts=counts),
            Middleware(AuthMiddleware, twin=engine),
            Middleware(RateLimitMiddleware, twin=engine),
            Middleware(IdempotencyMiddleware, twin=engine),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.twin = engine
    app.state.request_counts = counts  # responses by area and status (benchmarks/full_run.py reads them)
    return app
