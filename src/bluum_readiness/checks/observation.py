"""Observations: what one scenario saw of the integration, as a typed, serialisable record.

A *scenario* drives the integration once — the backoff trials, the timeout probe, a fault storm on deposits —
through a ``Scene``, which owns the plumbing every check used to repeat: a fresh integration, the harness's clock,
the proxy's fault plan, the exchanges and the evidence. It records *facts*: each a value under a name the scenario
declares, or, for a fact it could not obtain, *why* (a capability missing, a real target, the operation failed
first). Judges (``checks/judge.py``) read facts, never the integration, so a judge whose fact is missing is not
verifiable by construction.

Register a scenario with the facts it promises::

    @scenario("retry-after", facts=("probe",))
    def retry_after(s: Scene) -> None:
        investor = s.h.active_investor()
        s.fact("probe", s.probe("kyc_status()", lambda i: i.kyc_status(investor), rule, method="GET"))

A fact the scenario neither recorded nor declared missing is missing ("the scenario ended before observing it"):
an observation never claims more than it saw. Facts are plain data (``Probe``, ``Outcome``, ``LogLine``, JSON
values), so observations recorded from real runs serve as fixtures for fast tests of the judges
(``Observation.to_dict`` / ``from_dict``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bluum_readiness.calling import Call
from bluum_readiness.checks._support import BaseUrlIgnored, require_traffic, waits
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import LogLine, json_like
from bluum_readiness.integration import describe_failure
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

__all__ = ["SCENARIOS", "Observation", "Outcome", "Probe", "Scenario", "Scene", "scenario"]

RETURNED, RAISED, UNFINISHED = "returned", "raised", "unfinished"


@dataclass(frozen=True)
class Outcome:
    """What one operation of the integration did: returned (``result``, its repr), raised (``error``: what the suite
    read from the exception — type, message, code, status, request id), or had not returned in time."""

    kind: str
    result: str | None = None
    error: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, outcome: Call) -> Outcome:
        if not outcome.finished:
            return cls(UNFINISHED)
        if outcome.error is not None:
            info = describe_failure(outcome.error)
            return cls(RAISED, error={k: v if json_like(v) else repr(v) for k, v in info.items()})
        return cls(RETURNED, result=repr(outcome.result))

    @property
    def ok(self) -> bool:
        return self.kind == RETURNED

    @property
    def finished(self) -> bool:
        return self.kind != UNFINISHED

    def describe(self) -> str:
        """Reads after "the call" or an operation's name: "raised CallFailed: 503 …", "returned 'dep_1'"."""
        if self.kind == UNFINISHED:
            return "had not returned when the suite gave up waiting"
        if self.kind == RAISED:
            error = self.error or {}
            return f"raised {error.get('exception', 'an exception')}: {error.get('message', '')}"
        return f"returned {self.result}"


@dataclass(frozen=True)
class Probe:
    """One operation of the integration under a fault plan: what it did, and its attempts as the proxy saw them
    (oldest first). ``elapsed_s``: from the call to its return, on the harness's clock (None: it never returned)."""

    operation: str
    outcome: Outcome
    attempts: tuple[Exchange, ...]
    elapsed_s: float | None = None

    @property
    def count(self) -> int:
        return len(self.attempts)

    @property
    def waits_s(self) -> list[float]:
        """Seconds between the end of each attempt and the start of the next."""
        return waits(self.attempts)

    def attempts_text(self) -> str:
        """ "1 attempt", "3 attempts"."""
        return f"{self.count} attempt{'s' if self.count != 1 else ''}"


# -- (de)serialising facts --------------------------------------------------------------------------------------

_TYPES: dict[str, type[Any]] = {"Probe": Probe, "Outcome": Outcome, "LogLine": LogLine, "Exchange": Exchange}


def encode(value: Any) -> Any:
    """A fact as JSON: the dataclasses of ``_TYPES`` tagged with their name, containers element by element."""
    if isinstance(value, Exchange):
        return {"__type__": "Exchange", **value.to_dict()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and type(value).__name__ in _TYPES:
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The inverse of ``encode`` (tuples come back where the dataclasses declare them)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__type__")
    data = {k: v for k, v in value.items() if k != "__type__"}
    if kind == "Exchange":
        return Exchange.from_dict(data)
    if kind in _TYPES:
        made = {k: decode(v) for k, v in data.items()}
        if kind == "Probe":
            made["attempts"] = tuple(made["attempts"])
        return _TYPES[kind](**made)
    return {k: decode(v) for k, v in data.items()}


# -- observations ------------------------------------------------------------------------------------------------


@dataclass
class Observation:
    """What one scenario saw: ``facts`` by name, and for each declared fact it could not obtain, why (``missing``).
    ``evidence`` is what the report shows of it (its exchanges, fault plans, charts' data): never a secret."""

    scenario: str
    facts: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "facts": encode(self.facts),
            "missing": dict(self.missing),
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        return cls(data["scenario"], decode(data["facts"]), dict(data["missing"]), dict(data.get("evidence", {})))

    def without(self, fact: str, why: str = "removed") -> Observation:
        """The same observation with ``fact`` missing (the judges' meta-test)."""
        facts = {k: v for k, v in self.facts.items() if k != fact}
        return Observation(self.scenario, facts, {**self.missing, fact: why}, self.evidence)


class Scene:
    """A scenario's hands: the harness (``h``, for set-up through the suite's own client), one integration made on
    first use, and the plumbing — ``probe`` runs an operation under fault rules on the harness's clock and records
    its attempts; ``fact`` and ``missing`` record what was seen and what could not be."""

    def __init__(self, h: Harness, observation: Observation, declared: tuple[str, ...]) -> None:
        self.h = h
        self.observation = observation
        self._declared = declared
        self._integration: Any = None

    @property
    def integration(self) -> Any:
        if self._integration is None:
            self._integration = self.h.integration()
        return self._integration

    @property
    def thresholds(self) -> Any:
        return self.h.thresholds

    def fact(self, name: str, value: Any) -> Any:
        """Record what was seen as ``name``. A ``Probe`` in it that sent no request saw nothing of what the fault
        would show: the fact is missing instead, with why."""
        self._check(name)
        silent = next((p for p in _probes(value) if not p.attempts), None)
        if silent is not None:
            why = f"{silent.operation} sent no request ({silent.outcome.describe()}), so what it does could not be seen"
            self.missing(name, why)
            return value
        self.observation.facts[name] = value
        self.observation.missing.pop(name, None)
        return value

    def missing(self, names: str | Sequence[str], why: str) -> None:
        """The facts ``names`` could not be obtained, and why (the judges that need them say it)."""
        for name in [names] if isinstance(names, str) else names:
            self._check(name)
            if name not in self.observation.facts:
                self.observation.missing.setdefault(name, why)

    def unobserved(self) -> list[str]:
        """The declared facts not recorded yet (neither seen nor declared missing)."""
        return [n for n in self._declared if n not in self.observation.facts and n not in self.observation.missing]

    def _check(self, name: str) -> None:
        if name not in self._declared:
            raise KeyError(f"scenario {self.observation.scenario!r} does not declare a fact {name!r}")

    def evidence(self, name: str, value: Any) -> None:
        """Something the report shows (a chart's data, a summary): JSON-safe, never a secret."""
        self.observation.evidence[name] = value

    def probe(
        self,
        operation: str,
        run: Callable[[Any], Any],
        *rules: FaultRule,
        method: str | None = None,
        path_endswith: str | None = None,
        timeout: float = 30.0,
        most: int | None = None,
    ) -> Probe:
        """``run(integration)`` under ``rules``, bounded by ``timeout`` (the harness's clock) and, with ``most``,
        until more than ``most`` attempts were made; its attempts are the exchanges that match ``method`` and
        ``path_endswith``. An operation that succeeded without any request ignored ``IntegrationEnv.base_url``."""
        integration = self.integration
        h = self.h
        mark = h.mark()

        def too_many() -> bool:
            return most is not None and len(h.proxy.exchanges(settle=0)[mark:]) > most

        began = h.clock()
        with h.faults(*rules):
            outcome = h.invoke(lambda: run(integration), timeout=timeout, give_up=too_many)
            elapsed = h.clock() - began
        attempts = sorted(h.exchanges_since(mark, method=method, path_endswith=path_endswith), key=lambda x: x.seq)
        require_traffic(attempts, outcome, operation)
        return Probe(operation, Outcome.of(outcome), tuple(attempts), elapsed if outcome.finished else None)

    def capture_logs(self) -> Any:
        """The integration's log while the block runs (``Harness.capture_logs``)."""
        return self.h.capture_logs()


def _probes(value: Any) -> Iterator[Probe]:
    if isinstance(value, Probe):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _probes(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _probes(inner)


@dataclass(frozen=True)
class Scenario:
    """A registered scenario: its name, the facts it promises, and the function that drives the integration."""

    name: str
    facts: tuple[str, ...]
    drive: Callable[[Scene], None]
    twin_only: bool = False
    side_by_side: bool = False

    def observe(self, h: Harness) -> Observation:
        """Drive the integration once and return what was seen. ``NotVerifiable`` raised while driving (a sandbox
        control against a real target, a capability missing) makes every fact not yet seen missing for that
        reason; a harness problem (``HarnessError``) propagates: it is the suite's, not the integration's."""
        observation = Observation(self.name)
        scene = Scene(h, observation, self.facts)
        if self.twin_only and not h.target.twin:
            scene.missing(self.facts, "it needs the twin's sandbox controls; it runs in twin mode only")
            return observation
        real = not h.target.twin
        mark = len(h.proxy.exchanges(settle=0)) if real else 0
        with h.recording(observation.evidence):
            try:
                self.drive(scene)
            except NotVerifiable as exc:
                scene.missing(scene.unobserved(), exc.reason)
            except BaseUrlIgnored as exc:  # the integration's defect: the checks reading this scenario fail on it
                observation.evidence[BASE_URL_IGNORED] = str(exc)
                scene.missing(scene.unobserved(), str(exc))
        scene.missing(scene.unobserved(), "the scenario ended before observing it")
        if real:
            since = h.proxy.exchanges(settle=0)[mark:]
            refused = [x for x in since if x.upstream_status == 429]
            if refused:
                observation.evidence[TARGET_RATE_LIMITED] = [
                    {"call": f"{x.method} {x.path}", "request_id": x.request_id, "seq": x.seq} for x in refused
                ]
            slow_ms = h.thresholds.request_timeout_s * 1000  # what the target took, not when the client gave up
            unanswered = [x for x in since if x.fault is None and x.status is None and x.duration_ms >= slow_ms]
            if unanswered:
                observation.evidence[TARGET_TOO_SLOW] = [
                    {"call": f"{x.method} {x.path}", "waited_ms": x.duration_ms, "seq": x.seq} for x in unanswered
                ]
        return observation


BASE_URL_IGNORED = "base_url_ignored"
"""The evidence key under which an observation keeps what an operation of the integration did without sending any
request to the suite's proxy (``_support.BaseUrlIgnored``): every check that reads the scenario fails on it."""

TARGET_RATE_LIMITED = "target_rate_limited_integration"
"""The evidence key under which an observation against a real target lists the integration's requests the target
itself answered 429 (no fault of the suite's: the proxy kept the run under the limit, so another client shares the
key pair's). A finding judged on it is not verifiable (``judge.judge``): the refusals, not the integration, may be
what the judge saw."""

TARGET_TOO_SLOW = "target_too_slow"
"""The evidence key under which an observation against a real target lists the integration's requests, no fault of
the suite's applied, that it gave up on before the target's answer reached it, and that the target took longer than
the request timeout the suite gives (``request_timeout_s``) to answer: the target's slowness. (Gave up sooner, on
its own shorter timeout, is the integration's doing.) A finding judged on it is not verifiable, as for
``TARGET_RATE_LIMITED``."""

SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, *, facts: tuple[str, ...], twin_only: bool = False, side_by_side: bool = False
) -> Callable[[Callable[[Scene], None]], Scenario]:
    """Register the decorated function as the scenario ``name`` that records ``facts``.

    ``side_by_side=True`` says the scenario may be observed at the same time as others (``suite/prelude.py``): it
    mostly *waits* (a withheld response, ``Retry-After``, a request timeout), works on its own investor through its
    own fault rules, judges no statistics of its timings (a wait that only grows under load cannot pass wrongly),
    reads no log and changes nothing the other checks share (credentials, webhooks, the twin's settings).
    """

    def decorate(drive: Callable[[Scene], None]) -> Scenario:
        if name in SCENARIOS:
            raise ValueError(f"a scenario named {name!r} is already registered")
        SCENARIOS[name] = made = Scenario(name, facts, drive, twin_only, side_by_side)
        return made

    return decorate


def iter_facts(needs: Sequence[str]) -> Iterator[tuple[str, str]]:
    """("scenario", "fact") for each "scenario.fact" need."""
    for need in needs:
        name, _, fact = need.partition(".")
        yield name, fact
