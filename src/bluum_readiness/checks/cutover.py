"""Checks of the cut-over items that need no adapter capability: the smoke test."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluum_readiness.checks.judge import failure
from bluum_readiness.checks.registry import check
from bluum_readiness.smoke import smoke_test

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness


@check("smoke-test.read-only-200", item="smoke-test", title="A read-only request with the deployed credentials → 200")
def read_only_200(h: Harness) -> None:
    result = smoke_test(h.target.base_url, h.credentials.get())
    h.evidence["smoke"] = {
        "url": result.url,
        "status": result.status,
        "code": result.code,
        "request_id": result.request_id,
        "duration_ms": round(result.duration_ms, 1),
    }
    if not result.ok:
        raise failure(
            expected="200 from GET /assets?asset_class=us_equity&tradable=true&limit=1",
            observed=result.message,
            fix="deploy the key pair of this environment to the secret source the integration reads, then re-run",
            evidence=dict(h.evidence["smoke"]),
        )
