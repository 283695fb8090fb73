"""Each notification format read into alerts, and what a malformed one is told."""

from __future__ import annotations

import pytest

from bluum_readiness.alerts.formats import NotificationError, parse, redacted
from bluum_readiness.alerts.listener import kind_of

ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="AcmeBluumStuckOrder"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "bluum-readiness",
    "groupLabels": {"alertname": "AcmeBluumStuckOrder"},
    "commonLabels": {"alertname": "AcmeBluumStuckOrder", "service": "bluum"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "AcmeBluumStuckOrder", "service": "bluum", "severity": "page"},
            "annotations": {"summary": "order ord_01abc is stuck in pending"},
            "startsAt": "2026-12-07T08:00:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "c2f1a9e0b1d2",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "AcmeBluumHigh5xx", "service": "bluum"},
            "annotations": {},
            "startsAt": "2026-12-07T07:00:00Z",
            "endsAt": "2026-12-07T07:05:00Z",
            "fingerprint": "99aa",
        },
    ],
}

GRAFANA = {
    "receiver": "bluum-readiness",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "AcmeBluumRateLimited", "grafana_folder": "Payments"},
            "annotations": {"description": "429s from Bluum"},
            "startsAt": "2026-12-07T08:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "57c6d9296de2ad39",
            "silenceURL": "http://grafana/alerting/silence/new",
            "valueString": "[ var='A' labels={} value=3 ]",
        }
    ],
    "groupLabels": {"alertname": "AcmeBluumRateLimited"},
    "version": "1",
    "groupKey": '{}:{alertname="AcmeBluumRateLimited"}',
    "title": "[FIRING:1] AcmeBluumRateLimited",
    "state": "alerting",
    "message": "**Firing**",
}

PAGERDUTY = {
    "routing_key": "R0UTINGKEY0000000000000000000000",
    "event_action": "trigger",
    "dedup_key": "bluum-webhooks-1",
    "payload": {
        "summary": "Bluum webhooks missing",
        "source": "acme-payments",
        "severity": "critical",
        "custom_details": {"alertname": "AcmeBluumWebhooksMissing", "missing": 3},
    },
}


def test_alertmanager_v4_reads_every_alert_with_its_status_order_and_identity() -> None:
    form, alerts = parse(ALERTMANAGER)
    assert form == "alertmanager"
    stuck, fivexx = alerts
    assert (stuck.name, stuck.status, stuck.order_id, stuck.lasting) == (
        "AcmeBluumStuckOrder",
        "firing",
        "ord_01abc",
        True,
    )
    assert stuck.key == "alertmanager:c2f1a9e0b1d2"
    assert stuck.starts_at == "2026-12-07T08:00:00.000Z"
    assert (fivexx.name, fivexx.status, fivexx.order_id) == ("AcmeBluumHigh5xx", "resolved", None)


def test_grafana_webhook_is_told_apart_and_read_the_same_way() -> None:
    form, [alert] = parse(GRAFANA)
    assert form == "grafana"
    assert (alert.name, alert.status, alert.message) == ("AcmeBluumRateLimited", "firing", "429s from Bluum")


def test_pagerduty_trigger_takes_its_name_from_custom_details_and_resolve_its_dedup_key() -> None:
    form, [alert] = parse(PAGERDUTY)
    assert form == "pagerduty"
    assert (alert.name, alert.status, alert.key) == ("AcmeBluumWebhooksMissing", "firing", "pagerduty:bluum-webhooks-1")
    assert alert.labels["severity"] == "critical"
    _, [resolve] = parse({"routing_key": "x", "event_action": "resolve", "dedup_key": "bluum-webhooks-1"})
    assert (resolve.status, resolve.key) == ("resolved", "pagerduty:bluum-webhooks-1")


def test_plain_json_one_or_many_with_datadog_words_for_the_status() -> None:
    form, [alert] = parse({"alert": "AcmeBluumStuckOrder", "order_id": "ord_77", "message": "stuck"})
    assert form == "json"
    assert (alert.name, alert.status, alert.lasting, alert.order_id) == (
        "AcmeBluumStuckOrder",
        "firing",
        False,
        "ord_77",
    )
    _, alerts = parse(
        [{"alert": "A", "status": "Triggered"}, {"alert": "B", "status": "Recovered", "labels": {"env": "prod"}}]
    )
    assert [(a.name, a.status, a.lasting) for a in alerts] == [("A", "firing", True), ("B", "resolved", True)]
    _, [warned] = parse({"alert": "C", "status": "Warn"})  # Datadog's $ALERT_TRANSITION values
    assert warned.status == "firing"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("firing", "a JSON object"),
        ({"hello": 1}, "not a notification this listener reads"),
        ({"alerts": []}, "non-empty list"),
        ({"version": "4", "alerts": [{"status": "firing", "labels": {}}]}, "no 'alertname' label"),
        ({"version": "4", "alerts": [{"status": "burning", "labels": {"alertname": "X"}}]}, 'use "firing"'),
        ({"event_action": "page"}, "trigger, acknowledge, resolve"),
        ({"event_action": "trigger", "payload": {"summary": "s"}}, "source, severity"),
        ({"event_action": "resolve"}, "needs the dedup_key"),
        ({"alert": ""}, "has no 'alert'"),
        ({"alert": "X", "labels": {"a": {"nested": 1}}}, "labels.a must be a text"),
        ([], "empty list"),
    ],
)
def test_a_malformed_notification_is_told_what_is_wrong(body: object, says: str) -> None:
    with pytest.raises(NotificationError, match=None) as raised:
        parse(body)
    assert says in str(raised.value)


def test_kinds_match_by_name_or_by_every_label_given() -> None:
    _, [stuck, fivexx] = parse(ALERTMANAGER)
    kinds = {
        "stuck_order": {"alertname": "AcmeBluumStuckOrder", "service": "bluum"},
        "elevated_5xx": {"alertname": "AcmeBluumHigh5xx", "service": "other"},
    }
    assert kind_of(stuck, kinds) == "stuck_order"
    assert kind_of(fivexx, kinds) is None  # service differs


def test_evidence_never_keeps_a_routing_key_or_token() -> None:
    shown = redacted({**PAGERDUTY, "headers": {"Authorization": "Bearer abc"}, "api_token": "t0k"})
    assert shown["routing_key"] == "[redacted]"
    assert shown["headers"]["Authorization"] == "[redacted]"
    assert shown["api_token"] == "[redacted]"
    assert shown["payload"]["summary"] == "Bluum webhooks missing"
