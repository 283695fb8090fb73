"""The reference integration: the project's own exemplary Bluum API client, wrapped as an adapter.

``bluum_readiness.reference:create`` (production backoff) and ``bluum_readiness.reference:create_fast`` (short
backoff windows, for the twin) are adapter factories for ``--integration``. ``BluumClient`` is the client on its
own. How each readiness behaviour is done, and where: docs/reference-integration.md.

    adapter.py       ReferenceIntegration, create, create_fast: the contract on top of the client
    _client.py       BluumClient: one method per API call; idempotency keys; the retry loop around each call
    _retry.py        RetryPolicy: what is retried, full-jitter backoff, Retry-After (the loop is tenacity's)
    _auth.py         RotatingBasicAuth: credentials read per request, one refresh on 401
    _log.py          RequestLog, LoggingTransport: one structured entry per HTTP exchange
    _alerts.py       AlertMonitor, AlertPolicy: elevated 5xx, 429s, stuck orders, missing webhooks -> alerts()
    _exceptions.py   the BluumError tree
    _translate.py    the boundary: error responses and transport exceptions -> the tree
"""

from __future__ import annotations

from bluum_readiness.reference._alerts import FAST_ALERTS, AlertMonitor, AlertPolicy
from bluum_readiness.reference._client import BluumClient, new_idempotency_key
from bluum_readiness.reference._exceptions import (
    AccountNotApproved,
    APIError,
    AssetNotFound,
    AssetNotTradable,
    AuthenticationError,
    BluumError,
    Conflict,
    ConnectionDropped,
    DuplicateResource,
    IdempotencyConflict,
    InsufficientFunds,
    InsufficientPosition,
    InvalidRequest,
    MarketClosed,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerError,
    StateConflict,
    TransportError,
    Unprocessable,
    WithdrawalLimitExceeded,
)
from bluum_readiness.reference._log import RequestLog
from bluum_readiness.reference._retry import RETRYABLE_STATUSES, RetryPolicy
from bluum_readiness.reference._translate import CODE_CLASSES, error_from_response
from bluum_readiness.reference.adapter import FAST_POLICY, ReferenceIntegration, create, create_fast

__all__ = [
    "APIError",
    "AccountNotApproved",
    "AlertMonitor",
    "AlertPolicy",
    "AssetNotFound",
    "AssetNotTradable",
    "AuthenticationError",
    "BluumClient",
    "BluumError",
    "CODE_CLASSES",
    "Conflict",
    "ConnectionDropped",
    "DuplicateResource",
    "FAST_ALERTS",
    "FAST_POLICY",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InsufficientPosition",
    "InvalidRequest",
    "MarketClosed",
    "NotFound",
    "PermissionDenied",
    "RETRYABLE_STATUSES",
    "RateLimited",
    "ReferenceIntegration",
    "RequestLog",
    "RequestTimeout",
    "RetryPolicy",
    "ServerError",
    "StateConflict",
    "TransportError",
    "Unprocessable",
    "WithdrawalLimitExceeded",
    "create",
    "create_fast",
    "error_from_response",
    "new_idempotency_key",
]
