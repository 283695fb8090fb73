"""Rule matching and the engine's selection: method, path globs/regex, nth, first, count, seeded probability."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy import FaultEngine, FaultRule, Plan, StatusFault
from bluum_readiness.proxy.engine import DuplicateRule
from bluum_readiness.proxy.rules import compile_glob

FAULT = StatusFault(500)
DEPOSITS = "/v1/investors/inv_1/deposits"


def rule(name: str = "r", **match: object) -> FaultRule:
    return FaultRule(name, FAULT, **match)  # type: ignore[arg-type]


def decisions(engine: FaultEngine, requests: list[tuple[str, str]]) -> list[str | None]:
    picked = [engine.select(method, path) for method, path in requests]
    return [r.name if r else None for r in picked]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/v1/investors/*/deposits", DEPOSITS, True),
        ("/v1/investors/*/deposits", "/v1/investors/inv_1/withdrawals", False),
        ("/v1/investors/*/deposits", "/v1/investors/a/b/deposits", False),  # * is one segment
        ("/v1/investors/*", "/v1/investors/inv_1", True),
        ("/v1/investors/*", "/v1/investors", False),
        ("/v1/**", DEPOSITS, True),
        ("/v1/investors", "/v1/investors/", False),
        ("/v1/a.b", "/v1/aXb", False),  # everything but * is literal
    ],
)
def test_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert rule(path=pattern).matches("GET", path) is expected
    assert (compile_glob(pattern).fullmatch(path) is not None) is expected


def test_path_regex_is_a_full_match() -> None:
    r = rule(path=re.compile(r"/v1/investors/inv_\d+/deposits"))
    assert r.matches("POST", DEPOSITS)
    assert not r.matches("POST", DEPOSITS + "/x")


def test_methods() -> None:
    assert rule(method="post").matches("POST", "/x")
    assert not rule(method="POST").matches("GET", "/x")
    assert rule(method=("GET", "DELETE")).matches("DELETE", "/x")
    assert rule().matches("PATCH", "/anything")


def test_nth_applies_once_to_the_nth_match_only() -> None:
    engine = FaultEngine(Plan((rule(method="POST", nth=2),)))
    reqs = [("POST", "/a"), ("GET", "/a"), ("POST", "/b"), ("POST", "/c")]
    assert decisions(engine, reqs) == [None, None, "r", None]


def test_first_n_then_count_limit() -> None:
    engine = FaultEngine(Plan((rule(first=3, count=2),)))
    assert decisions(engine, [("GET", "/")] * 4) == ["r", "r", None, None]


def test_first_matching_rule_wins_and_occurrences_are_counted_per_rule() -> None:
    a, b = rule("a", method="POST", nth=1), rule("b", method="POST", nth=2)
    engine = FaultEngine(Plan((a, b)))
    # b's 2nd occurrence is the 2nd POST, even though a took the 1st one.
    assert decisions(engine, [("POST", "/")] * 3) == ["a", "b", None]
    stats = {s["name"]: (s["seen"], s["applied"]) for s in engine.stats()}
    assert stats == {"a": (3, 1), "b": (3, 1)}


def test_seeded_probability_replays_exactly() -> None:
    plan = Plan((rule(probability=0.3),), seed=1234)
    first = decisions(FaultEngine(plan), [("GET", "/")] * 200)
    again = decisions(FaultEngine(plan), [("GET", "/")] * 200)
    other = decisions(FaultEngine(Plan(plan.rules, seed=99)), [("GET", "/")] * 200)
    assert first == again
    assert first != other
    assert 30 < first.count("r") < 90


def test_probability_one_rules_do_not_consume_rolls() -> None:
    flaky = rule("flaky", method="GET", probability=0.5)
    alone = decisions(FaultEngine(Plan((flaky,), seed=5)), [("GET", "/")] * 50)
    with_always = FaultEngine(Plan((rule("always", method="POST"), flaky), seed=5))
    mixed = decisions(with_always, [("POST", "/"), ("GET", "/")] * 50)
    assert [d for d in mixed if d != "always"] == alone


def test_reset_reseeds_and_set_plan_restarts_counters() -> None:
    engine = FaultEngine(Plan((rule(probability=0.5),), seed=3))
    first = decisions(engine, [("GET", "/")] * 20)
    engine.reset()
    assert engine.select("GET", "/") is None  # no rules left
    engine.set_plan(Plan((rule(probability=0.5),), seed=3))
    assert decisions(engine, [("GET", "/")] * 20) == first


def test_add_and_remove_rules() -> None:
    engine = FaultEngine()
    engine.add_rule(rule("x"))
    with pytest.raises(DuplicateRule, match="a rule named 'x' exists"):
        engine.add_rule(rule("x"))
    assert engine.remove_rule("x") and not engine.remove_rule("x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nth": 0}, "nth=0 must be an integer >= 1"),
        ({"first": 2, "nth": 1}, "give nth or first, not both"),
        ({"count": True}, "count=True must be an integer >= 1"),
        ({"probability": 1.5}, "probability=1.5 must be between 0 and 1"),
        ({"method": "FETCH"}, "method 'FETCH' is not valid"),
        ({"path": 3}, "must be a glob string or a compiled regex"),
    ],
)
def test_invalid_rules_say_what_is_valid(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        FaultRule("r", FAULT, **kwargs)


def test_a_rule_needs_a_fault() -> None:
    with pytest.raises(ConfigError, match="has no `async def apply"):
        FaultRule("x", object())  # type: ignore[arg-type]


requests = st.lists(st.tuples(st.sampled_from(["GET", "POST"]), st.sampled_from(["/a", "/b"])), max_size=40)
windows: st.SearchStrategy[dict[str, int]] = st.one_of(
    st.fixed_dictionaries({"nth": st.integers(1, 10)}),
    st.fixed_dictionaries({"first": st.integers(1, 10)}),
    st.just({}),
)


@given(reqs=requests, window=windows, count=st.one_of(st.none(), st.integers(1, 10)))
def test_property_nth_first_count(reqs: list[tuple[str, str]], window: dict[str, int], count: int | None) -> None:
    engine = FaultEngine(Plan((rule(method="POST", path="/a", count=count, **window),)))  # type: ignore[arg-type]
    applied = [i for i, d in enumerate(decisions(engine, reqs)) if d]
    matching = [i for i, (m, p) in enumerate(reqs) if (m, p) == ("POST", "/a")]
    if "nth" in window:
        expected = matching[window["nth"] - 1 : window["nth"]]
    else:
        expected = matching[: window.get("first", len(matching))]
    if count is not None:
        expected = expected[:count]
    assert applied == expected
