"""Which integration a run checked, and under which configuration: readiness.json's ``integration_identity``.

``bluum-readiness report --combine`` merges only records with the same identity: the same integration (its
``MODULE:FACTORY`` or ``exec:`` command, and the SHA-256 of the adapter module's file when there is one) and the
same configuration fingerprint — the SHA-256 of the settings that shape what the checks ask of the integration
(thresholds, credential source and the declared key creation date, webhooks, rotation, scan), leaving out what
legitimately differs between runs of one integration (target, items, workers, out folder, seed, rate limit, the
[company] details). No secret is ever part of it: the configuration holds where secrets come from, never the
secrets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
from typing import Any

from bluum_readiness.config import RunConfig

__all__ = ["REFERENCE_PREFIX", "configuration_fingerprint", "identity", "is_reference"]

REFERENCE_PREFIX = "bluum_readiness.reference"
_PER_RUN = ("target", "only", "workers", "out", "seed", "rate_limit_per_s", "company", "source", "integration")


def is_reference(integration: str) -> bool:
    """The bundled reference integration: a demonstration, never the team's code."""
    module = integration.partition(":")[0]
    return module == REFERENCE_PREFIX or module.startswith(REFERENCE_PREFIX + ".")


def configuration_fingerprint(config: RunConfig) -> str:
    """``sha256:<hex>`` over the settings that shape the checks (see the module docstring)."""
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in _PER_RUN}
    text = json.dumps(settings, sort_keys=True, default=_plain)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _module_digest(integration: str) -> str | None:
    """``sha256:<hex>`` of the adapter module's source file, None for ``exec:`` or a module without a file."""
    if integration.startswith("exec:"):
        return None
    try:
        spec = importlib.util.find_spec(integration.partition(":")[0])
        origin = spec.origin if spec is not None else None
        if not origin or not origin.endswith(".py"):
            return None
        with open(origin, "rb") as handle:
            return "sha256:" + hashlib.sha256(handle.read()).hexdigest()
    except (ImportError, ValueError, OSError):
        return None


def identity(config: RunConfig) -> dict[str, Any]:
    """readiness.json's ``integration_identity``."""
    return {
        "integration": config.integration,
        "demonstration": is_reference(config.integration),
        "module_sha256": _module_digest(config.integration),
        "configuration": configuration_fingerprint(config),
    }
