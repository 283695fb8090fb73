"""The readiness checks, registered by item. Importing this package registers all of them."""

from bluum_readiness.checks import cutover, error_handling, idempotency, lifecycle, webhooks
from bluum_readiness.checks.registry import Check, Registry, check, registry

__all__ = [
    "Check",
    "Registry",
    "check",
    "cutover",
    "error_handling",
    "idempotency",
    "lifecycle",
    "registry",
    "webhooks",
]
