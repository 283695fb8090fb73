"""The adapter protocol, version 1: integrations in any language, driven over stdio (docs/adapter-protocol.md).

``--integration "exec:COMMAND"`` makes the suite start COMMAND once per integration it builds and speak
newline-delimited JSON-RPC 2.0 with it: requests on its stdin, responses on its stdout, its stderr kept as the
integration's log. ``ProgramFactory`` is that factory; everything else here serves it:

- ``wire``: encoding requests, decoding (and rejecting) responses;
- ``program``: the child process — its process group, the request channel, its stderr;
- ``files``: the 0600 credentials and webhook-secret files that follow the suite's sources;
- ``adapter``: the contract's operations as requests, the handshake, ``OperationFailed``.
"""

from bluum_readiness.protocol.adapter import (
    EXEC_PREFIX,
    OperationFailed,
    ProgramFactory,
    ProgramIntegration,
    parse_command,
)
from bluum_readiness.protocol.program import OutputLog, ProgramBroken, ProgramShutDown, ProgramTimeout, terminate_all
from bluum_readiness.protocol.wire import PROTOCOL_VERSION

__all__ = [
    "EXEC_PREFIX",
    "PROTOCOL_VERSION",
    "OperationFailed",
    "OutputLog",
    "ProgramBroken",
    "ProgramShutDown",
    "ProgramFactory",
    "ProgramIntegration",
    "ProgramTimeout",
    "parse_command",
    "terminate_all",
]
