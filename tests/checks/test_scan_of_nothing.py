"""A scan of nothing is not a pass: an integration that makes its requests but logs nothing and swallows its errors
leaves the secret checks nothing to judge — not verifiable, with the scanned sizes in the evidence."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.suite.session import SuiteSession


class Silent:
    """Sends every call (with the standard library's urllib, which logs nothing), logs nothing itself, and answers
    an empty result whatever went wrong."""

    def __init__(self, env: IntegrationEnv) -> None:
        self.env = env

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
        pair = self.env.credentials()
        token = base64.b64encode(f"{pair.key}:{pair.secret}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.env.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.env.request_timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as refused:
            refused.close()
        except (urllib.error.URLError, OSError):
            pass
        return {"id": "", "status": "", "data": []}

    def kyc_status(self, investor_id: str) -> str:
        return str(self._call("GET", f"/investors/{investor_id}")["status"])

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        body = {"amount": amount, "currency": "USD", "method": method, "funding_source_id": funding_source_id}
        return str(self._call("POST", f"/investors/{investor_id}/deposits", body, key=f"k-{amount}")["id"])

    def positions(self, investor_id: str) -> list[Any]:
        return list(self._call("GET", f"/investors/{investor_id}/positions")["data"])

    def _unused(self, *args: Any) -> Any:  # the rest of the contract: not called by these checks
        raise RuntimeError()

    create_investor = upload_document = link_bank_account = place_order = _unused
    get_order = cancel_order = withdraw = _unused


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded()
    s.factory = Silent
    yield s
    s.close()


@pytest.mark.parametrize("check_id", ["error-handling.secret-never-logged", "observability.no-secrets-in-logs"])
def test_a_silent_integration_leaves_nothing_to_scan(session, check_id):
    evidence: dict[str, Any] = {}
    with pytest.raises(NotVerifiable, match="a scan of nothing is not a pass"):
        session.run(registry.get(check_id), evidence)
    assert evidence["scanned"] and all(size["bytes"] == 0 for size in evidence["scanned"].values())
