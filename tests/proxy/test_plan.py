"""Plans from TOML and dicts: the shipped example loads; every mistake names the rule and key and the fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy import FaultRule, HangBeforeFault, Plan, StatusFault, WithholdAfterFault

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_example_loads() -> None:
    plan = Plan.from_toml(ROOT / "examples" / "fault-plan.toml")
    assert plan.seed == 7
    assert [r.name for r in plan.rules][:2] == ["deposit-rate-limited", "withdrawal-response-lost"]
    first = plan.rules[0]
    assert first.fault == StatusFault(429, retry_after=1.0)
    assert first.matches("POST", "/v1/investors/inv_1/deposits") and first.first == 2
    assert plan.rules[1].fault == WithholdAfterFault(30.0)


def test_every_toml_block_in_the_docs_is_a_valid_plan(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "fault-plans.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    assert blocks
    for i, block in enumerate(blocks):
        file = tmp_path / f"block{i}.toml"
        file.write_text(block)
        Plan.from_toml(file)


def test_round_trip_through_to_dict() -> None:
    plan = Plan(
        (
            FaultRule("a", StatusFault(503, headers={"X-Test": "1"}), method="GET", path="/v1/**", count=2),
            FaultRule("b", HangBeforeFault(1.0), path=re.compile("/v1/x+"), nth=3, probability=0.5),
        ),
        seed=11,
    )
    assert Plan.from_dict(plan.to_dict()) == plan


def entry(**overrides: Any) -> dict[str, Any]:
    return {"name": "r1", "fault": "status", "status": 429, **overrides}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sead": 1}, "plan: unknown key 'sead' (did you mean 'seed'?); a plan has only seed and rules"),
        ({"seed": "x"}, "plan: seed = 'x' must be an integer"),
        ({"rules": {"name": "x"}}, "plan: 'rules' must be an array of tables"),
        ({"rules": [{"fault": "status"}]}, "plan: rules[0]: 'name' is required"),
        ({"rules": [{"name": "r1"}]}, "rules[0] ('r1'): 'fault' is required; use one of drop_after, hang_before"),
        ({"rules": [entry(fault="stauts")]}, "unknown fault kind 'stauts' (did you mean 'status'?); known: drop_after"),
        (
            {"rules": [entry(stauts=1)]},
            "rules[0] ('r1'): unknown key 'stauts' (did you mean 'status'?); rule keys:",
        ),
        ({"rules": [entry(methods="GET")]}, "unknown key 'methods' (did you mean 'method'?)"),
        (
            {"rules": [entry(methods="GET")]},
            "parameters of fault 'status': status, code, message, retry_after",
        ),
        ({"rules": [entry(status=418)]}, "rules[0] ('r1'): fault 'status': status 418 cannot be injected; use one of"),
        ({"rules": [entry(status="429")]}, "rules[0] ('r1'): status must be an integer; got '429'"),
        ({"rules": [entry(code="BLUM-500-001")]}, "code 'BLUM-500-001' is not a BLUM-429-… code"),
        ({"rules": [entry(retry_after="soon")]}, "retry_after must be a number; got 'soon'"),
        ({"rules": [entry(headers={"X": 1})]}, "headers must be a table of strings"),
        ({"rules": [entry(nth=0)]}, "rules[0] ('r1'): nth=0 must be an integer >= 1 (or left out)"),
        ({"rules": [entry(nth=1, first=2)]}, "rules[0] ('r1'): give nth or first, not both"),
        ({"rules": [entry(probability="often")]}, "probability = 'often' must be a number between 0 and 1"),
        ({"rules": [entry(probability=2)]}, "probability=2.0 must be between 0 and 1"),
        ({"rules": [entry(method=5)]}, "method = 5 must be a string or a list of strings"),
        ({"rules": [entry(method=["GET", "FETCH"])]}, "method 'FETCH' is not valid; use one or more of DELETE, GET"),
        ({"rules": [entry(path="/a", path_regex="/b")]}, "give path (a glob) or path_regex"),
        ({"rules": [entry(path_regex="(")]}, "path_regex = '(' is not a valid regular expression"),
        ({"rules": [entry(), entry()]}, "plan: two rules are named 'r1'; give every rule a unique name"),
        ({"rules": [{"name": "h", "fault": "hang_before", "seconds": 0}]}, "seconds=0.0 must be > 0"),
        ({"rules": [{"name": "l", "fault": "latency"}]}, "fault 'latency': "),
    ],
)
def test_errors_name_the_key_and_the_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Plan.from_dict(data)
    assert message in str(caught.value)


def test_a_plan_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_bytes(b'\xef\xbb\xbf[[rules]]\r\nname = "slow"\r\nfault = "latency"\r\nseconds = 0.1\r\n')
    assert [rule.name for rule in Plan.from_toml(plan).rules] == ["slow"]


def test_toml_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="plan file .*missing.toml does not exist; pass an existing TOML file"):
        Plan.from_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]\nname=")
    with pytest.raises(ConfigError, match="bad.toml is not valid TOML"):
        Plan.from_toml(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[[rules]]\nname = "x"\nfault = "status"\nstatus = 999\n')
    with pytest.raises(ConfigError, match=r"wrong.toml: rules\[0\] \('x'\): fault 'status': status 999"):
        Plan.from_toml(wrong)
