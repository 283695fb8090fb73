"""The readiness checks, registered by item. Importing this package registers all of them."""

from bluum_readiness.checks import (
    credentials,
    cutover,
    error_handling,
    idempotency,
    lifecycle,
    observability,
    rotation,
    webhooks,
)
from bluum_readiness.checks.registry import Check, Registry, check, registry

__all__ = [
    "Check",
    "Registry",
    "check",
    "credentials",
    "cutover",
    "error_handling",
    "idempotency",
    "lifecycle",
    "observability",
    "registry",
    "rotation",
    "webhooks",
]
