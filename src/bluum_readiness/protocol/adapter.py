"""``exec:COMMAND``: the adapter contract carried to a program in any language (docs/adapter-protocol.md).

``ProgramFactory`` is an adapter factory like any ``module:factory``: the suite calls it with an
``IntegrationEnv`` each time it builds an integration, and gets a ``ProgramIntegration`` — a fresh process of
COMMAND, past its ``initialize`` handshake, whose operations are JSON-RPC requests. So every check runs on it
unchanged. What the program reports as failed raises ``OperationFailed`` (with the API's status and code when it
says); a program that cannot be driven raises ``ProgramBroken`` (a harness problem: *broken*).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from typing import Any

from bluum_readiness import __version__
from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import Credentials, IntegrationEnv
from bluum_readiness.protocol.files import ProgramFiles
from bluum_readiness.protocol.program import OutputLog, Program, ProgramBroken
from bluum_readiness.protocol.wire import PROTOCOL_VERSION, RpcError

__all__ = [
    "CAPABILITY_TIMEOUT_S",
    "EXEC_PREFIX",
    "OPERATION_TIMEOUT_S",
    "START_TIMEOUT_S",
    "OperationFailed",
    "ProgramFactory",
    "ProgramIntegration",
    "parse_command",
]

EXEC_PREFIX = "exec:"
#: How long a program may take to start and answer ``initialize`` (a JVM or a TypeScript loader needs seconds).
START_TIMEOUT_S = 30.0
#: The backstop on one operation; checks bound their calls well inside it, so this only ends calls nobody awaits.
OPERATION_TIMEOUT_S = 120.0
#: The bound on ``request_log``, ``alerts``, ``processed_events`` and ``resource_status``.
CAPABILITY_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 2.0
CAPABILITIES = ("request_log", "alerts", "processed_events")


class OperationFailed(Exception):
    """An operation the program answered with a JSON-RPC error — the operation raised.

    The attributes are the ones the suite reads from any adapter's exception (``describe_failure``): ``status``
    and ``code`` (the API's HTTP status and ``BLUM-…`` code) when the API answered, ``transport`` (``ECONNRESET``,
    ``ETIMEDOUT``, …) when it did not, ``param`` and ``request_id`` (the answer's X-Request-Id).
    """

    def __init__(self, operation: str, error: RpcError) -> None:
        data = error.data
        self.operation = operation
        self.rpc_code = error.code
        self.status: int | None = _int_or_none(data.get("status"))
        self.code: str | None = _str_or_none(data.get("code"))
        self.param: str | None = _str_or_none(data.get("param"))
        self.request_id: str | None = _str_or_none(data.get("request_id"))
        self.transport: str | None = _str_or_none(data.get("transport"))
        super().__init__(error.message)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class ProgramIntegration:
    """The adapter contract over one running program. Capabilities exist only when the handshake advertised
    them, so checks that need a missing one are *not verifiable*, as for a Python adapter without it."""

    request_log: Callable[[], list[dict[str, Any]]]
    alerts: Callable[[], list[dict[str, Any]]]
    processed_events: Callable[[], list[str]]
    resource_status: Callable[[str], str | None]
    webhook_url: str

    def __init__(self, program: Program, files: ProgramFiles, hello: Mapping[str, Any]) -> None:
        self._program = program
        self._files = files
        self.name = str(hello.get("name") or program.label)
        capabilities: Mapping[str, Any] = hello.get("capabilities") or {}
        for capability in CAPABILITIES:
            if capabilities.get(capability) is True:
                setattr(self, capability, functools.partial(self._request, capability, {}, CAPABILITY_TIMEOUT_S))
        if capabilities.get("resource_status") is True:
            self.resource_status = self._resource_status
        if capabilities.get("webhook_url"):
            self.webhook_url = str(capabilities["webhook_url"])

    def _resource_status(self, resource_id: str) -> str | None:
        """The status the program's receiver holds for a resource (``null``: none), after the events it applied."""
        status = self._request("resource_status", {"resource_id": resource_id}, CAPABILITY_TIMEOUT_S)
        return None if status is None else str(status)

    @property
    def stderr(self) -> OutputLog:
        """The program's stderr: its log."""
        return self._program.stderr

    @property
    def pid(self) -> int:
        return self._program.pid

    # -- the operations -------------------------------------------------------------------------------------

    def create_investor(self, profile: dict[str, Any]) -> Any:
        return self._operation("create_investor", {"profile": profile})

    def upload_document(self, investor_id: str, document: dict[str, Any]) -> Any:
        wire = {key: value for key, value in document.items() if key != "content"}
        wire["content_base64"] = base64.b64encode(bytes(document.get("content", b""))).decode("ascii")
        return self._operation("upload_document", {"investor_id": investor_id, "document": wire})

    def kyc_status(self, investor_id: str) -> Any:
        return self._operation("kyc_status", {"investor_id": investor_id})

    def link_bank_account(self, investor_id: str, bank: dict[str, Any]) -> Any:
        return self._operation("link_bank_account", {"investor_id": investor_id, "bank": bank})

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> Any:
        return self._operation(
            "deposit",
            {"investor_id": investor_id, "funding_source_id": funding_source_id, "amount": amount, "method": method},
        )

    def place_order(self, investor_id: str, order: dict[str, Any]) -> Any:
        return self._operation("place_order", {"investor_id": investor_id, "order": order})

    def get_order(self, investor_id: str, order_id: str) -> Any:
        return self._operation("get_order", {"investor_id": investor_id, "order_id": order_id})

    def cancel_order(self, investor_id: str, order_id: str) -> None:
        self._operation("cancel_order", {"investor_id": investor_id, "order_id": order_id})

    def positions(self, investor_id: str) -> Any:
        return self._operation("positions", {"investor_id": investor_id})

    def withdraw(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> Any:
        return self._operation(
            "withdraw",
            {"investor_id": investor_id, "funding_source_id": funding_source_id, "amount": amount, "method": method},
        )

    # -- plumbing -------------------------------------------------------------------------------------------

    def _operation(self, operation: str, params: dict[str, Any]) -> Any:
        self._files.sync()  # the credentials file is current before the program acts
        return self._request(operation, params, OPERATION_TIMEOUT_S)

    def _request(self, method: str, params: dict[str, Any], timeout_s: float) -> Any:
        response = self._program.request(method, params, timeout_s)
        if response.error is not None:
            raise OperationFailed(method, response.error)
        return response.result

    def close(self) -> None:
        """``shutdown``, close stdin, and end the process group if it has not exited within 2 s."""
        with contextlib.suppress(Exception):
            if self._program.returncode is None:
                self._program.request("shutdown", {}, SHUTDOWN_TIMEOUT_S)
        self._program.terminate(SHUTDOWN_TIMEOUT_S)
        self._files.close()

    def __repr__(self) -> str:
        return f"ProgramIntegration({self.name!r}, pid={self._program.pid})"


class ProgramFactory:
    """The factory behind ``exec:COMMAND``: each call starts COMMAND and shakes hands with it."""

    bounds_itself = True  # the handshake waits at most START_TIMEOUT_S (make_integration adds no bound of its own)

    def __init__(self, command: str) -> None:
        self.command = command
        self.argv = parse_command(command)
        #: the capabilities the last program started advertised in its handshake (None before the first start):
        #: what a check that needs one it lacks can know without starting another
        self.advertised: frozenset[str] | None = None

    @property
    def spec(self) -> str:
        return f"{EXEC_PREFIX}{self.command}"

    def __call__(self, env: IntegrationEnv) -> ProgramIntegration:
        files = ProgramFiles(env.credentials, env.webhook_secret)
        try:
            program = Program(self.argv, env=self._environment(env, files), label=self.command)
        except BaseException:
            files.close()
            raise
        try:
            hello = self._handshake(program)
        except BaseException:
            program.terminate(0.0)
            files.close()
            raise
        self.advertised = frozenset(name for name, value in hello.get("capabilities", {}).items() if value)
        return ProgramIntegration(program, files, hello)

    def probe(self) -> str:
        """Start the program once with placeholder settings (a closed local URL, a made-up pair), shake hands and
        shut it down, so a program that cannot start is reported before a run; returns the name it gave."""
        placeholder = Credentials("test_bluum_probe", "probe-only-not-a-secret")
        integration = self(IntegrationEnv(base_url="http://127.0.0.1:9/v1", credentials=lambda: placeholder))
        integration.close()
        return integration.name

    def _environment(self, env: IntegrationEnv, files: ProgramFiles) -> dict[str, str]:
        pair = env.credentials()
        variables = {
            **os.environ,
            "BLUUM_API_BASE_URL": env.base_url,
            "BLUUM_API_KEY": pair.key,
            "BLUUM_API_SECRET": pair.secret,
            "BLUUM_CREDENTIALS_FILE": str(files.credentials_file),
            "BLUUM_REQUEST_TIMEOUT_S": f"{env.request_timeout_s:g}",
        }
        if files.webhook_secret_file is not None:
            variables["BLUUM_WEBHOOK_SECRET_FILE"] = str(files.webhook_secret_file)
        if env.webhook_tls is not None:
            variables["BLUUM_WEBHOOK_TLS_CERT"] = env.webhook_tls.cert_file
            variables["BLUUM_WEBHOOK_TLS_KEY"] = env.webhook_tls.key_file
            variables["BLUUM_WEBHOOK_CA_FILE"] = env.webhook_tls.ca_file
        return variables

    def _handshake(self, program: Program) -> dict[str, Any]:
        params = {"protocol": PROTOCOL_VERSION, "suite_version": __version__}
        response = program.request("initialize", params, START_TIMEOUT_S)
        where = f"the integration program `{self.command}`"
        if response.error is not None:
            raise ProgramBroken(f"{where} answered initialize with an error: {response.error.message}")
        hello = response.result
        if not isinstance(hello, dict):
            raise ProgramBroken(f"{where} answered initialize with {hello!r}; expected an object with protocol = 1")
        if hello.get("protocol") != PROTOCOL_VERSION:
            raise ProgramBroken(
                f"{where} speaks protocol {hello.get('protocol')!r}; this suite speaks protocol {PROTOCOL_VERSION} "
                '(docs/adapter-protocol.md): answer initialize with {"protocol": 1, …}'
            )
        capabilities = hello.get("capabilities", {})
        if not isinstance(capabilities, dict):
            raise ProgramBroken(f"{where}: capabilities is {capabilities!r}; expected an object")
        url = capabilities.get("webhook_url")
        if url is not None and not isinstance(url, str):
            raise ProgramBroken(f"{where}: capabilities.webhook_url is {url!r}; expected its https URL or null")
        return hello

    def __repr__(self) -> str:
        return f"ProgramFactory({self.spec!r})"


def parse_command(command: str) -> list[str]:
    """Split COMMAND as a POSIX shell would, and make sure its program exists (else a ConfigError saying so)."""
    spec = f"{EXEC_PREFIX}{command}"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(
            f"integration {spec!r}: cannot split the command ({exc}); quote it as a shell would"
        ) from None
    if not argv:
        raise ConfigError(f'integration {spec!r} names no command; e.g. --integration "exec:node bluum_adapter.mjs"')
    program = argv[0]
    if os.sep in program:
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            raise ConfigError(f"integration {spec!r}: {program} is not an executable file; check the path")
    elif shutil.which(program) is None:
        raise ConfigError(f"integration {spec!r}: {program!r} is not on PATH; install it or give its full path")
    return argv
