"""The integration adapter contract: how the suite drives a team's own Bluum integration.

This is a **public, pinned contract** (see docs/adapter-contract.md). Teams write an adapter against it;
extend it compatibly, never rename. The suite loads ``module:factory`` and calls the factory with one
``IntegrationEnv``; the factory returns an object with the operations of ``Integration``.

Failures of an operation raise any exception; the suite reads ``code``, ``message``, ``param``,
``status`` and ``request_id`` attributes from it when present (see ``describe_failure``).
"""

from __future__ import annotations

import base64
import contextvars
import difflib
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import threading
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from bluum_readiness.errors import ConfigError, HarnessError

__all__ = [
    "OPERATIONS",
    "FACTORY_TIMEOUT_S",
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


#: How long the suite waits for a Python factory to return an integration (an ``exec:`` program's handshake has the
#: same bound); a factory that takes longer is reported, and not called again in this process.
FACTORY_TIMEOUT_S = 30.0


def load_factory(spec: str) -> Callable[[IntegrationEnv], Any]:
    """Resolve ``module:factory`` (e.g. ``bluum_readiness.reference:create``) or ``path/to/file.py:factory`` to a
    callable, or ``exec:COMMAND`` to the factory that drives a program in any language over the adapter protocol.

    Every mistake is a ConfigError of one line: a module that is not found, a file with a syntax error or that
    raises when imported (its file, line and error), a missing or non-callable attribute, a misspelt ``exec:``."""
    if spec.startswith("exec:"):
        from bluum_readiness.protocol import ProgramFactory

        return ProgramFactory(spec.removeprefix("exec:"))
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(
            f"--integration {spec!r} must be MODULE:FACTORY, e.g. my_team.bluum_adapter:create, or exec:COMMAND, "
            'e.g. "exec:node bluum_adapter.mjs" (run `bluum-readiness init` for a template)'
        )
    if is_file_spec(module_name):
        module = _import_file(module_name, spec)
    else:
        module = _import_module(module_name, spec)
    factory: Any = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}; name the adapter factory")
    if not callable(factory):
        raise ConfigError(f"{spec!r} is not callable; it must be a factory taking an IntegrationEnv")
    return factory  # type: ignore[no-any-return]


def is_file_spec(module_part: str) -> bool:
    """``./bluum_adapter.py``, ``adapters/bluum.py``: a Python file named by its path rather than a module name."""
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def _exec_typo(module_name: str) -> str:
    """A hint when ``MODULE`` looks like a misspelt ``exec`` (``exe:``, ``EXEC:``, ``exce:``)."""
    close = difflib.get_close_matches(module_name.strip().lower(), ["exec"], n=1, cutoff=0.7)
    return ' Did you mean "exec:COMMAND" (a program speaking the adapter protocol)?' if close else ""


def _import_module(module_name: str, spec: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name != exc.name and not module_name.startswith(f"{exc.name}."):
            raise ConfigError(_raised_at_import(module_name, exc)) from None  # the module itself imports a missing one
        typo = _exec_typo(module_name)
        if typo:
            raise ConfigError(f"--integration {spec!r}: there is no module {module_name!r}.{typo}") from None
        raise ConfigError(
            f"cannot import integration module {module_name!r} ({exc}); check the name and that it is on "
            "PYTHONPATH (run from your project folder or install it), or give the path of its file, e.g. "
            f"--integration ./{module_name.rpartition('.')[2]}.py:{spec.rpartition(':')[2]}"
        ) from None
    except (Exception, SystemExit) as exc:  # the team's module: a syntax error, or anything it raises at import
        raise ConfigError(_raised_at_import(module_name, exc)) from None


def _import_file(path_text: str, spec: str) -> ModuleType:
    """The module in the file ``path_text``, imported as ``python path/to/file.py`` would see it: its folder first on
    ``sys.path`` (so it imports its siblings), under its own name when that name is free."""
    path = Path(path_text).expanduser()
    try:
        found = path.is_file()
    except OSError as exc:  # e.g. a name longer than the system allows
        raise ConfigError(f"--integration {spec!r}: cannot read {path_text} ({exc.strerror or exc})") from None
    if not found and not path.exists():
        raise ConfigError(
            f"--integration {spec!r}: no such file {path_text}; give the path of your adapter's .py file "
            "(e.g. ./bluum_adapter.py:create) or its module name (bluum_adapter:create)"
        )
    if not found or path.suffix != ".py":
        raise ConfigError(
            f"--integration {spec!r}: {path_text} is not a Python file; give the path of your adapter's .py file "
            "(e.g. ./bluum_adapter.py:create) or its module name (bluum_adapter:create)"
        )
    path = path.resolve()
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem if path.stem.isidentifier() else f"_bluum_adapter_file_{zlib.crc32(bytes(path)):08x}"
    loaded = sys.modules.get(name)
    if loaded is not None:
        if getattr(loaded, "__file__", None) and Path(str(loaded.__file__)).resolve() == path:
            return loaded
        name = f"_bluum_adapter_file_{zlib.crc32(bytes(path)):08x}"  # the plain name is another module's
        if name in sys.modules:
            return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise ConfigError(f"--integration {spec!r}: cannot load {path_text} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise ConfigError(_raised_at_import(str(path), exc)) from None
    return module


def _raised_at_import(what: str, exc: BaseException) -> str:
    """One line: where the team's module failed to import (file, line) and with what."""
    see = f"python {what}" if what.endswith(".py") else f'python -c "import {what}"'
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if exc.filename else "unknown place"
        return f"the integration module {what} has a syntax error ({where}): {exc.msg}; fix it (`{see}` shows it)"
    frame = None
    for entry in reversed(traceback.extract_tb(exc.__traceback__)):
        if "importlib" not in entry.filename and not entry.filename.startswith("<frozen"):
            frame = entry
            break
    where = f" ({frame.filename}, line {frame.lineno})" if frame is not None else ""
    message = " ".join(str(exc).split()) or "(no message)"
    if isinstance(exc, SystemExit):
        message = f"it called sys.exit({exc.code!r})"
    return (
        f"importing the integration module {what} failed{where}: {type(exc).__name__}: {message[:500]}; "
        f"fix the module (`{see}` shows the whole traceback)"
    )


_HUNG: dict[int, tuple[Callable[..., Any], str]] = {}  # factories that did not return in time, by id (kept alive)
_HUNG_LOCK = threading.Lock()


def factory_name(factory: Callable[..., Any]) -> str:
    """``module:qualname`` of a factory (through ``functools.partial``), for messages."""
    inner = factory
    while isinstance(inner, functools.partial):
        inner = inner.func
    spec = getattr(inner, "spec", None)  # a ProgramFactory names its exec: spec
    if isinstance(spec, str):
        return spec
    module = getattr(inner, "__module__", None)
    qualname = getattr(inner, "__qualname__", None) or type(inner).__qualname__
    return f"{module}:{qualname}" if module else str(qualname)


def _call_bounded(factory: Callable[[IntegrationEnv], Any], env: IntegrationEnv, timeout_s: float) -> Any:
    """``factory(env)`` in a helper thread, waited for at most ``timeout_s``: a factory that never returns becomes an
    IntegrationError naming it and the limit (the thread is left to finish on its own; the factory is not called
    again in this process)."""
    root = factory.func if isinstance(factory, functools.partial) else factory
    if getattr(root, "bounds_itself", False):  # an exec: program's handshake has its own bound and better message
        return factory(env)
    with _HUNG_LOCK:
        hung = _HUNG.get(id(root))
    if hung is not None and hung[0] is root:
        raise IntegrationError(
            f"the integration factory {hung[1]} did not return within {timeout_s:g} s earlier in this run; it is not "
            "called again — make the factory return promptly (connect lazily, with timeouts)"
        )
    outcome: dict[str, Any] = {}
    done = threading.Event()
    context = contextvars.copy_context()

    def call() -> None:
        try:
            outcome["value"] = context.run(factory, env)
        except BaseException as exc:  # handed to the caller as is
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=call, name="bluum-integration-factory", daemon=True).start()
    if not done.wait(timeout_s):
        name = factory_name(factory)
        with _HUNG_LOCK:
            _HUNG[id(root)] = (root, name)
        raise IntegrationError(
            f"the integration factory {name} did not return within {timeout_s:g} s (it must build the adapter and "
            "return it; connect lazily, with timeouts); the suite stopped waiting and will not call it again"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def make_integration(
    factory: Callable[[IntegrationEnv], Any], env: IntegrationEnv, timeout_s: float = FACTORY_TIMEOUT_S
) -> Any:
    """Call the factory (waiting at most ``timeout_s`` for it) and check the result implements every operation
    (else IntegrationError)."""
    try:
        integration = _call_bounded(factory, env, timeout_s)
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
