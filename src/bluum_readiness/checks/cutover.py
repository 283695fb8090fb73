"""Checks of the cut-over items that need no adapter capability: the smoke test."""

from __future__ import annotations

from bluum_readiness.checks.judge import Facts, Finding, Verdict, judged
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.smoke import smoke_test

ITEM = "smoke-test"
REQUEST = "GET /assets?asset_class=us_equity&tradable=true&limit=1"


@scenario("smoke", facts=("result",))
def _smoke(s: Scene) -> None:
    """One read-only request with the deployed pair, as ``bluum-readiness smoke`` makes it."""
    result = smoke_test(s.h.target.base_url, s.h.credentials.get())
    answered = {
        "url": result.url,
        "status": result.status,
        "code": result.code,
        "request_id": result.request_id,
        "duration_ms": round(result.duration_ms, 1),
        "rate_limited_waits_s": list(result.rate_limited_waits),
    }
    s.evidence("smoke", answered)
    s.fact("result", {**answered, "ok": result.ok, "message": result.message})


@judged(
    "smoke-test.read-only-200",
    item=ITEM,
    title="A read-only request with the deployed credentials → 200",
    needs=("smoke.result",),
)
def read_only_200(facts: Facts) -> Verdict:
    result = facts["smoke.result"]
    if result["ok"]:
        return None
    return Finding(
        "credentials-not-deployed" if result["status"] in (401, 403) else "",
        f"200 from {REQUEST}",
        result["message"],
        "deploy the key pair of this environment to the secret source the integration reads, then re-run",
        evidence={"smoke": {k: v for k, v in result.items() if k not in ("ok", "message")}},
    )
