"""The fault-injecting proxy: one fault engine, two placements (see docs/fault-plans.md).

- ``ProxyServer(upstream, plan)``: a reverse proxy on a loopback socket, with a control API under ``/__proxy/``;
- ``FaultTransport(inner, plan)``: the same rules in-process, as an httpx transport (no sockets, no sleeping).

Rules (``FaultRule``) select requests; faults (``StatusFault``, ``LatencyFault``, ``HangBeforeFault``,
``WithholdAfterFault``, ``DropAfterFault``, ``ResetFault``, or your own, see CREATING_FAULTS.md) decide what
happens to them; every request is recorded as an ``Exchange`` in a ``Recorder``.
"""

from bluum_readiness.proxy.engine import DuplicateRule, FaultEngine
from bluum_readiness.proxy.faults import (
    FAULTS,
    Abort,
    Close,
    DropAfterFault,
    Fault,
    Forward,
    HangBeforeFault,
    Hold,
    LatencyFault,
    Outcome,
    ProxyRequest,
    ResetFault,
    Respond,
    StatusFault,
    WithholdAfterFault,
    make_fault,
)
from bluum_readiness.proxy.plan import Plan, rule_from_dict
from bluum_readiness.proxy.recorder import Exchange, Recorder, sanitize_headers
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.proxy.server import ProxyServer
from bluum_readiness.proxy.transport import FaultTransport

__all__ = [
    "FAULTS",
    "Abort",
    "Close",
    "DropAfterFault",
    "DuplicateRule",
    "Exchange",
    "Fault",
    "FaultEngine",
    "FaultRule",
    "FaultTransport",
    "Forward",
    "HangBeforeFault",
    "Hold",
    "LatencyFault",
    "Outcome",
    "Plan",
    "ProxyRequest",
    "ProxyServer",
    "Recorder",
    "ResetFault",
    "Respond",
    "StatusFault",
    "WithholdAfterFault",
    "make_fault",
    "rule_from_dict",
    "sanitize_headers",
]
