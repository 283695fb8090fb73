"""Query parameters at the edge on every documented read: never a 5xx, every 4xx in the envelope.

Kept from issue 23's sweep, which found ``limit=²`` (``isdigit`` true, ``int()`` refuses), a 5,000-digit
``limit`` and ``date_to=9999-12-31`` (the next day overflowed ``date``) answered 500. Schemathesis draws
query values from the document's types (integers for ``limit``/``offset``, plain strings otherwise), so it
seldom sends these. Every query parameter of every documented GET gets each value below, over a real socket.
"""

from __future__ import annotations

import re

import httpx
import pytest

from bluum_readiness.twin.openapi_spec import OPERATIONS
from tests.reliability.envelope import envelope_problem
from tests.reliability.world import build_world

INTEGER_EDGES = ["²", "١٠", "1" * 5000, "-1", "+5"]
DATE_EDGES = ["9999-12-31", "0001-01-01", "2026-13-45", "١٠"]
TEXT_EDGES = ["\x00", "a" * 5000, "١٠"]


def _edges(name: str) -> list[str]:
    """The values worth sending to a parameter of this kind (bounded: ~240 requests in all)."""
    if name in ("limit", "offset"):
        return INTEGER_EDGES
    if name.startswith("date_"):
        return DATE_EDGES
    return TEXT_EDGES


@pytest.fixture(scope="module")
def world(live_twin) -> dict[str, str]:
    with httpx.Client(base_url=live_twin.base_url, auth=live_twin.auth, timeout=10) as client:
        return build_world(client)


def _reads_with_query(schema: dict) -> list[tuple[str, list[str]]]:
    reads = []
    for path, item in schema["paths"].items():
        names = [p["name"] for p in item.get("get", {}).get("parameters", []) if p["in"] == "query"]
        if names:
            reads.append((path, names))
    return reads


def test_every_query_parameter_survives_edge_values(live_client, world):
    reads = _reads_with_query(live_client.get("/openapi.json").json())
    assert len(reads) >= 10 and all(("GET", path) in OPERATIONS for path, _ in reads)
    statuses: set[int] = set()
    for path, names in reads:
        url = re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], path)
        for name in names:
            for value in _edges(name):
                r = live_client.get(url, params={name: value})
                statuses.add(r.status_code)
                what = f"GET {path}?{name}={value[:20]!r} -> {r.status_code}: {r.text[:200]}"
                assert r.status_code < 500, what
                if r.status_code >= 400:
                    assert envelope_problem(r.status_code, r.headers, r.content) is None, what
    assert {200, 400} <= statuses, statuses  # values were both refused and ignored or served
