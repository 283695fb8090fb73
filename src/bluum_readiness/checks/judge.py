"""Judges: pure functions from observations to a verdict, one per check.

A judge declares the facts it needs (``"scenario.fact"``) and gets exactly those (``Facts``); it returns ``None``
(passed), a ``Finding`` (failed, with its cause from the catalogue), or ``Unjudged`` (not verifiable, with the
reason). A needed fact that its scenario could not obtain makes the check not verifiable with the scenario's
reason *before* the judge runs — no judge can pass on a fact it did not get. Register with ``judged``::

    @judged("error-handling.429-retry-after", item=ITEM, title="Retry-After is honoured", needs=("retry-after.probe",))
    def honours_retry_after(facts: Facts) -> Verdict:
        probe: Probe = facts["retry-after.probe"]
        ...

``Finding.failure`` is the one constructor of a ``ConformanceFailure`` for judged checks: expected, observed, the
fix (language-neutral, with a hint in the integration's language when the suite knows it), the cause, and the
exchanges that show it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bluum_readiness.catalog import cause as catalogued_cause
from bluum_readiness.checks.observation import (
    BASE_URL_IGNORED,
    SCENARIOS,
    TARGET_RATE_LIMITED,
    TARGET_TOO_SLOW,
    Observation,
    iter_facts,
)
from bluum_readiness.checks.registry import Check, registry
from bluum_readiness.failures import ConformanceFailure, NotVerifiable, Severity, hidden_for_findings
from bluum_readiness.proxy.recorder import Exchange

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

__all__ = ["Facts", "Finding", "Fix", "Judge", "Passed", "Unjudged", "Verdict", "failure", "judge", "judged"]

LANGUAGE_NAMES = {"python": "Python", "node": "Node", "typescript": "TypeScript", "go": "Go", "java": "Java"}


@dataclass(frozen=True)
class Fix:
    """How to fix a finding, for any language (``text``), with a hint per language (``python``, ``node``,
    ``typescript`` — which falls back to ``node`` —, ``go``, ``java``) shown when the integration's is known."""

    text: str
    hints: Mapping[str, str] = field(default_factory=dict)

    def render(self, language: str | None) -> str:
        hint = self.hints.get(language or "") or (self.hints.get("node") if language == "typescript" else None)
        if not hint or language is None:
            return self.text
        return f"{self.text} ({LANGUAGE_NAMES.get(language, language)}: {hint})"


@dataclass(frozen=True)
class Finding:
    """A judge's "failed": what a ready integration does, what this one did, how to fix it, and why (``cause``, an
    id of the cause catalogue; "" only for a check that cannot name one). ``exchanges`` are the ones that show it;
    ``evidence`` anything else worth keeping."""

    cause: str
    expected: str
    observed: str
    fix: Fix | str
    exchanges: Sequence[Exchange] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def failure(self, language: str | None = None) -> ConformanceFailure:
        """The ``ConformanceFailure`` every output reads. ``exchanges``, when given, replace the check's recorded ones
        in its evidence (the transcript shows what the finding is about)."""
        fix = self.fix.render(language) if isinstance(self.fix, Fix) else self.fix
        if self.cause:
            catalogued_cause(self.cause)  # an unknown cause is a bug in the judge, found by the first test that fails
        shown = {"exchanges": [x.to_dict() for x in self.exchanges]} if self.exchanges else {}
        return ConformanceFailure(
            expected=self.expected,
            observed=self.observed,
            fix=fix,
            evidence={**shown, **self.evidence},
            cause=self.cause,
        )


def failure(
    *,
    expected: str,
    observed: str,
    fix: Fix | str = "",
    cause: str = "",
    exchanges: Sequence[Exchange] = (),
    evidence: Mapping[str, Any] | None = None,
) -> ConformanceFailure:
    """A finding of a check that drives and judges in one function (the items not yet split into scenarios and
    judges): the same constructor as a judge's ``Finding``."""
    return Finding(cause, expected, observed, fix, exchanges, evidence or {}).failure()


@dataclass(frozen=True)
class Passed:
    """A judge's "passed" that keeps what it matched as evidence (the lines that logged each exchange, say); a judge
    with nothing to show returns None."""

    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unjudged:
    """A judge's "not verifiable": it had its facts, and they do not allow a verdict (the reason says why)."""

    reason: str


Verdict = Finding | Unjudged | Passed | None


class Facts:
    """The facts a judge declared, by ``"scenario.fact"`` (a fact it only ``uses`` is None when its scenario could not
    obtain it, and ``why`` says why); reading one it did not declare is a bug (KeyError)."""

    def __init__(
        self, values: Mapping[str, Any], language: str | None = None, unseen: Mapping[str, str] | None = None
    ) -> None:
        self._values = dict(values)
        self.language = language
        self._unseen = dict(unseen or {})

    def why(self, use: str) -> str:
        """Why the fact ``use`` (one the judge ``uses``) could not be obtained; "" when it was."""
        self[use]
        return self._unseen.get(use, "")

    def __getitem__(self, need: str) -> Any:
        if need not in self._values:
            raise KeyError(f"the judge did not declare the fact {need!r} (add it to needs=)")
        return self._values[need]


@dataclass(frozen=True)
class Judge:
    """A registered judge: the check it decides, the facts it needs (missing: not verifiable), those it only uses
    when they exist (missing: None — ``request_log()`` where log lines also do), and the pure function."""

    check: str
    needs: tuple[str, ...]
    decide: Callable[[Facts], Verdict]
    uses: tuple[str, ...] = ()

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for name, _ in iter_facts(self.needs + self.uses)))


def judge(spec: Judge, observations: Mapping[str, Observation], language: str | None = None) -> Verdict:
    """The verdict of ``spec`` on ``observations`` (by scenario name): failed when an operation of a scenario it
    reads never reached the target (``_base_url_ignored``); not verifiable, with the scenario's reason, when a needed
    fact is missing; else what the judge decides."""
    ignored = _base_url_ignored(spec, observations)
    if ignored is not None:
        return ignored
    values: dict[str, Any] = {}
    for need, (name, fact) in zip(spec.needs, iter_facts(spec.needs), strict=True):
        observation = observations.get(name)
        if observation is None:
            return Unjudged(f"the scenario {name!r} was not observed")
        if fact not in observation.facts:
            return Unjudged(observation.missing.get(fact) or f"the scenario {name!r} did not observe {fact!r}")
        values[need] = observation.facts[fact]
    unseen: dict[str, str] = {}
    for use, (name, fact) in zip(spec.uses, iter_facts(spec.uses), strict=True):
        observation = observations.get(name)
        values[use] = observation.facts.get(fact) if observation is not None else None
        if observation is None:
            unseen[use] = f"the scenario {name!r} was not observed"
        elif fact not in observation.facts:
            unseen[use] = observation.missing.get(fact) or f"the scenario {name!r} did not observe {fact!r}"
    verdict = spec.decide(Facts(values, language, unseen))
    if isinstance(verdict, Finding):
        interfered = _target_interfered([o for o in observations.values() if o is not None], verdict.exchanges)
        if interfered:
            return Unjudged(
                f"{interfered}. What the suite saw may come from the target, not the integration ({verdict.observed})"
            )
    return verdict


BASE_URL_FIX = Fix(
    "send every Bluum call to the base URL the suite gives the integration (IntegrationEnv.base_url; "
    "BLUUM_API_BASE_URL for a program), and return an operation's result only once Bluum answered it",
    {
        "python": "httpx.Client(base_url=env.base_url) built from the IntegrationEnv the factory receives",
        "node": "new URL(path, process.env.BLUUM_API_BASE_URL) for every fetch",
        "go": 'os.Getenv("BLUUM_API_BASE_URL") as the client\'s base URL',
        "java": 'URI.create(System.getenv("BLUUM_API_BASE_URL") + path)',
    },
)


def _base_url_ignored(spec: Judge, observations: Mapping[str, Observation]) -> Finding | None:
    """A finding when an operation of a scenario the judge reads succeeded without any request to the suite's proxy
    (``BASE_URL_IGNORED``): whatever the check is about, it was not done through the API it judges."""
    for name, _ in iter_facts(spec.needs + spec.uses):
        observation = observations.get(name)
        what = observation.evidence.get(BASE_URL_IGNORED) if observation is not None else None
        if what:
            return Finding(
                "operation-not-performed",
                "every operation sent to Bluum through the base URL the suite gives the integration",
                str(what),
                BASE_URL_FIX,
            )
    return None


def _target_interfered(observations: Sequence[Observation], shown: Sequence[Exchange] = ()) -> str:
    """How a real target itself got in the way of the integration's requests in these observations (recorded by
    ``Scenario.observe`` only against a real target), or "". ``shown``: the exchanges a finding is about; when
    there are some, only a request among them counts (a refusal elsewhere in the scenario does not hide it)."""
    about = {x.seq for x in shown}

    def among(key: str) -> list[dict[str, Any]]:
        found = [r for o in observations for r in o.evidence.get(key, ())]
        return [r for r in found if r.get("seq") in about] if about else found

    refused = among(TARGET_RATE_LIMITED)
    if refused:
        return (
            f"the target itself answered {len(refused)} of the integration's requests 429 (first: "
            f"{refused[0]['call']}, request {refused[0]['request_id']}) although the suite kept the run under "
            "rate_limit_per_s: another client is using this key pair (a second CI job, a colleague's run); run it "
            "again when the pair is not shared"
        )
    slow = among(TARGET_TOO_SLOW)
    if slow:
        return (
            f"the target itself took longer to answer {len(slow)} of the integration's requests than the integration "
            f"waited (first: {slow[0]['call']}, {slow[0]['waited_ms']:.0f} ms; no fault of the suite's applied): a "
            "target slower than the request timeout the suite gives the integration ([thresholds] request_timeout_s), "
            "not a defect of the integration; run it again when the target is faster, or raise the setting"
        )
    return ""


def _run(spec: Judge) -> Callable[[Harness], None]:
    def run(h: Harness) -> None:
        __tracebackhide__ = hidden_for_findings
        observations = {name: h.observe(SCENARIOS[name], reader=spec.check) for name in spec.scenarios}
        verdict = judge(spec, observations, h.language)
        if isinstance(verdict, Unjudged):
            raise NotVerifiable(verdict.reason)
        if isinstance(verdict, Finding):
            raise verdict.failure(h.language)
        if isinstance(verdict, Passed):
            h.evidence.update(verdict.evidence)

    return run


def judged(
    check_id: str,
    *,
    item: str,
    title: str,
    needs: tuple[str, ...],
    uses: tuple[str, ...] = (),
    severity: Severity = Severity.REQUIRED,
    twin_only: bool = False,
    static: bool = False,
    requires: tuple[str, ...] = (),
) -> Callable[[Callable[[Facts], Verdict]], Judge]:
    """Register the decorated pure function as the judge of the check ``check_id`` over the facts ``needs`` (and,
    when they exist, ``uses``). ``requires``: the optional adapter capabilities the check is about (``Check.needs``:
    a check that requires ``webhook_url`` is not applicable when the team declares it uses no webhooks
    (``[webhooks] used = false``); ``alerts``: ``alerts()`` or the team's alerting pipeline, ``[alerts]``)."""

    def decorate(decide: Callable[[Facts], Verdict]) -> Judge:
        for name, fact in iter_facts(needs + uses):
            known = SCENARIOS.get(name)
            if known is None or fact not in known.facts:
                raise ValueError(f"{check_id} needs {name}.{fact}, which no registered scenario promises")
        spec = Judge(check_id, needs, decide, uses)
        registry.register(
            Check(
                check_id,
                item,
                title,
                _run(spec),
                severity,
                needs=requires,
                twin_only=twin_only,
                judge=spec,
                static=static,
            )
        )
        return spec

    return decorate
