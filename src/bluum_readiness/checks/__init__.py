"""The readiness checks, registered by item. Importing this package registers all of them."""

from bluum_readiness.checks import error_handling, idempotency
from bluum_readiness.checks.registry import Check, Registry, check, registry

__all__ = ["Check", "Registry", "check", "error_handling", "idempotency", "registry"]
