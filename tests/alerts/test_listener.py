"""The alert listener over a real loopback socket: notifications in, the same alerts out through ``AlertFeed``."""

from __future__ import annotations

import httpx
import pytest

from bluum_readiness.alerts.listener import AlertFeed, AlertListener, serve
from bluum_readiness.config import AlertsConfig, RunConfig
from bluum_readiness.errors import ConfigError
from tests.alerts.test_formats import ALERTMANAGER, PAGERDUTY

KINDS = {
    "stuck_order": {"alertname": "AcmeBluumStuckOrder"},
    "elevated_5xx": {"alertname": "AcmeBluumHigh5xx"},
    "webhook_failure": {"alertname": "AcmeBluumWebhooksMissing"},
}


def test_notifications_on_any_path_become_alerts_and_bad_ones_are_kept_as_rejected() -> None:
    with AlertListener(KINDS) as listener:
        feed = AlertFeed(listener.url)
        start = feed.mark()
        ok = httpx.post(listener.url + "/alertmanager/bluum", json=ALERTMANAGER)
        assert ok.status_code == 200 and ok.json() == {"accepted": 2, "format": "alertmanager"}
        bad = httpx.post(listener.url + "/", content=b"{not json")
        assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
        wrong = httpx.post(listener.url + "/x", json={"version": "4", "alerts": [{"labels": {}}]})
        assert wrong.status_code == 400 and "alertname" in wrong.json()["error"]
        paged = httpx.post(listener.url + "/v2/enqueue", json=PAGERDUTY)
        assert paged.status_code == 202 and paged.json()["dedup_key"] == "bluum-webhooks-1"

        seen = feed.since(start)
        assert [(a["kind"], a["status"], a["order_id"]) for a in seen] == [
            ("stuck_order", "firing", "ord_01abc"),
            ("elevated_5xx", "resolved", None),
            ("webhook_failure", "firing", None),
        ]
        assert [a["name"] for a in feed.firing("webhook_failure")] == ["AcmeBluumWebhooksMissing"]
        assert feed.firing("elevated_5xx") == []  # its latest notification resolved it

        ack = {"routing_key": "secret-key", "event_action": "acknowledge", "dedup_key": "bluum-webhooks-1"}
        assert httpx.post(listener.url + "/v2/enqueue", json=ack).status_code == 202
        assert [a["name"] for a in feed.firing("webhook_failure")] == ["AcmeBluumWebhooksMissing"]  # still itself
        resolve = {"routing_key": "secret-key", "event_action": "resolve", "dedup_key": "bluum-webhooks-1"}
        assert httpx.post(listener.url + "/v2/enqueue", json=resolve).status_code == 202
        assert feed.firing("webhook_failure") == []  # a resolve names only its dedup key: the trigger's kind holds
        assert feed.since(start, "webhook_failure")[-1]["status"] == "resolved"

        kept = feed.notifications()
        assert [n["status"] for n in kept] == ["accepted", "rejected", "rejected", "accepted", "accepted", "accepted"]
        assert kept[1]["body"] == "{not json" and kept[2]["error"].endswith("every alert needs one")
        assert kept[3]["body"]["routing_key"] == "[redacted]"  # as received, without the key
        feed.close()


def test_a_taken_port_is_a_config_error_naming_the_setting() -> None:
    with AlertListener(KINDS) as taken:
        config = AlertsConfig(listen=f"127.0.0.1:{taken.url.rsplit(':', 1)[1]}")
        with pytest.raises(ConfigError, match=r"\[alerts\] listen = '127\.0\.0\.1:\d+': the suite cannot listen"):
            serve(config)


def test_alerts_config_reads_names_and_matchers_and_refuses_what_is_not_loopback() -> None:
    made = RunConfig.from_mapping(
        {
            "alerts": {
                "elevated_5xx": "AcmeBluumHigh5xx",
                "stuck_order": {"alertname": "AcmeBluumStuckOrder", "service": "bluum"},
                "quiet_s": 3,
            }
        }
    ).alerts
    assert made is not None
    assert (made.host, made.port, made.quiet_s) == ("127.0.0.1", 9094, 3.0)
    assert made.matchers == {
        "elevated_5xx": {"alertname": "AcmeBluumHigh5xx"},
        "stuck_order": {"alertname": "AcmeBluumStuckOrder", "service": "bluum"},
    }
    assert made.expected("stuck_order") == 'AcmeBluumStuckOrder{service="bluum"}'
    assert made.expected("rate_limited") is None
    assert RunConfig().alerts is None  # no table: no listener


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"listen": "0.0.0.0:9094"}, "is not a loopback address"),
        ({"listen": "10.0.0.5:9094"}, "is not a loopback address"),
        ({"listen": "127.0.0.1"}, "must be HOST:PORT"),
        ({"listen": "127.0.0.1:99999"}, "must be HOST:PORT"),
        ({"stuck_order": ""}, "alerts.stuck_order is empty"),
        ({"stuck_order": {"alertname": 3}}, "alerts.stuck_order.alertname must be a non-empty text"),
        ({"stuck_order": ["X"]}, "must be an alert name or a table of label matchers"),
        ({"stuck": "X"}, "Did you mean 'stuck_order'?"),
        ({"quiet_s": 0}, "alerts.quiet_s must be a finite number of seconds > 0"),
    ],
)
def test_bad_alerts_settings_get_one_line_errors(table: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        RunConfig.from_mapping({"alerts": table})
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_localhost_and_ipv6_loopback_are_accepted() -> None:
    assert AlertsConfig.from_mapping({"listen": "localhost:9000"}).host == "127.0.0.1"
    assert AlertsConfig.from_mapping({"listen": "[::1]:9000"}).host == "::1"
