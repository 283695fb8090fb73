"""Small synthetic runs for the report tests: real ``CheckResult``s rolled up by ``build_report`` and written by
``write_json`` (the path every real run takes), with evidence shaped like the harness's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.config import CompanyConfig
from bluum_readiness.suite.results import CheckResult, build_report, write_json

SECRET = "sk-test-synthetic-secret-987654"
COMPANY = CompanyConfig(
    name="Acme Invest",
    dashboard_email="ops@acme.example",
    product_description="Robo-advisor app for US retail investors — goals-based portfolios",
    integration_model="server-to-server, one Bluum investor per end customer",
)
ITEMS = ["lifecycle", "idempotency", "error-handling", "webhooks", "smoke-test"]
EVERY_ITEM = [i.id for i in checklist_items()]


def exchange(seq: int, status: int | None, fault: str | None = None, method: str = "GET") -> dict[str, Any]:
    return {
        "seq": seq,
        "method": method,
        "path": "/v1/investors/inv_01synthetic",
        "query": "",
        "idempotency_key": None,
        "status": status,
        "request_id": f"req_synthetic_{seq:04d}",
        "started": 1795600000.0 + seq,
        "finished": 1795600000.001 + seq,
        "duration_ms": 1.25 * seq,
        "fault": fault,
        "fault_kind": "status" if fault else None,
        "outcome": "status" if fault else "forwarded",
        "error": None,
    }


def results(*, failing: bool, complete: bool = False) -> list[CheckResult]:
    """A synthetic run of ``ITEMS`` (idempotency not verifiable); ``complete``: every item, every check passed."""

    def check(item: str, name: str, title: str, **kw: Any) -> CheckResult:
        return CheckResult(f"suite/test_{item}.py::test[{item}.{name}]", item, f"{item}.{name}", title, **kw)

    backoff = {"status": 429, "waits_s": [[0.05, 0.1, 0.2], [0.05, 0.1, 0.2]], "max_backoff_s": 30.0}
    jitter_evidence = {
        "seed": 7,
        "fault_plans": [{"name": "backoff-429-0", "fault": "status", "status": 429, "first": 3}],
        "exchanges": [exchange(1, 429, "backoff-429-0"), exchange(2, 429, "backoff-429-0"), exchange(3, 200)],
        "backoff": backoff,
    }
    deliveries = [{"label": "latency", "event_id": f"evt_{i}", "status": 200, "latency_ms": 1.0 + i} for i in range(6)]
    made = [
        check("smoke-test", "read-only-200", "A read-only request answers 200", evidence={"seed": 7}, duration_s=0.2),
        check("lifecycle", "full-journey", "A complete journey", evidence={"seed": 7, "journey": ["a", "b"]}),
        check("error-handling", "401-bounded", "A persistent 401 is not retried forever", evidence={"seed": 7}),
        check(
            "webhooks",
            "fast-ack",
            "Valid deliveries are acknowledged quickly",
            evidence={"seed": 7, "latency": {"p95_s": 0.006, "threshold_s": 5.0}, "deliveries": deliveries},
        ),
        check(
            "idempotency",
            "orders-keyed",
            "Orders carry an Idempotency-Key",
            **({} if complete else {"status": "not_verifiable", "message": "the integration does not place orders"}),
        ),
    ]
    if complete:
        others = [i for i in EVERY_ITEM if i not in ITEMS]
        made += [check(i, "all-good", f"Everything about {i}", evidence={"seed": 7}) for i in others]
    if failing:
        made.append(
            check(
                "error-handling",
                "429-jitter",
                "Waits after 429 are jittered",
                status="failed",
                message=f"[error-handling] nearly identical waits (the secret {SECRET} must never show)",
                expected="waits that vary between trials (random jitter)",
                observed="nearly identical waits across 2 trials (relative spread 0.003)",
                fix="retry 429 with capped exponential backoff and full jitter",
                cause="no-jitter",
                evidence=jitter_evidence,
                duration_s=0.6,
            )
        )
    else:
        made.append(check("error-handling", "429-jitter", "Waits after 429 are jittered", evidence=jitter_evidence))
    return made


def metadata() -> dict[str, Any]:
    return {
        "suite_version": "0.1.0",
        "started": "2026-11-25T10:00:00+00:00",
        "finished": "2026-11-25T10:00:42+00:00",
        "duration_s": 42.0,
        "target": {"mode": "embedded", "host": "embedded twin"},
        "integration": "acme_adapter:create",
        "integration_identity": {
            "integration": "acme_adapter:create",
            "demonstration": False,
            "module_sha256": None,
            "configuration": "sha256:" + "c" * 64,
        },
        "seed": 7,
        "workers": 0,
        "selected": ITEMS,
        "python": "3.11.7",
        "pytest": "9.2.0",
    }


SANDBOX_TARGET = {
    "mode": "remote",
    "host": "sandbox.api.bluumfinance.com",
    "url": "https://sandbox.api.bluumfinance.com/v1",
}


def write_run(
    folder: Path,
    *,
    failing: bool,
    complete: bool = False,
    interrupted: str | None = None,
    target: dict[str, Any] | None = None,
    items: list[str] | None = None,
    made: list[CheckResult] | None = None,
) -> Path:
    items = items or (EVERY_ITEM if complete else ITEMS)
    data = {**metadata(), "selected": items, **({"target": target} if target else {})}
    made = made if made is not None else results(failing=failing, complete=complete)
    report = build_report(made, selected=items, with_checks=items, metadata=data, interrupted=interrupted)
    return write_json(report, folder, secrets=[SECRET])


@pytest.fixture
def not_ready_json(tmp_path: Path) -> Path:
    return write_run(tmp_path / "not-ready", failing=True)


@pytest.fixture
def passed_json(tmp_path: Path) -> Path:
    """Five of the eight items, nothing failed, idempotency not verifiable: verdict ``passed``, not ``ready``."""
    return write_run(tmp_path / "passed", failing=False)


@pytest.fixture
def ready_json(tmp_path: Path) -> Path:
    """All eight items selected and passed: verdict ``ready``."""
    return write_run(tmp_path / "ready", failing=False, complete=True)


@pytest.fixture
def sandbox_ready_json(tmp_path: Path) -> Path:
    """All eight items passed against Bluum's sandbox (a synthetic record: every check ran there)."""
    return write_run(tmp_path / "sandbox-ready", failing=False, complete=True, target=SANDBOX_TARGET)


@pytest.fixture
def interrupted_json(tmp_path: Path) -> Path:
    """A run stopped by Ctrl-C after five items' checks (one finding among them)."""
    return write_run(tmp_path / "interrupted", failing=True, complete=False, interrupted="SIGINT")


def find_check(document: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for i in document["items"] for c in i["checks"] if c["id"] == check_id)
    return found
