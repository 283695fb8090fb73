"""The integration adapter contract: how the suite drives a team's own Bluum integration.

This is a **public, pinned contract** (see docs/adapter-contract.md). Teams write an adapter against it;
extend it compatibly, never rename. The suite loads ``module:factory`` and calls the factory with one
``IntegrationEnv``; the factory returns an object with the operations of ``Integration``.

Failures of an operation raise any exception; the suite reads ``code``, ``message``, ``param``,
``status`` and ``request_id`` attributes from it when present (see ``describe_failure``).
"""

from __future__ import annotations

import base64
import importlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bluum_readiness.errors import ConfigError, HarnessError

__all__ = [
    "OPERATIONS",
    "OPTIONAL_CAPABILITIES",
    "Credentials",
    "Integration",
    "IntegrationEnv",
    "IntegrationError",
    "LocalTLS",
    "describe_failure",
    "load_factory",
    "make_integration",
]


@dataclass(frozen=True)
class Credentials:
    """An API key pair as a secret manager returns it. ``repr`` never shows the secret."""

    key: str
    secret: str = field(repr=False)

    def basic_token(self) -> str:
        """The HTTP Basic token of the pair (what follows ``Authorization: Basic``); as secret as the secret."""
        return base64.b64encode(f"{self.key}:{self.secret}".encode()).decode("ascii")

    def __repr__(self) -> str:
        return f"Credentials(key={self.key!r}, secret='***')"


@dataclass(frozen=True)
class LocalTLS:
    """A certificate for a receiver the integration serves locally (twin mode), issued by the suite's local CA.

    ``cert_file``/``key_file`` are valid for 127.0.0.1 and localhost; the suite's webhook sender trusts
    ``ca_file``.
    """

    cert_file: str
    key_file: str
    ca_file: str


@dataclass(frozen=True)
class IntegrationEnv:
    """Everything an adapter factory receives.

    :param base_url: where to send Bluum API calls, ending in ``/v1`` (the suite's proxy). Use it for
        every call: an integration that ignores it is a harness error.
    :param credentials: returns the *current* key pair, as a secret manager would; it changes during the
        rotation drill, so call it again rather than caching the result forever.
    :param request_timeout_s: the per-request timeout the suite expects the integration to use.
    :param webhook_secret: returns the signing secret of the webhook registered for this integration
        (known once it is registered), or None when the suite runs no webhook checks.
    :param webhook_tls: certificate material for a receiver served locally (twin mode), else None.
    """

    base_url: str
    credentials: Callable[[], Credentials]
    request_timeout_s: float = 10.0
    webhook_secret: Callable[[], str] | None = None
    webhook_tls: LocalTLS | None = None


@runtime_checkable
class Integration(Protocol):
    """The operations every adapter provides. Dicts are Bluum request bodies; amounts are decimal strings;
    ids are returned as Bluum gives them. Optional capabilities (``request_log``, ``alerts``,
    ``webhook_url``, ``processed_events``, ``resource_status``, ``close``) are detected by presence."""

    def create_investor(self, profile: dict[str, Any]) -> str: ...

    def upload_document(self, investor_id: str, document: dict[str, Any]) -> str: ...

    def kyc_status(self, investor_id: str) -> str: ...

    def link_bank_account(self, investor_id: str, bank: dict[str, Any]) -> str: ...

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str: ...

    def place_order(self, investor_id: str, order: dict[str, Any]) -> str: ...

    def get_order(self, investor_id: str, order_id: str) -> dict[str, Any]: ...

    def cancel_order(self, investor_id: str, order_id: str) -> None: ...

    def positions(self, investor_id: str) -> list[dict[str, Any]]: ...

    def withdraw(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str: ...


OPERATIONS: tuple[str, ...] = (
    "create_investor",
    "upload_document",
    "kyc_status",
    "link_bank_account",
    "deposit",
    "place_order",
    "get_order",
    "cancel_order",
    "positions",
    "withdraw",
)
OPTIONAL_CAPABILITIES: tuple[str, ...] = (
    "request_log",
    "alerts",
    "webhook_url",
    "processed_events",
    "resource_status",
    "close",
)


class IntegrationError(HarnessError):
    """The adapter could not be loaded or does not implement the contract (a harness problem, "broken")."""


def load_factory(spec: str) -> Callable[[IntegrationEnv], Any]:
    """Resolve ``module:factory`` (e.g. ``bluum_readiness.reference:create``) to a callable, or
    ``exec:COMMAND`` to the factory that drives a program in any language over the adapter protocol."""
    if spec.startswith("exec:"):
        from bluum_readiness.protocol import ProgramFactory

        return ProgramFactory(spec.removeprefix("exec:"))
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(
            f"--integration {spec!r} must be MODULE:FACTORY, e.g. my_team.bluum_adapter:create, or exec:COMMAND, "
            'e.g. "exec:node bluum_adapter.mjs" (run `bluum-readiness init` for a template)'
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import integration module {module_name!r} ({exc}); check the name and that it is on "
            "PYTHONPATH (run from your project folder or install it)"
        ) from None
    factory: Any = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}; name the adapter factory")
    if not callable(factory):
        raise ConfigError(f"{spec!r} is not callable; it must be a factory taking an IntegrationEnv")
    return factory  # type: ignore[no-any-return]


def make_integration(factory: Callable[[IntegrationEnv], Any], env: IntegrationEnv) -> Any:
    """Call the factory and check the result implements every operation (else IntegrationError)."""
    try:
        integration = factory(env)
    except HarnessError:
        raise
    except Exception as exc:
        raise IntegrationError(f"the integration factory raised {type(exc).__name__}: {exc}") from exc
    missing = [op for op in OPERATIONS if not callable(getattr(integration, op, None))]
    if missing:
        raise IntegrationError(
            f"the integration returned by the factory lacks {', '.join(missing)}; every adapter must implement "
            f"{', '.join(OPERATIONS)} (see docs/adapter-contract.md)"
        )
    for op in OPERATIONS:
        method = getattr(integration, op)
        if inspect.iscoroutinefunction(method):
            raise IntegrationError(
                f"{op} is a coroutine function; adapter operations are synchronous — wrap an async client "
                "with a blocking facade (see docs/adapter-contract.md)"
            )
    return integration


_LANGUAGES = (
    ("typescript", (".ts", ".mts", ".cts", "tsx", "ts-node")),
    ("node", ("node", "nodejs", "npx", "deno", "bun", ".js", ".mjs", ".cjs")),
    ("go", ("go", ".go")),
    ("java", ("java", "kotlin", ".jar", ".java", ".kt", "gradle", "mvn", "./gradlew", "./mvnw")),
    ("python", ("python", "python3", "uv", "poetry", ".py")),
)


def integration_language(factory: Any) -> str | None:
    """The integration's language as far as the suite can tell: ``python`` for a Python factory; for an ``exec:``
    program, from its command (``node``, ``typescript``, ``go``, ``java``, ``python``); None when it cannot tell
    (a compiled binary, say)."""
    argv = getattr(factory, "argv", None)
    if argv is None:
        return "python" if callable(factory) else None
    words = [os.path.basename(str(part)) for part in argv]
    for language, marks in _LANGUAGES:
        for word in words:
            if word in marks or any(word.endswith(mark) for mark in marks if mark.startswith(".")):
                return language
            if word.startswith(language) and word.removeprefix(language).lstrip("3.").isdigit():  # python3.11
                return language
    return None


def describe_failure(exc: BaseException) -> dict[str, Any]:
    """What the suite can read from an operation's exception: code, message, param, status, request id, and the
    network failure (``transport``) when the API did not answer."""
    info: dict[str, Any] = {"exception": type(exc).__name__, "message": str(exc)}
    for attr in ("code", "param", "status", "status_code", "request_id", "transport"):
        value = getattr(exc, attr, None)
        if value is not None:
            info[attr] = value
    return info
