"""The harness a check runs in: a target (twin or real sandbox), the fault proxy in front of it, the
team's integration behind it, the suite's own API client for setup, and evidence collection.

Checks call the integration (through the proxy) for the behaviour under test, and the suite's own
client (straight to the target, never faulted) for setup and for reading the truth (ledger, lists).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness._retry_after import CAP_S as RETRY_AFTER_CAP_S
from bluum_readiness._retry_after import retry_after_s
from bluum_readiness.calling import Call, call
from bluum_readiness.config import RunConfig, Thresholds
from bluum_readiness.errors import HarnessError, TargetUnavailable
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.integration import (
    Credentials,
    IntegrationEnv,
    IntegrationError,
    LocalTLS,
    describe_failure,
    integration_language,
    make_integration,
)
from bluum_readiness.otlp import OtelEnvironment, OtlpReceiver, Span, applied, traceparent_span_id
from bluum_readiness.protocol import ProgramIntegration
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.redaction import Secrets
from bluum_readiness.target import Target
from bluum_readiness.testing import investor_profile, plaid_bank

if TYPE_CHECKING:
    from bluum_readiness.checks.observation import Observation, Scenario

__all__ = [
    "LOCAL_POLL_S",
    "SIDE_BY_SIDE",
    "SLOW_TARGET",
    "TARGET_FAILED",
    "CredentialStore",
    "Harness",
    "LogCapture",
    "LogLine",
    "Target",
    "WebhookSecret",
    "poll",
]

T = TypeVar("T")

TARGET_FAILED = "a failure of the target, not a defect of the integration: run it again once the target is healthy"
"""How every reason ends when a real target's own failure (a 5xx, no answer) kept a check from judging."""
SLOW_TARGET = (
    "a target slower than [thresholds] settle_timeout_s allows, not a defect of the integration: raise the setting "
    "for this target"
)
"""How every reason ends when a real target had not got where a wait expected it in time."""


OWN_429_RETRIES = 3
"""How many times the suite asks again when a real target rate-limits its own setup call (``Harness._rate_limited``)."""

POLL_S = 0.02
"""How often a wait on a real environment probes it (each probe is a request against its rate limit)."""
LOCAL_POLL_S = 0.005
"""How often a wait probes what answers in about a millisecond: the embedded twin (it ticks every 10 ms with its
fast settings, so a 20 ms poll overshot a state change by ~10 ms on average, ~1 s of a full run's set-up), or
the suite's own memory (the proxy's exchanges, an integration's operations)."""
OTLP_SETTLE_S = 2.0
"""The longest ``capture_logs`` waits for spans still in flight when its block ends (the SDKs export every
``otlp.SCHEDULE_DELAY_MS``, 0.1 s, under the suite: they arrive in tenths of a second, and it stops as soon as they
have)."""
OTLP_QUIET_S = 0.25
"""For an integration that uses OpenTelemetry: how long no export must arrive, after the block, before its log
records (which carry no request to wait for) are taken as all there — over two export intervals."""
OTLP_SKEW_NS = 100_000_000
"""Records stamped up to 0.1 s before the block began still count as the block's: an SDK's clock may run apart from
ours (Node's is its start time plus a monotonic count). An earlier block's records arrived during its own settle,
which for an integration using OpenTelemetry lasts at least ``OTLP_QUIET_S``, so none is taken for this block's."""


def poll(probe: Callable[[], Any], done: Callable[[Any], bool], timeout: float, interval: float = POLL_S) -> Any:
    """Call ``probe`` until ``done(result)`` or ``timeout`` seconds pass; return the last result either way."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if done(last) or time.monotonic() > deadline:
            return last
        time.sleep(interval)


class _Listeners(Generic[T]):
    """Callbacks told of every new value of a source, in the order they subscribed (``subscribe`` returns the
    unsubscribe)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[T], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def notify(self, value: T) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(value)


class CredentialStore:
    """The integration's secret source: ``get`` (or calling the store) returns the current pair and counts reads;
    the rotation drill and the 401 checks ``set`` a new one, and listeners (``subscribe``) hear of it at once (an
    ``exec:`` integration's credentials file is rewritten that way)."""

    def __init__(self, credentials: Credentials) -> None:
        self._current = credentials
        self._held = [credentials]
        self._lock = threading.Lock()
        self._listeners: _Listeners[Credentials] = _Listeners()
        self.reads = 0

    def get(self) -> Credentials:
        with self._lock:
            self.reads += 1
            return self._current

    __call__ = get

    def set(self, credentials: Credentials) -> None:
        with self._lock:
            self._current = credentials
            self._held.append(credentials)
        self._listeners.notify(credentials)

    def subscribe(self, listener: Callable[[Credentials], None]) -> Callable[[], None]:
        """Call ``listener`` with every new pair (synchronously, in ``set``); returns the unsubscribe."""
        return self._listeners.subscribe(listener)

    @property
    def held(self) -> list[Credentials]:
        """Every pair this store has held, oldest first (all of them must be scrubbed from reports)."""
        with self._lock:
            return list(self._held)

    @property
    def current(self) -> Credentials:
        return self._current


class WebhookSecret:
    """The integration's webhook secret source: empty until the suite registers its receiver (or config sets it).

    ``get`` (or calling it) is what ``IntegrationEnv.webhook_secret`` hands the integration; listeners (``subscribe``)
    hear of a new secret at once; ``repr`` never shows the secret.
    """

    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret
        self._lock = threading.Lock()
        self._listeners: _Listeners[str] = _Listeners()

    def get(self) -> str:
        with self._lock:
            if self._secret is None:
                raise HarnessError("no webhook is registered for this integration yet, so its secret is unknown")
            return self._secret

    __call__ = get

    def set(self, secret: str | None) -> None:
        with self._lock:
            self._secret = secret
        if secret is not None:
            self._listeners.notify(secret)

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener`` with every new secret (synchronously, in ``set``); returns the unsubscribe."""
        return self._listeners.subscribe(listener)

    @property
    def known(self) -> bool:
        return self._secret is not None

    def __repr__(self) -> str:
        return f"WebhookSecret(known={self.known})"


@dataclass(frozen=True)
class LogLine:
    """One line of the integration's log: a Python log record (``source="logging"``, with its level and logger),
    or a line its program wrote to stderr (``source="stderr"``, an ``exec:`` integration)."""

    source: str
    text: str
    level: int | None = None
    logger: str | None = None
    message: str | None = None
    fields: Mapping[str, Any] | None = None  # a record's structured extras (``extra=…``), JSON-safe values only


@dataclass
class LogCapture:
    """Everything the integration logged while active: Python logging (any logger, DEBUG and up) and the stderr
    of every ``exec:`` integration of the harness."""

    lines: list[LogLine] = field(default_factory=list)
    programs: int = 0  # how many exec: integrations' stderr was read (0: a Python integration's log is its records)

    def of(self, source: str) -> list[LogLine]:
        return [line for line in self.lines if line.source == source]

    def text(self, source: str | None = None) -> str:
        """The lines as text (of one ``source`` when given)."""
        return "\n".join(line.text for line in self.lines if source is None or line.source == source)


_SUITE_LOGGERS = tuple(
    f"bluum_readiness.{part}" for part in ("twin", "proxy", "suite", "checks", "harness", "protocol")
)
"""Loggers of the suite's own parts, which run in the integration's process (the embedded twin's threads log a
parked webhook delivery, say): never the integration's log."""

SUITE_THREADS = (
    "bluum-twin:",
    "bluum-proxy:",
    "bluum-otlp:",
    "bluum-alerts:",
    "bluum-suite:",
    "secret-scan-ahead",
    "warm-imports",
)
"""Threads of the suite's own parts: what they log through other libraries (the twin's webhook deliveries log
httpx/httpcore records, say) is never the integration's. The servers are named so (``BackgroundServer(name=…)``);
an integration's own receiver keeps ``uvicorn:`` and is read."""


class _ListHandler(logging.Handler):
    def __init__(self, sink: LogCapture) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if (
            getattr(_SUITE_TRAFFIC, "active", False)
            or record.name.startswith(_SUITE_LOGGERS)
            or record.threadName is not None
            and record.threadName.startswith(SUITE_THREADS)
        ):
            return
        try:
            message = record.getMessage()
        except Exception:  # a broken log call must not break the check
            message = repr(record.msg)
        extras = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRIBUTES and json_like(v)}
        if isinstance(record.msg, Mapping) and not record.args:  # structlog's ProcessorFormatter: the event dict
            extras = {**{str(k): v for k, v in record.msg.items() if json_like(v)}, **extras}
            message = json.dumps(record.msg, default=repr, ensure_ascii=False)
        text = f"{record.name} {record.levelname} {message}"
        self.sink.lines.append(LogLine("logging", text, record.levelno, record.name, message, extras or None))


_SUITE_TRAFFIC = threading.local()


@contextlib.contextmanager
def _suite_traffic() -> Iterator[None]:
    """Mark this thread as sending the suite's own requests while the block runs (their log records are skipped)."""
    previous = getattr(_SUITE_TRAFFIC, "active", False)
    _SUITE_TRAFFIC.active = True
    try:
        yield
    finally:
        _SUITE_TRAFFIC.active = previous


_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def json_like(value: Any) -> bool:
    """JSON-like data (what a structured logger puts in ``extra``, what an observation keeps), not arbitrary
    objects."""
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and json_like(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(json_like(v) for v in value)
    return False


def guarded(name: str, read: Callable[..., T]) -> Callable[..., T]:
    """``read`` (an integration's optional capability: ``processed_events()``, ``resource_status()``…) whose failure
    is the integration's, not the suite's: what it would have shown could not be seen (NotVerifiable, with what it
    raised), never a harness error. A program that broke the protocol still stops the run (``IntegrationError``)."""

    @functools.wraps(read)
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            return read(*args, **kwargs)
        except IntegrationError:
            raise
        except Exception as exc:
            info = describe_failure(exc)
            raise NotVerifiable(
                f"the integration's {name}() raised {info['exception']}: {info['message']}, so what it would show "
                "could not be seen"
            ) from None

    return call


SIDE_BY_SIDE = "(side by side)"
"""The reader ``suite/prelude.py`` observes as: its observations are served to the checks that judge them."""


class Harness:
    """One check's world. Use as a context manager; ``close`` closes the integrations it made.

    :param config: the run's configuration; checks read it as ``h.config`` (scan paths, credential source,
        webhooks…) and its thresholds as ``h.thresholds``. Defaults when not given (the project's own tests).
    :param secrets: where secrets the harness learns (a webhook's signing secret) are added, so every output
        scrubs them; a fresh ``Secrets`` when not given.
    :param clock: the seconds the checks measure the integration's behaviour on and bound its calls with (``clock``,
        monotonic); ``time.monotonic`` by default. A virtual-time session passes its proxy's virtual clock, the
        one its exchanges are stamped on.
    :param sleep: how the checks wait on the integration (``sleep``); ``time.sleep`` by default.
    :param factory_options: extra keyword arguments for every call of ``factory`` (a virtual-time session's
        ``transport`` and ``sleep``); called once per integration made.
    :param observations: where ``observe`` keeps what scenarios saw; a session passes one store to all its
        harnesses, so checks that judge the same behaviour observe it once. A fresh store when not given.
    :param otlp: the session's OTLP receiver, with ``otel`` the ``OTEL_*`` variables each integration is started
        with (``integration``); ``capture_logs`` reads the spans and log records it received. None: no receiver.
    :param team_key: the key id of the pair the team configured (its secret source): the one the embedded twin
        adopted, or the one given for a real target; None when the twin issued the run's pair. How old that pair
        is, the suite knows only from the team's declaration (``credentials.key-age``).
    :param slow_down: lowers the run's shared pace (every process's), returning the new requests/s; called when a
        real target rate-limits the suite's own calls although the run kept under its limit. None: no pace is kept.

    Waits on the *target* (``wait_for``, ``poll``) stay on the real clock: the twin settles in real time.
    """

    def __init__(
        self,
        *,
        target: Target,
        proxy: Any,
        factory: Callable[[IntegrationEnv], Any],
        credentials: CredentialStore,
        config: RunConfig | None = None,
        secrets: Secrets | None = None,
        webhook_secret: WebhookSecret | None = None,
        webhook_tls: LocalTLS | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        factory_options: Callable[[], Mapping[str, Any]] | None = None,
        observations: dict[Any, Any] | None = None,
        otlp: OtlpReceiver | None = None,
        otel: OtelEnvironment | None = None,
        team_key: str | None = None,
        slow_down: Callable[[], float] | None = None,
    ) -> None:
        self.target = target
        self._slow_down = slow_down
        self.team_key = team_key
        self.otlp = otlp
        self.otel = otel
        self._observations = observations if observations is not None else {}
        self.clock: Callable[[], float] = clock if clock is not None else time.monotonic
        self.sleep: Callable[[float], None] = sleep if sleep is not None else time.sleep
        self._factory_options = factory_options
        self.config = config if config is not None else RunConfig()
        self.secrets = secrets if secrets is not None else Secrets()
        self.proxy = proxy
        self.factory = factory
        self.credentials = credentials
        self.rng = random.Random(self.config.seed)
        self.evidence: dict[str, Any] = {}
        self._integrations: list[Any] = []
        self._prepared: list[Any] = []  # made ahead by prepare_integration, served first by integration()
        self._cleanups: list[Callable[[], Any]] = []
        self._closed_up_to = 0  # self._integrations[:this] are closed
        self.webhook_secret = webhook_secret or WebhookSecret()
        self.webhook_secret.subscribe(self.secrets.add)
        self._webhook_tls = webhook_tls
        self.api = httpx.Client(
            base_url=target.base_url, timeout=10.0, auth=self._auth(), verify=tls_context_for(target.base_url)
        )

    @property
    def thresholds(self) -> Thresholds:
        """What the checks hold the integration to: the configuration's ``[thresholds]``."""
        return self.config.thresholds

    # -- the integration under test -------------------------------------------------------------------------

    def env(self) -> IntegrationEnv:
        return IntegrationEnv(
            base_url=self.proxy.base_url,
            credentials=self.credentials,
            request_timeout_s=self.thresholds.request_timeout_s,
            webhook_secret=self.webhook_secret,
            webhook_tls=self.webhook_tls,
        )

    @property
    def webhook_tls(self) -> LocalTLS | None:
        """In twin mode, a certificate from the suite's local CA (one per process) for a locally served
        receiver; None against a real environment unless given."""
        if self._webhook_tls is None and self.target.twin:
            from bluum_readiness.webhooks.tls import shared_local_tls

            self._webhook_tls = shared_local_tls()
        return self._webhook_tls

    def observe(self, scenario: Scenario, reader: str = "") -> Observation:
        """What ``scenario`` saw of the integration, observed once per session for this integration factory and
        these thresholds and read once by each check (``reader``): every check that judges it reads the same
        observation (429-backoff-grows and 429-jitter judge one set of backoff trials), whatever it found; a check
        that runs again observes again (the world may have changed: the deployed pair, say). The observation's
        evidence (its fault plans, exchanges, charts' data) is recorded in this check's evidence; when an earlier
        check observed it, ``shared_observation`` says so. Observations are shared: do not mutate them."""
        key = (scenario.name, id(self.factory), self.thresholds)  # by identity: a factory need not be hashable
        entry = self._observations.get(key)  # it holds the factory, so its id cannot be reused meanwhile
        shared = entry is not None and reader not in entry[2]
        if not shared:
            entry = self._observations[key] = (self.factory, scenario.observe(self), set())
        assert entry is not None
        ahead = SIDE_BY_SIDE in entry[2]  # observed by the run's prelude (suite/prelude.py)
        entry[2].add(reader)
        observation: Observation = entry[1]
        for field_name, value in copy.deepcopy(observation.evidence).items():
            if isinstance(value, list):
                self.evidence.setdefault(field_name, []).extend(value)
            else:
                self.evidence[field_name] = value
        if ahead:
            self.evidence["shared_observation"] = {
                "name": scenario.name,
                "note": "observed at the start of the run, side by side with other scenarios that mostly wait (each "
                "with its own integration, fault proxy and investor), and judged by this check",
            }
        elif shared:
            self.evidence["shared_observation"] = {
                "name": scenario.name,
                "note": "observed once in this run, by an earlier check, and judged by each check that reads it",
            }
        return observation

    @contextlib.contextmanager
    def recording(self, evidence: dict[str, Any]) -> Iterator[None]:
        """Record the evidence of the block (fault plans, exchanges, a webhook…) into ``evidence`` instead of the
        check's own: an observation keeps what it saw, and every check that reads it shows it."""
        own, self.evidence = self.evidence, evidence
        try:
            yield
        finally:
            self.evidence = own

    def invoke(
        self, operation: Callable[[], Any], *, timeout: float = 30.0, give_up: Callable[[], bool] | None = None
    ) -> Call:
        """One integration operation, bounded by ``timeout`` on this harness's clock (``calling.call``)."""
        return call(operation, timeout=timeout, give_up=give_up, clock=self.clock)

    @property
    def language(self) -> str | None:
        """The integration's language, when the suite can tell (fix texts give a hint in it)."""
        return integration_language(self.factory)

    def on_close(self, cleanup: Callable[[], Any]) -> None:
        """Run ``cleanup`` when the harness closes, before the integrations are closed (errors suppressed)."""
        self._cleanups.append(cleanup)

    def integration(self) -> Any:
        """A fresh integration, made by the team's factory, pointed at the proxy (with ``factory_options``); the one
        ``prepare_integration`` made, when there is one."""
        if self._prepared:
            return self._prepared.pop(0)
        factory = self.factory
        if self._factory_options is not None:
            options = dict(self._factory_options())
            try:
                inspect.signature(self.factory).bind(None, **options)
            except TypeError as exc:
                raise HarnessError(
                    f"this session runs integrations in virtual time, so the factory must accept the keyword "
                    f"arguments {', '.join(sorted(options))} ({exc}); run this factory in a socket session"
                ) from None
            except ValueError:  # no signature to inspect: the call itself will tell
                pass
            factory = functools.partial(self.factory, **options)
        with contextlib.ExitStack() as stack:
            if self.otel is not None:  # an exec: program inherits them; an in-process SDK reads them as it is built
                stack.enter_context(applied(self.otel.variables))
            made = make_integration(factory, self.env())
        self._integrations.append(made)
        return made

    def prepare_integration(self) -> None:
        """Make the next ``integration()`` now (an ``exec:`` program started, a JVM warmed up), so that a scenario
        observed side by side with others never times its integration while another one is starting."""
        made = self.integration()
        self._prepared.append(made)

    def capability(self, integration: Any, name: str) -> Any:
        """The optional capability (a method: ``guarded``), or NotVerifiable naming it."""
        value = getattr(integration, name, None)
        if value is None:
            raise NotVerifiable(self._not_exposed(name))
        return guarded(name, value) if callable(value) else value

    def _not_exposed(self, name: str) -> str:
        """Why a capability is missing. A receiver served beside the integration needs the certificate the suite
        hands it in twin mode only (``webhook_tls``): against a real target its absence is the suite's doing, and
        the way on is a twin run, or the team's deployed endpoint."""
        why = f"the integration does not expose {name}() (an optional capability of the adapter)"
        if name == "webhook_url" and not self.target.twin and self.webhook_tls is None:
            why += (
                "; against a real target the suite gives it no certificate for a receiver of its own (it does in "
                "twin mode), so the webhook checks are proven by a twin run of the same integration: combine the "
                "two records (`bluum-readiness report --combine`), or name your deployed endpoint in [webhooks] url"
            )
        return why

    # -- the proxy ------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def faults(self, *rules: FaultRule) -> Iterator[None]:
        """Install fault rules for the duration of the block; record them as evidence."""
        for rule in rules:
            self.proxy.add_rule(rule)
        self.evidence.setdefault("fault_plans", []).extend(rule.to_dict() for rule in rules)
        try:
            yield
        finally:
            self.proxy.clear_faults()

    @contextlib.contextmanager
    def fresh_connections(self) -> Iterator[None]:
        """For the block, the proxy ends every connection after its response (``Connection: close``): each
        request comes on a new connection, so a transport that resends only on a reused connection (Go's
        ``http.Transport``) never resends one on its own, and the failures the proxy makes reach the code. (Java's
        ``HttpClient`` still resends a GET on any connection: see ``failures_logged.transport_replay``.) The
        connections the integration kept alive from before the block are closed as it starts, so this holds from the
        block's first request on."""
        self.proxy.fresh_connections = True
        try:
            yield
        finally:
            self.proxy.fresh_connections = False

    def mark(self) -> int:
        """A position in the exchange record; pass it to ``exchanges_since``."""
        return len(self.proxy.exchanges())

    def exchanges_since(
        self, mark: int, *, method: str | None = None, path_endswith: str | None = None
    ) -> list[Exchange]:
        found = [x for x in self.proxy.exchanges()[mark:] if method is None or x.method == method]
        if path_endswith is not None:
            found = [x for x in found if x.path.endswith(path_endswith)]
        self.evidence.setdefault("exchanges", []).extend(x.to_dict() for x in found)
        return found

    # -- logs -----------------------------------------------------------------------------------------------

    def _programs(self) -> list[ProgramIntegration]:
        return [i for i in self._integrations if isinstance(i, ProgramIntegration)]

    @contextlib.contextmanager
    def capture_logs(self) -> Iterator[LogCapture]:
        """The integration's log while the block runs: Python logging, then (when the block ends) what each
        ``exec:`` integration wrote to stderr meanwhile, and the spans and log records that reached the OTLP
        receiver (``otlp_settle``: waiting for those still in flight)."""
        handler = _ListHandler(sink := LogCapture(programs=len(self._programs())))
        root = logging.getLogger()
        old_level = root.level
        marks = {id(program): program.stderr.mark() for program in self._programs()}
        otlp_mark = self.otlp.telemetry.mark() if self.otlp is not None else None
        exchanges_mark = len(self.proxy.exchanges(settle=0)) if otlp_mark is not None else 0
        started_ns = time.time_ns()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield sink
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            for program in self._programs():
                program.stderr.settle()
                sink.lines += [LogLine("stderr", text) for text in program.stderr.since(marks.get(id(program), 0))]
            if self.otlp is not None and otlp_mark is not None:
                self._otlp_lines(sink, otlp_mark, exchanges_mark, started_ns)

    def _otlp_lines(self, sink: LogCapture, mark: Any, exchanges_mark: int, started_ns: int) -> None:
        """The spans and log records received since ``mark`` (that happened in the block), after waiting for the
        span of every exchange of the block that carried a sampled ``traceparent`` (``OTLP_SETTLE_S`` at most)."""
        assert self.otlp is not None
        telemetry = self.otlp.telemetry
        exchanges = self.proxy.exchanges(settle=0)[exchanges_mark:]
        expected = {span for x in exchanges if (span := traceparent_span_id(x.header("traceparent")))}
        settled = telemetry.settle(expected, timeout=OTLP_SETTLE_S, quiet_s=OTLP_QUIET_S)
        received = telemetry.since(mark, not_before_ns=started_ns - OTLP_SKEW_NS)
        sink.lines += [LogLine(**record.logged()._asdict()) for record in received]
        if received or expected or (self.otel is not None and (self.otel.replaced or self.otel.kept)):
            self.evidence["otlp"] = {
                "endpoint": self.otlp.endpoint,
                "received": {
                    "spans": sum(isinstance(r, Span) for r in received),
                    "log_records": sum(not isinstance(r, Span) for r in received),
                },
                **settled.to_dict(),
                **({"environment": self.otel.to_dict()} if self.otel is not None else {}),
            }

    def keep_integration_output(self, lines: int = 60) -> None:
        """Put the end of each ``exec:`` integration's stderr in the evidence (the report scrubs secrets). After
        ``close`` the programs have exited and this takes no time; before, it waits for each to go quiet (50 ms)."""
        kept = []
        for program in self._programs():
            program.stderr.settle()
            log = program.stderr
            kept.append(
                {"program": program.name, "lines": log.mark(), "bytes": log.byte_count, "tail": log.tail(lines)}
            )
        if kept:
            self.evidence["integration_stderr"] = kept

    # -- setup through the suite's own client (never faulted) ------------------------------------------------

    def _auth(self) -> Callable[[httpx.Request], httpx.Request]:
        """HTTP Basic with whatever pair is current (the suite follows its own rotations)."""
        store = self.credentials

        def apply(request: httpx.Request) -> httpx.Request:
            pair = store.current
            request.headers["Authorization"] = f"Basic {pair.basic_token()}"
            return request

        return apply

    def target_fault(self, real: str, twin: HarnessError) -> Exception:
        """What the target failing the suite (no answer, a 5xx, too slow) is: against a real target, its own outage
        or slowness — neither the integration's defect nor the suite's — so ``NotVerifiable(real)``, which the
        reason explains; against the twin, the suite's own fault (``twin``: broken)."""
        return twin if self.target.twin else NotVerifiable(real)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            with _suite_traffic():  # what the suite's own client logs is not the integration's log
                return self.api.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self.target_fault(
                f"the target did not answer the suite's setup call {method} {path} ({type(exc).__name__}): "
                f"{TARGET_FAILED}",
                TargetUnavailable(f"the target {self.target.origin} did not answer {method} {path}: {exc}"),
            ) from exc

    def _rate_limited(self, response: httpx.Response, before: int) -> None:
        """The target answered a setup call 429 (``before`` times already). The suite paces its own traffic below
        the run's rate limit, so against the twin that is the suite's fault (broken). A real target's limit is per
        key pair: another client using the same pair (a second CI job, a colleague's run) takes from it too, so
        the suite halves the run's pace (``slow_down``), waits out the answer's Retry-After (at most
        ``_retry_after.CAP_S``, on the real clock) and asks again, recording each wait in the evidence
        (``target_rate_limited_suite``); refused ``OWN_429_RETRIES`` times more, what needed the call is not
        verifiable — nobody's defect."""
        request = response.request
        what, request_id = f"{request.method} {request.url.path}", response.headers.get("x-request-id")
        if self.target.twin:
            raise HarnessError(
                f"the suite's own request {what} was rate limited (429) by the target: the run exceeded the target's "
                "rate limit. Lower rate_limit_per_s or workers in the configuration"
            )
        pace = self._slow_down() if self._slow_down is not None else None
        if before == OWN_429_RETRIES:
            raise NotVerifiable(
                f"the target answered the suite's own setup call {what} with 429 {before + 1} times (last: request "
                f"{request_id}), though the suite waited out each Retry-After and slowed its pace: another client is "
                "using this key pair (a second CI job, a colleague's run) or the target allows less than "
                "rate_limit_per_s. Not a defect of the integration: run it again when the pair is not shared, or "
                "lower rate_limit_per_s"
            )
        wait = min(retry_after_s(response.headers.get("retry-after")), RETRY_AFTER_CAP_S)
        waited: dict[str, Any] = {"call": what, "request_id": request_id, "waited_s": round(wait, 3)}
        if pace is not None:
            waited["pace_per_s"] = round(pace, 3)
        self.evidence.setdefault("target_rate_limited_suite", []).append(waited)
        time.sleep(wait)

    def call(self, method: str, path: str, *, expect: int | tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        """A setup call straight to the target; an unexpected answer is a harness error, but a real target failing
        it on its own (no answer, a 5xx, a body that is not JSON) makes what needed it not verifiable
        (``target_fault``), and a real target's 429 is waited out a few times (``_rate_limited``)."""
        for rate_limited in range(OWN_429_RETRIES + 1):
            response = self._send(method, path, **kwargs)
            if response.status_code != 429:
                break
            self._rate_limited(response, rate_limited)
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected:
            request_id = response.headers.get("x-request-id")
            refused = HarnessError(
                f"setup call {method} {path} answered {response.status_code} (request id {request_id}): "
                f"{response.text[:300]}"
            )
            if response.status_code < 500:
                raise refused
            raise self.target_fault(
                f"the target itself answered the suite's setup call {method} {path} with {response.status_code} "
                f"(request {request_id}): {TARGET_FAILED}",
                refused,
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
            raise self.target_fault(
                f"the target answered the suite's setup call {method} {path} with {response.status_code} and a body "
                f"that is not JSON ({kind}, request {response.headers.get('x-request-id')}): not Bluum's API answering "
                "it (a proxy's or firewall's page?); run it again once the target answers as the API",
                HarnessError(
                    f"setup call {method} {path} answered {response.status_code} with a body that is not JSON: "
                    f"{response.text[:300]}"
                ),
            ) from None

    def sandbox(self, method: str, path: str, **kwargs: Any) -> Any:
        """A sandbox control of the twin (``/_sandbox``); NotVerifiable against a real environment."""
        if not self.target.twin:
            raise NotVerifiable("this check needs the twin's sandbox controls; it runs in twin mode only")
        return self.call(method, f"{self.target.origin}/_sandbox{path}", **kwargs)

    def register_webhook(self, url: str) -> str:
        """Register ``url`` at the target for every event type, as Bluum's dashboard would; the secret it issues
        becomes the integration's (``webhook_secret``); the webhook is deleted when the harness closes. Returns
        its id (recorded in the evidence with the URL)."""
        hook = self.call("POST", "/webhooks", json={"url": url, "eventTypeNames": ["*"], "name": "bluum-readiness"})
        self.webhook_secret.set(hook["secret"])
        self.on_close(lambda: self.call("DELETE", f"/webhooks/{hook['id']}", expect=(200, 204, 404)))
        self.evidence["webhook"] = {"id": hook["id"], "url": url}
        hook_id: str = hook["id"]
        return hook_id

    @property
    def poll_interval(self) -> float:
        """How often waits on the target probe it: ``LOCAL_POLL_S`` for the twin, ``POLL_S`` for a real one."""
        return LOCAL_POLL_S if self.target.twin else POLL_S

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float | None = None) -> Any:
        """Poll ``probe`` (the target's state, read with ``call``) until it is truthy, and return its value; too late
        is ``target_fault`` (against a real target, not verifiable, naming the setting to raise)."""
        limit = timeout or self.thresholds.settle_timeout_s
        result = poll(probe, bool, limit, self.poll_interval)
        if not result:
            raise self.target_fault(
                f"the target did not show {what} within {limit:g} s: {SLOW_TARGET}",
                HarnessError(f"timed out waiting for {what}"),
            )
        return result

    def active_investor(self) -> str:
        investor_id: str = self.call("POST", "/investors", json=investor_profile())["id"]
        self.wait_for(
            f"investor {investor_id} to become active",
            lambda: self.call("GET", f"/investors/{investor_id}")["status"] == "active",
        )
        return investor_id

    def linked_bank(self, investor_id: str) -> str:
        sources = self.call("POST", f"/investors/{investor_id}/funding-sources/connect", json=plaid_bank())
        source_id: str = sources["data"][0]["id"]
        return source_id

    def funded_investor(self, amount: str = "100000.00") -> tuple[str, str]:
        """An active investor with a linked bank and ``amount`` of settled cash: (investor_id, funding_source_id)."""
        investor_id = self.active_investor()
        source_id = self.linked_bank(investor_id)
        body = {"amount": amount, "currency": "USD", "method": "ach", "funding_source_id": source_id}
        headers = {"Idempotency-Key": f"suite-{uuid.uuid4()}"}
        deposit = self.call("POST", f"/investors/{investor_id}/deposits", json=body, headers=headers)
        self.wait_for(
            f"setup deposit {deposit['id']} to complete",
            lambda: self.call("GET", f"/investors/{investor_id}/deposits/{deposit['id']}")["status"] == "completed",
        )
        return investor_id, source_id

    def close(self) -> None:
        """Run the cleanups, then close the integrations (an ``exec:`` program exits: its stderr is then complete,
        so ``keep_integration_output`` need not wait for it to go quiet). Each cleanup and integration is closed
        once: closing again closes only what came since."""
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        opened, self._closed_up_to = self._integrations[self._closed_up_to :], len(self._integrations)
        for integration in opened:
            close = getattr(integration, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()
        self.api.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
