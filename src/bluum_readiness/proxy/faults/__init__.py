"""Fault kinds, one per module, and ``FAULTS``: the registry of kinds by name (the ``fault`` key of a plan).

Register your own with ``FAULTS.register("name", MyFault)`` (see CREATING_FAULTS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bluum_readiness.proxy.faults._params import build_fault, validate_fault_class
from bluum_readiness.proxy.faults.base import (
    Abort,
    Close,
    Fault,
    Forward,
    Hold,
    Outcome,
    ProxyRequest,
    Respond,
    Sleep,
)
from bluum_readiness.proxy.faults.drop_after import DropAfterFault
from bluum_readiness.proxy.faults.hang_before import HangBeforeFault
from bluum_readiness.proxy.faults.latency import LatencyFault
from bluum_readiness.proxy.faults.reset import ResetFault
from bluum_readiness.proxy.faults.status import StatusFault
from bluum_readiness.proxy.faults.withhold_after import WithholdAfterFault
from bluum_readiness.proxy.registry import Registry

__all__ = [
    "FAULTS",
    "Abort",
    "Close",
    "DropAfterFault",
    "Fault",
    "Forward",
    "HangBeforeFault",
    "Hold",
    "LatencyFault",
    "Outcome",
    "ProxyRequest",
    "ResetFault",
    "Respond",
    "Sleep",
    "StatusFault",
    "WithholdAfterFault",
    "kind_of",
    "make_fault",
]

FAULTS: Registry[type] = Registry("fault kind", validate_fault_class)
FAULTS.register("status", StatusFault)
FAULTS.register("latency", LatencyFault)
FAULTS.register("hang_before", HangBeforeFault)
FAULTS.register("withhold_after", WithholdAfterFault)
FAULTS.register("drop_after", DropAfterFault)
FAULTS.register("reset", ResetFault)


def make_fault(kind: str, params: Mapping[str, Any] | None = None) -> Fault:
    """A fault of the registered ``kind`` built from ``params`` (``ConfigError`` naming the bad key)."""
    return build_fault(kind, FAULTS.get(kind), params or {})


def kind_of(fault: Fault) -> str:
    """The registered name of ``fault``'s class, or its class name when it is not registered."""
    cls = type(fault)
    return next((name for name in FAULTS if FAULTS.get(name) is cls), cls.__name__)
