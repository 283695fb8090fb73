"""The alert judges over small observations: what arrived from alerts() or the alerting pipeline, and when."""

from __future__ import annotations

from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, Passed, judge
from bluum_readiness.checks.observation import Observation

PIPELINE = "alerting pipeline"


def _watch(kind: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": kind,
        "sources": [PIPELINE],
        "expected": "AcmeBluumStuckOrder",
        "normal": "normal traffic",
        "cause": "order ord_held being held open at the target",
        "still_firing": [],
        "false_alarms": [],
        "fired": [],
        "timeout_s": 6.0,
        "quiet_s": 2.0,
        "resolve_timeout_s": 30.0,
        "adapter_alerts": {"count": 0, "kinds": []},
        "received": [],
        "notifications": [],
    }
    return {**base, **changes}


def _alert(name: str, status: str = "firing", order_id: str | None = None, source: str = PIPELINE) -> dict[str, Any]:
    return {"name": name, "status": status, "order_id": order_id, "source": source, "kind": "stuck_order"}


def _verdict(check: str, scenario: str, watch: dict[str, Any]) -> Any:
    spec = registry.get(check).judge
    assert spec is not None
    return judge(spec, {scenario: Observation(scenario, {"watch": watch})})


def _stuck(**changes: Any) -> Any:
    watch = _watch("stuck_order", **{"held": "ord_held", "filled": "ord_filled", "released": None, **changes})
    return _verdict("observability.alert-stuck-order", "alert-stuck-order", watch)


def test_a_mapped_alert_that_never_arrives_is_named_in_the_finding() -> None:
    found = _stuck(received=["AcmeBluumHigh5xx (elevated_5xx)"])
    assert isinstance(found, Finding) and found.cause == "alert-missing"
    assert found.observed.startswith(
        "no AcmeBluumStuckOrder notification within 6 s of order ord_held being held open at the target "
        "(the listener received AcmeBluumHigh5xx (elevated_5xx))"
    )
    assert "group_wait" in str(found.fix)


def test_an_alert_naming_the_held_order_passes_and_one_naming_another_fails() -> None:
    assert isinstance(_stuck(fired=[_alert("AcmeBluumStuckOrder", order_id="ord_held")]), Passed)
    other = _stuck(fired=[_alert("AcmeBluumStuckOrder", order_id="ord_elsewhere")])
    assert isinstance(other, Finding) and "named ord_elsewhere, not ord_held" in other.observed


def test_a_count_based_stuck_alert_must_resolve_once_no_order_is_stuck() -> None:
    fired = [_alert("AcmeBluumStuckOrder")]
    assert isinstance(_stuck(fired=fired, released=[]), Passed)
    stays = _stuck(fired=fired, released=[_alert("AcmeBluumStuckOrder")])
    assert isinstance(stays, Finding) and stays.cause == "alert-false-alarm"
    assert "still firing 6 s after ord_held was cancelled" in stays.observed


def test_a_resolved_notification_counts_as_the_alert_having_fired() -> None:
    fired = [_alert("AcmeBluumStuckOrder", status="resolved", order_id="ord_held")]
    assert isinstance(_stuck(fired=fired), Passed)


def test_false_alarms_during_normal_traffic_and_alerts_that_never_resolve_fail_first() -> None:
    cries = _verdict(
        "observability.alert-5xx",
        "alert-5xx",
        _watch(
            "elevated_5xx",
            expected="AcmeBluumHigh5xx",
            false_alarms=[_alert("AcmeBluumHigh5xx")],
            fired=[_alert("AcmeBluumHigh5xx")],
        ),  # fmt: skip
    )
    assert isinstance(cries, Finding) and cries.cause == "alert-false-alarm"
    assert cries.observed == "AcmeBluumHigh5xx (alerting pipeline, firing) arrived during it"
    stuck_on = _verdict(
        "observability.alert-429",
        "alert-429",
        _watch("rate_limited", expected="AcmeBluumRateLimited", still_firing=[_alert("AcmeBluumRateLimited")]),
    )
    assert isinstance(stuck_on, Finding) and "still firing 30 s after the check began" in stuck_on.observed


def test_an_alert_received_again_is_counted_not_repeated() -> None:
    from bluum_readiness.checks.observability._alert_watch import shown_alerts

    again = [_alert("AcmeBluumHigh5xx")] * 4 + [_alert("AcmeBluumRateLimited")]
    assert (
        shown_alerts(again)
        == "4 × AcmeBluumHigh5xx (alerting pipeline, firing), AcmeBluumRateLimited (alerting pipeline, firing)"
    )
    distinct = [_alert(name) for name in ("A", "B", "C", "D")]
    assert shown_alerts(distinct).endswith("C (alerting pipeline, firing) and 1 more")


def test_alerts_method_findings_keep_their_wording() -> None:
    watch = _watch(
        "webhook_failure",
        sources=["alerts()"],
        expected=None,
        adapter_alerts={"count": 2, "kinds": ["elevated_5xx"]},
        cause="the twin's deliveries failing (3 attempts answered 503)",
    )
    found = _verdict("observability.alert-webhook-failure", "alert-webhook-failure", watch)
    assert isinstance(found, Finding)
    assert (
        found.expected
        == "a 'webhook_failure' alert within 6 s of the twin's deliveries failing (3 attempts answered 503)"
    )
    assert found.observed == "no such alert; alerts() holds 2 alert(s) of kinds ['elevated_5xx']"


def test_an_alert_that_started_before_its_cause_is_a_false_alarm_that_arrived_late() -> None:
    cause_at = 1_796_630_400.0  # 2026-12-07T08:00:00Z
    early = {**_alert("AcmeBluumHigh5xx", order_id=None), "starts_at": "2026-12-07T07:59:57.237456789Z"}
    late = {**_alert("AcmeBluumHigh5xx", order_id=None), "starts_at": "2026-12-07T08:00:01.5Z"}
    watch = _watch("elevated_5xx", expected="AcmeBluumHigh5xx", cause="a burst of 10 503 answers", cause_at=cause_at)
    found = _verdict("observability.alert-5xx", "alert-5xx", {**watch, "fired": [early]})
    assert isinstance(found, Finding) and found.cause == "alert-false-alarm"
    assert "started 2.8 s before it" in found.observed
    assert isinstance(_verdict("observability.alert-5xx", "alert-5xx", {**watch, "fired": [early, late]}), Passed)


def test_a_notification_the_listener_could_not_read_is_named_when_the_alert_is_missing() -> None:
    rejected = [{"seq": 3, "status": "rejected", "error": "alerts[0] has no 'alertname' label: every alert needs one"}]
    found = _stuck(rejected=rejected)
    assert isinstance(found, Finding)
    assert "it rejected 1 notification(s): alerts[0] has no 'alertname' label" in found.observed
    assert found.evidence["alerts"]["rejected"] == rejected
