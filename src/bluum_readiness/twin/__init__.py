"""The embedded sandbox twin: a faithful local emulator of the Bluum sandbox (see docs/sandbox-twin.md).

The names below are imported on first use (PEP 562): importing a light part of the twin — its error catalogue
(``twin.errors``, which the fault proxy and the checks read), its settings — does not import the FastAPI app, its
validation models and uvicorn (~0.3 s of CPU a process: the proxy, ``bluum-readiness --help``/``init``/``report``
pay nothing for a twin they do not start)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluum_readiness.twin.app import create_app
    from bluum_readiness.twin.engine import KeyPair, Principal, Twin
    from bluum_readiness.twin.server import TwinServer
    from bluum_readiness.twin.settings import TwinSettings

__all__ = ["KeyPair", "Principal", "Twin", "TwinServer", "TwinSettings", "create_app"]

_WHERE = {
    "create_app": "bluum_readiness.twin.app",
    "KeyPair": "bluum_readiness.twin.engine",
    "Principal": "bluum_readiness.twin.engine",
    "Twin": "bluum_readiness.twin.engine",
    "TwinServer": "bluum_readiness.twin.server",
    "TwinSettings": "bluum_readiness.twin.settings",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
