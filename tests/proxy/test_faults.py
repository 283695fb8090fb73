"""Each fault alone (no placement): what it returns and whether it forwards; the registry of kinds."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy import (
    FAULTS,
    Abort,
    Close,
    DropAfterFault,
    Fault,
    HangBeforeFault,
    Hold,
    LatencyFault,
    Plan,
    ProxyRequest,
    ResetFault,
    Respond,
    StatusFault,
    WithholdAfterFault,
    make_fault,
)
from bluum_readiness.proxy.faults import Forward, Outcome, kind_of
from bluum_readiness.twin.errors import error_type

UPSTREAM = Respond(201, (("X-Request-Id", "req_up"),), b"{}", upstream=True)


class Upstream:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> Respond:
        self.calls += 1
        return UPSTREAM


def run(fault: Fault) -> tuple[Outcome, int, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    upstream = Upstream()
    outcome = asyncio.run(fault.apply(ProxyRequest("POST", "/v1/x", sleep=sleep), upstream))
    return outcome, upstream.calls, slept


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "BLUM-400-001"), (401, "BLUM-401-003"), (403, "BLUM-403-001"), (404, "BLUM-404-001"),
     (409, "BLUM-409-003"), (422, "BLUM-422-001"), (429, "BLUM-429-001"), (500, "BLUM-500-001"),
     (502, "BLUM-500-017"), (503, "BLUM-500-017"), (504, "BLUM-500-017")],
)  # fmt: skip
def test_status_answers_in_the_bluum_envelope_without_forwarding(status: int, code: str) -> None:
    outcome, calls, _ = run(StatusFault(status))
    assert isinstance(outcome, Respond) and calls == 0 and not outcome.upstream
    assert outcome.status == status
    body = json.loads(outcome.body)
    assert body["error"]["code"] == code and body["error"]["type"] == error_type(code) and body["error"]["message"]
    assert (outcome.header("x-request-id") or "").startswith("req_")
    assert outcome.header("content-type") == "application/json" and outcome.header("retry-after") is None


def test_status_retry_after_code_message_and_headers() -> None:
    fault = StatusFault(429, retry_after=2, message="slow down", headers={"X-RateLimit-Remaining": "0"})
    outcome, _, _ = run(fault)
    assert isinstance(outcome, Respond)
    assert outcome.header("Retry-After") == "2" and outcome.header("x-ratelimit-remaining") == "0"
    assert json.loads(outcome.body)["error"]["message"] == "slow down"
    outcome, _, _ = run(StatusFault(503, retry_after=0.5))
    assert isinstance(outcome, Respond) and outcome.header("retry-after") == "0.5"
    outcome, _, _ = run(StatusFault(401, code="BLUM-401-005"))
    assert isinstance(outcome, Respond) and json.loads(outcome.body)["error"]["code"] == "BLUM-401-005"


def test_latency_sleeps_then_forwards() -> None:
    outcome, calls, slept = run(LatencyFault(0.25))
    assert outcome == UPSTREAM and calls == 1 and slept == [0.25]


@pytest.mark.parametrize(
    ("fault", "expected", "forwarded"),
    [
        (HangBeforeFault(1.5), Hold(1.5), 0),
        (WithholdAfterFault(2.0), Hold(2.0), 1),
        (DropAfterFault(), Close(), 1),
        (ResetFault(), Abort(), 0),
        (ResetFault(after_forward=True), Abort(), 1),
    ],
)
def test_connection_faults(fault: Fault, expected: Outcome, forwarded: int) -> None:
    outcome, calls, slept = run(fault)
    assert outcome == expected and calls == forwarded and slept == []


def test_kinds_by_name() -> None:
    assert FAULTS.names() == ["drop_after", "hang_before", "latency", "reset", "status", "withhold_after"]
    assert make_fault("status", {"status": 503, "retry_after": 3}) == StatusFault(503, retry_after=3.0)
    assert kind_of(WithholdAfterFault()) == "withhold_after"


@dataclass(frozen=True)
class TeapotFault:
    note: str = "short and stout"

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        return Respond(418, body=self.note.encode())


def test_registering_a_custom_fault() -> None:
    FAULTS.register("teapot", TeapotFault)
    assert make_fault("teapot", {"note": "hi"}) == TeapotFault("hi")
    with pytest.raises(ConfigError, match="fault kind 'teapot' is already registered"):
        FAULTS.register("teapot", TeapotFault)


class NotADataclass:
    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        return Close()


@dataclass(frozen=True)
class SyncApply:
    def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        return Close()


@dataclass(frozen=True)
class OddParam:
    when: list[int]

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        return Close()


@dataclass(frozen=True)
class ClashingParam:
    path: str

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        return Close()


@pytest.mark.parametrize(
    ("name", "cls", "message"),
    [
        ("Bad-Name", TeapotFault, "fault kind name 'Bad-Name' is invalid; use lowercase letters, digits and _"),
        ("plain", NotADataclass, "must be a dataclass whose fields are its parameters"),
        ("sync", SyncApply, "needs `async def apply(self, request, forward)`"),
        ("odd", OddParam, "parameter 'when' has type list[int]; use bool, int, float, str"),
        ("clash", ClashingParam, "parameter 'path' is a rule key; rename it"),
    ],
)
def test_registration_is_validated(name: str, cls: type, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FAULTS.register(name, cls)
    assert message in str(caught.value)
    assert name not in FAULTS


def test_the_creating_faults_guide_example_works(tmp_path: Path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "CREATING_FAULTS.md").read_text()
    code = next(b for b in re.findall(r"```python\n(.*?)```", guide, flags=re.S) if "class SlowResponseFault" in b)
    namespace: dict[str, Any] = {}
    exec(compile(code, "CREATING_FAULTS.md", "exec"), namespace)
    FAULTS.register("slow_response", namespace["SlowResponseFault"])
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(re.findall(r"```toml\n(.*?)```", guide, flags=re.S)[0])
    (rule,) = Plan.from_toml(plan_file).rules
    outcome, calls, slept = run(rule.fault)
    assert outcome == UPSTREAM and calls == 1 and slept == [0.5]
