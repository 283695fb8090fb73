"""Malformed request bodies on every write of the document: never a 5xx, every 4xx in the envelope.

Regression for a bug this suite found: JSON nested deeper than the parser's recursion limit raised
``RecursionError`` in body validation, in the idempotency middleware's body hash and in the document upload's
``metadata`` field, and the twin answered 500 BLUM-500-001. Now it is 400 BLUM-400-001 (BLUM-400-003 for
``metadata``). Schemathesis does not generate such bodies (they are not schema-shaped), hence this sweep.
"""

from __future__ import annotations

import re

import httpx
import pytest

from bluum_readiness.twin.openapi_spec import OPERATIONS
from tests.reliability.envelope import envelope_problem
from tests.reliability.world import build_world

DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
MALFORMED = {
    "deeply nested": DEEP,
    "deeply nested array": b"[" * 100_000 + b"]" * 100_000,
    "truncated": b'{"amount": "1.00"',
    "not UTF-8": b"\xff\xfe\xfd",
    "an array": b"[1, 2]",
    "a number": b"1e999",
}
WRITES = sorted((m, p) for m, p in OPERATIONS if m in ("POST", "PUT", "PATCH") and p != "/documents")


@pytest.fixture(scope="module")
def world(live_twin) -> dict[str, str]:
    with httpx.Client(base_url=live_twin.base_url, auth=live_twin.auth, timeout=10) as client:
        return build_world(client)


@pytest.mark.parametrize("with_key", [True, False], ids=["with-key", "without-key"])
@pytest.mark.parametrize(("method", "path"), WRITES, ids=lambda v: v)
def test_malformed_json_is_a_4xx_in_the_envelope(method, path, with_key, live_client, world):
    url = re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], path)
    for name, body in MALFORMED.items():
        headers = {"content-type": "application/json"}
        if with_key:
            headers["Idempotency-Key"] = f"{name}-{method}-{path}"
        r = live_client.request(method, url, content=body, headers=headers)
        assert r.status_code < 500, (name, r.status_code, r.text[:300])
        if r.status_code >= 400:
            problem = envelope_problem(r.status_code, r.headers, r.content)
            assert problem is None, (name, problem)
    headers = {"content-type": "application/json", "Idempotency-Key": f"deep-{method}-{path}-{with_key}"}
    deep = live_client.request(method, url, content=DEEP, headers=headers)
    if path.endswith(("/cancel", "/revoke")):  # no body is read: the body is ignored
        return
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "BLUM-400-001", deep.text[:300]


def test_a_deeply_nested_metadata_field_of_an_upload_is_400(live_client, world):
    r = live_client.post(
        "/documents",
        data={"document_type": "id", "investor_id": world["investor_id"], "metadata": DEEP.decode()},
        files={"document": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"]["code"] == "BLUM-400-003" and r.json()["error"]["param"] == "metadata"
