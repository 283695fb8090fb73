"""``lifecycle.error-paths``: every error path the journey can meet, provoked through the integration; each refusal
must surface as an exception, refused for the reason the path provokes (its status and BLUM code)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bluum_readiness.checks._support import refusal_cause, target_outage
from bluum_readiness.checks.judge import Facts, Finding, Passed, Unjudged, Verdict, judged
from bluum_readiness.checks.lifecycle._shared import ITEM, order_body, price_of
from bluum_readiness.checks.observation import RAISED, Outcome, Probe, Scene, scenario
from bluum_readiness.harness import TARGET_FAILED, json_like, poll
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.testing import investor_profile, manual_bank

_BLUM_CODE = re.compile(r"\bBLUM-(\d{3})-\d{3}\b")


@dataclass(frozen=True)
class _Refusal:
    """Why Bluum refuses one error path: the status and the codes of that reason (Bluum's catalogue, §2.2 of
    the API research; the twin's is ``twin/errors.py``). ``local`` says a local validation error — raised before
    anything was sent — counts too (bad input the integration can see for itself)."""

    status: int
    codes: tuple[str, ...]
    reason: str
    local: bool = False

    def __str__(self) -> str:
        return f"{self.status} {' or '.join(self.codes)} ({self.reason})"


NO_BUYING_POWER = _Refusal(422, ("BLUM-422-001",), "insufficient funds")
NO_CASH = _Refusal(422, ("BLUM-422-001", "BLUM-422-005"), "insufficient funds or withdrawal limit")
UNKNOWN_SYMBOL = _Refusal(404, ("BLUM-404-003",), "asset not found")
NOT_TRADABLE = _Refusal(422, ("BLUM-422-003",), "asset not tradable")
BAD_AMOUNT = _Refusal(400, ("BLUM-400-005", "BLUM-400-003", "BLUM-400-001"), "invalid amount", local=True)
NOT_APPROVED = _Refusal(403, ("BLUM-403-002", "BLUM-403-004"), "account not approved")


@dataclass(frozen=True)
class _Refused:
    """What an operation was refused with: from its exception (``describe_failure``: ``code``, ``status`` or
    ``status_code``, else a BLUM code in its message), else from the proxy's record of the operation's
    exchanges (the last status ≥ 400; the recorder keeps no bodies, so no code)."""

    status: int | None
    code: str | None
    source: str

    @classmethod
    def read(cls, info: Mapping[str, Any], exchanges: Sequence[Exchange]) -> _Refused:
        """``info``: what the suite read from the operation's exception (``describe_failure``)."""
        code = info.get("code") if isinstance(info.get("code"), str) else None
        found = _BLUM_CODE.search(code or "") or _BLUM_CODE.search(str(info.get("message", "")))
        code = found.group(0) if found else None
        status = next(
            (
                v
                for v in (info.get("status"), info.get("status_code"))
                if isinstance(v, int) and not isinstance(v, bool)
            ),
            None,
        )
        if status is None and found:
            status = int(found.group(1))
        if code is not None or status is not None:
            return cls(status, code, "its exception")
        refused = [x.status for x in exchanges if x.status is not None and x.status >= 400]
        if refused:
            return cls(refused[-1], None, "the proxy's record (its exception carries no code or status)")
        return cls(None, None, "")

    def matches(self, expected: _Refusal) -> bool:
        if self.code is not None:
            return self.code in expected.codes
        return self.status == expected.status

    def __str__(self) -> str:
        return " ".join(str(part) for part in (self.status, self.code) if part is not None)


def _judge_refusal(outcome: Outcome, exchanges: Sequence[Exchange], expected: _Refusal) -> tuple[bool, str]:
    """(refused for the reason the path provokes, what happened) for one error path."""
    if outcome.kind != RAISED or outcome.error is None:
        return False, outcome.describe()
    raised = outcome.describe()
    refused = _Refused.read(outcome.error, exchanges)
    if refused.status is not None:
        if refused.matches(expected):
            return True, raised
        return False, f"refused with {refused} instead of {expected} (read from {refused.source}); the call {raised}"
    if not exchanges:
        if expected.local:
            return True, f"{raised} (a local validation error: nothing was sent)"
        return False, f"{raised} without asking Bluum (nothing was sent), so it was not refused for {expected}"
    answered = ", ".join(str(x.status) if x.status is not None else x.outcome for x in exchanges)
    return False, f"{raised}, but Bluum refused none of its requests (answered {answered}), not {expected}"


@scenario("error-paths", facts=("paths", "unverifiable"))
def _error_paths(s: Scene) -> None:
    """Every error path the journey can meet, provoked through the integration: what each operation did and the
    exchanges it made, with the refusal the path provokes; the paths this target cannot provoke, and why."""
    h = s.h
    integration = s.integration
    twin = h.target.twin
    timeout = h.thresholds.settle_timeout_s + 15
    paths: list[dict[str, Any]] = []
    unverifiable: list[str] = []

    def must_raise(path: str, expected: _Refusal, operation: Callable[[], Any]) -> None:
        mark = h.mark()
        outcome = h.invoke(operation, timeout=timeout)
        attempts = tuple(h.exchanges_since(mark))
        probe = Probe(path, Outcome.of(outcome), attempts)
        paths.append({"path": path, "expected": dataclasses.asdict(expected), "probe": probe})

    def twin_only(path: str) -> bool:
        if not twin:
            unverifiable.append(f"{path}: needs the twin's sandbox controls or test values (real sandbox)")
        return twin

    buy_one = order_body("market", "AAPL", "buy", "1")
    investor, bank = h.funded_investor("1000.00")
    price = price_of(h, "AAPL")
    too_many = str(int(Decimal("1000.00") / price * 10) + 1)
    must_raise(
        "insufficient buying power",
        NO_BUYING_POWER,
        lambda: integration.place_order(investor, order_body("market", "AAPL", "buy", too_many)),
    )
    must_raise("withdrawal above the balance", NO_CASH, lambda: integration.withdraw(investor, bank, "1000000.00"))
    must_raise(
        "unknown symbol", UNKNOWN_SYMBOL, lambda: integration.place_order(investor, {**buy_one, "symbol": "ZZZZZ"})
    )
    if twin_only("non-tradable symbol"):
        must_raise(
            "non-tradable symbol",
            NOT_TRADABLE,
            lambda: integration.place_order(investor, {**buy_one, "symbol": "TWTR"}),
        )
    must_raise("invalid amount '-5' (deposit)", BAD_AMOUNT, lambda: integration.deposit(investor, bank, "-5"))
    must_raise("invalid amount 'abc' (deposit)", BAD_AMOUNT, lambda: integration.deposit(investor, bank, "abc"))
    must_raise("invalid amount '-5' (withdrawal)", BAD_AMOUNT, lambda: integration.withdraw(investor, bank, "-5"))

    # Trading before funds settle: the only money is a manual bank transfer still pending at the target.
    unsettled = h.active_investor()
    manual = h.call("POST", f"/investors/{unsettled}/funding-sources/connect", json=manual_bank())
    manual_id = manual["id"] if "id" in manual else manual["data"][0]["id"]
    body = {"amount": "5000.00", "currency": "USD", "method": "manual_bank_transfer", "funding_source_id": manual_id}
    pending = h.call(
        "POST",
        f"/investors/{unsettled}/deposits",
        json=body,
        headers={"Idempotency-Key": f"suite-{h.rng.getrandbits(128):032x}"},
    )
    must_raise("trading before funds settle", NO_BUYING_POWER, lambda: integration.place_order(unsettled, buy_one))
    status = h.call("GET", f"/investors/{unsettled}/deposits/{pending['id']}")["status"]
    if status != "pending":
        paths.pop()
        unverifiable.append(f"trading before funds settle: the manual deposit was {status!r}, not pending")
    elif not twin:
        h.call("POST", f"/investors/{unsettled}/deposits/{pending['id']}/cancel", json={}, expect=(200, 201, 409))

    # KYC declined (twin test value tax_id 999-99-9999): reported as such, and trading refused.
    if twin_only("KYC rejected"):
        outcome = h.invoke(lambda: integration.create_investor(investor_profile(tax_id="999-99-9999")), timeout=timeout)
        declined = outcome.result if outcome.ok and isinstance(outcome.result, str) else None
        if declined is None:
            paths.append({"path": "KYC rejected", "created": f"create_investor() {outcome.describe()}"})
        else:
            last = poll(
                lambda: h.invoke(lambda: integration.kyc_status(declined)).result,
                lambda s: s == "declined",
                h.thresholds.settle_timeout_s,
            )
            paths.append({"path": "KYC rejected (status)", "reported": last if json_like(last) else repr(last)})
            must_raise("KYC rejected (order)", NOT_APPROVED, lambda: integration.place_order(declined, buy_one))

    # Trading before KYC approval: the funded investor is put back under review (twin control).
    if twin_only("trading before KYC approval"):
        h.sandbox("POST", f"/investors/{investor}/kyc", json={"status": "under_review"})
        must_raise("trading before KYC approval", NOT_APPROVED, lambda: integration.place_order(investor, buy_one))
    s.fact("paths", paths)
    s.fact("unverifiable", unverifiable)


def _path_result(path: dict[str, Any]) -> dict[str, Any]:
    """One error path judged: surfaced (refused for its reason), what happened, and the cause it shows."""
    if "created" in path:
        return {"path": path["path"], "surfaced": False, "observed": path["created"]}
    if "reported" in path:
        reported = path["reported"]
        return {
            "path": path["path"],
            "surfaced": reported == "declined",
            "observed": f"kyc_status() reported {reported!r}",
        }
    expected = _Refusal(
        path["expected"]["status"],
        tuple(path["expected"]["codes"]),
        path["expected"]["reason"],
        path["expected"]["local"],
    )
    probe: Probe = path["probe"]
    outage = target_outage(probe.attempts)
    if outage is not None:
        return {
            "path": path["path"],
            "surfaced": False,
            "target_failed": True,
            "expected": str(expected),
            "observed": f"the target itself answered {outage.status} (request {outage.request_id}) to its last request",
        }
    surfaced, observed = _judge_refusal(probe.outcome, probe.attempts, expected)
    return {
        "path": path["path"],
        "surfaced": surfaced,
        "expected": str(expected),
        "observed": observed,
        "cause": _refusal_shows(probe),
    }


def _refusal_shows(probe: Probe) -> str:
    """The cause one error path shows: the refusal's own (``refusal_cause``), or ``failure-swallowed`` when the
    operation returned although Bluum's last answer to it was a refusal (a 4xx it turned into a value; one it
    answered after a 4xx, once accepted, is not a refusal swallowed)."""
    if probe.outcome.ok:
        answered = [x.status for x in probe.attempts if x.status is not None]
        return "failure-swallowed" if answered and 400 <= answered[-1] < 500 else ""
    return refusal_cause(probe.outcome.error)


@judged(
    "lifecycle.error-paths",
    item=ITEM,
    title="Refusals surface as errors, each for the reason it provokes",
    needs=("error-paths.paths", "error-paths.unverifiable"),
)
def error_paths(facts: Facts) -> Verdict:
    results = [_path_result(path) for path in facts["error-paths.paths"]]
    unverifiable: list[str] = facts["error-paths.unverifiable"]
    evidence = {"error_paths": results, **({"not_verifiable": unverifiable} if unverifiable else {})}
    # a path the target itself failed (a 5xx: these paths meet no fault of the suite's) shows nothing of the
    # integration, which surfacing it does right
    outages = [r for r in results if r.get("target_failed")]
    silent = [r for r in results if not r["surfaced"] and not r.get("target_failed")]
    if not silent and outages:
        return Unjudged(
            "the target itself failed where Bluum should have refused — "
            + "; ".join(f"{r['path']}: {r['observed']}" for r in outages)
            + f" — {TARGET_FAILED}"
        )
    if not silent:
        return Passed(evidence)
    causes = {r.get("cause", "") for r in silent}
    return Finding(
        causes.pop() if len(causes) == 1 else "",
        "every refusal by Bluum to surface to the caller as an exception (or, for bad input, a local validation "
        "error), refused for the reason the path provokes (its status and BLUM code)",
        "; ".join(f"{r['path']}: {r['observed']}" for r in silent),
        "send each request as documented (e.g. an Idempotency-Key on every deposit and withdrawal) so Bluum judges "
        "what was asked, and raise on every 4xx with Bluum's code, status and X-Request-Id; never return an empty or "
        'default value in its place (None, null, nil, "")',
        evidence={"paths": results, "not_verifiable": unverifiable},
    )
