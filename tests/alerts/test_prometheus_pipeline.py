"""The four alert checks against a real Prometheus and a real Alertmanager, fed by an integration with no
``alerts()`` that exports metrics (tests/integrations/monitored.py).

Four runs side by side, two per rule set with two checks each, each watched by monitoring of its own (an exporter, a
Prometheus with 250 ms scrape and evaluation, an Alertmanager with ``group_wait: 0s`` and
examples/monitoring/alertmanager.yml's route, the suite's listener). Two evaluate the rules of
examples/monitoring/bluum-rules.yml with their windows and thresholds shortened (``test_rules``: the same
expressions), two a known-bad variant of them. Their waits (Prometheus' first discovery, the quiet watch, the alert's
way through the pipeline) are independent, so they overlap.

Skipped only where Debian's ``prometheus`` / ``prometheus-alertmanager`` are not installed and ``CI`` is unset.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.alerts.listener import AlertListener
from bluum_readiness.config import AlertsConfig, Thresholds
from bluum_readiness.suite.session import SuiteSession
from tests.checks.judging import run_checks
from tests.integrations import monitored

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "monitoring"
PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
CHECKS = (
    "observability.alert-5xx",
    "observability.alert-429",
    "observability.alert-stuck-order",
    "observability.alert-webhook-failure",
)
NAMES = {
    "elevated_5xx": "AcmeBluumHigh5xx",
    "rate_limited": "AcmeBluumRateLimited",
    "stuck_order": "AcmeBluumStuckOrder",
    "webhook_failure": "AcmeBluumWebhooksMissing",
}

missing = [binary for binary in (PROMETHEUS, ALERTMANAGER) if not os.access(binary, os.X_OK)]
if missing and not os.environ.get("CI"):
    pytest.skip(
        f"{' and '.join(missing)} not installed (apt-get install prometheus prometheus-alertmanager; .ci/run does)",
        allow_module_level=True,
    )


def test_rules(**changes: str) -> str:
    """examples/monitoring/bluum-rules.yml with test-sized windows and thresholds (the marked numbers), then
    ``changes``: old text -> new text (a known-bad variant)."""
    text = (EXAMPLES / "bluum-rules.yml").read_text()
    text = text.replace("[1m]", "[5s]").replace("[10m]", "[5s]")
    text = text.replace("> 300  # STUCK_AFTER_S", "> 0.5  # STUCK_AFTER_S")
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


test_rules.__test__ = False  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(url + "/-/ready", timeout=1, verify=default_tls_context()).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{what} was not ready within {timeout} s")


@dataclasses.dataclass
class Pipeline:
    prometheus: str
    listener: AlertListener
    exporter: monitored.Exporter

    def scraped(self, service: str, timeout: float = 10.0) -> None:
        """Wait until Prometheus holds the service's series (so the first 5xx is an increase)."""
        deadline = time.monotonic() + timeout
        query = f'bluum_api_responses_total{{service="{service}"}}'
        while time.monotonic() < deadline:
            found = httpx.get(
                self.prometheus + "/api/v1/query", params={"query": query}, timeout=5, verify=default_tls_context()
            ).json()
            if found["data"]["result"]:
                return
            time.sleep(0.1)
        raise AssertionError(f"Prometheus never scraped {service}")


@contextlib.contextmanager
def pipeline(work: Path, rules: str) -> Iterator[Pipeline]:
    """An exporter, a Prometheus evaluating ``rules`` over what it scrapes from it, an Alertmanager routing with
    examples/monitoring/alertmanager.yml's route, and the suite's listener at the end: one team's monitoring."""
    work.mkdir()
    exporter = monitored.Exporter()
    metrics_port = exporter.start()
    listener = AlertListener({}).start()
    prometheus_port, alertmanager_port = _free_port(), _free_port()
    route = yaml.safe_load((EXAMPLES / "alertmanager.yml").read_text())
    suite_route = route["route"]["routes"][0]
    suite_route.update(group_wait="0s", group_interval="250ms")
    route["receivers"][1]["webhook_configs"][0]["url"] = listener.url + "/alertmanager"
    (work / "alertmanager.yml").write_text(yaml.safe_dump(route))
    (work / "rules.yml").write_text(rules)
    prometheus_config = {
        "global": {"scrape_interval": "250ms", "evaluation_interval": "250ms"},
        "rule_files": [str(work / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
        "scrape_configs": [
            {"job_name": "acme-payments", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        alertmanager = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={work / 'alertmanager.yml'}", f"--storage.path={work / 'am'}",
             f"--web.listen-address=127.0.0.1:{alertmanager_port}", "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(alertmanager)
        prometheus = subprocess.Popen(
            [PROMETHEUS, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prometheus_port}", "--rules.alert.resend-delay=250ms",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(prometheus)
        _ready(f"http://127.0.0.1:{alertmanager_port}", alertmanager, "Alertmanager")
        _ready(f"http://127.0.0.1:{prometheus_port}", prometheus, "Prometheus")
        yield Pipeline(f"http://127.0.0.1:{prometheus_port}", listener, exporter)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()
        listener.stop()
        exporter.stop()


def _observe(work: Path, service: str, rules: str, checks: tuple[str, ...]) -> dict[str, str]:
    """The alert checks ``checks`` (in that order) of a run whose integration is watched by a pipeline of its own
    evaluating ``rules``."""
    with pipeline(work, rules) as p:
        p.exporter.reset(service)
        kinds = {kind: {"alertname": name, "service": service} for kind, name in NAMES.items()}
        p.listener.kinds = kinds
        p.scraped(service)
        port = p.listener.url.rsplit(":", 1)[1]
        alerts = AlertsConfig(
            listen=f"127.0.0.1:{port}",
            kinds=tuple((kind, tuple(sorted(m.items()))) for kind, m in kinds.items()),
            quiet_s=2.0,
            resolve_timeout_s=8.0,
        )
        session = SuiteSession.embedded(thresholds=Thresholds(alert_timeout_s=3.0, settle_timeout_s=5.0))
        try:
            session.config = dataclasses.replace(session.config, alerts=alerts)
            return run_checks(session, monitored.exporting_to(p.exporter), checks)
        finally:
            session.close()


def _known_bad_rules() -> str:
    """The shipped rules with the 429 rule removed and a 5xx rule that fires on one retried 503."""
    shipped = test_rules()
    rate_limited = re.search(r"      - alert: AcmeBluumRateLimited.*?(?=      - alert:)", shipped, re.S)
    assert rate_limited is not None
    return test_rules(
        **{
            rate_limited.group(0): "",  # the 429 rule removed
            "bluum:api_5xx:increase1m >= 5": "bluum:api_5xx:increase1m > 0",  # fires on one retried 503
        }
    )


def test_the_shipped_rules_pass_and_a_missing_rule_and_one_that_cries_wolf_fail_exactly_their_checks(tmp_path):
    """The shipped rules, where the four alert checks pass, and a known-bad rule set, where exactly the 429 check (no
    rule) and the 5xx check (a false alarm) fail. Each rule set is judged by two runs side by side, each with a
    pipeline of its own and two of the checks in turn (so a check settles after another's alerts, as in a user's run):
    their waits are the pipelines', independent."""
    halves = (CHECKS[:2], CHECKS[2:])
    rule_sets = {"shipped": ("acme-correct", test_rules()), "known-bad": ("acme-known-bad", _known_bad_rules())}
    with concurrent.futures.ThreadPoolExecutor(len(rule_sets) * len(halves)) as pool:
        runs = {
            name: [
                pool.submit(_observe, tmp_path / f"{name}-{n}", service, rules, half) for n, half in enumerate(halves)
            ]
            for name, (service, rules) in rule_sets.items()
        }
    judged = {name: {c: o for run in halves_run for c, o in run.result().items()} for name, halves_run in runs.items()}
    outcomes = judged["shipped"]
    assert outcomes == dict.fromkeys(CHECKS, "passed"), outcomes

    outcomes = judged["known-bad"]
    assert outcomes["observability.alert-stuck-order"] == "passed", outcomes
    assert outcomes["observability.alert-webhook-failure"] == "passed", outcomes
    missing = 'observed no AcmeBluumRateLimited{service="acme-known-bad"} notification within 3 s of 3 429'
    assert missing in outcomes["observability.alert-429"], outcomes
    assert outcomes["observability.alert-5xx"].startswith("failed: "), outcomes
    assert "observed AcmeBluumHigh5xx (alerting pipeline, firing)" in outcomes["observability.alert-5xx"], outcomes
