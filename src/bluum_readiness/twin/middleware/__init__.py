"""Cross-cutting behaviour of the twin as plain ASGI middleware, outermost first:
request ids (and the last-resort 500), authentication, rate limiting, idempotency."""

from bluum_readiness.twin.middleware.auth import AuthMiddleware
from bluum_readiness.twin.middleware.idempotency import IdempotencyMiddleware
from bluum_readiness.twin.middleware.ratelimit import RateLimitMiddleware
from bluum_readiness.twin.middleware.request_id import RequestCounts, RequestIdMiddleware

__all__ = ["AuthMiddleware", "IdempotencyMiddleware", "RateLimitMiddleware", "RequestCounts", "RequestIdMiddleware"]
