"""The twin under schemathesis, generated from its own OpenAPI document (``GET /v1/openapi.json``).

For every operation of the document, schema-valid (positive) and schema-violating (negative) requests are sent
over a real socket with the tenant's key pair (schema-valid only where the document leaves nothing to violate:
``NOTHING_TO_NEGATE``); half of them name the tenant's real resources (path ids, and
``funding_source_id``/``investor_id`` in bodies) so the handlers run, not just the 404 of an unknown id.
Every response must be below 500, carry ``X-Request-Id``, put every 4xx in Bluum's error envelope with a
catalogue code whose status matches, and conform to the document (status, content type, schema).

For half of them (``edge``), every decimal field of the body (``amount``, ``quantity``, ``notional``,
``limit_price``, ``stop_price``, ``price``) is replaced by a number at the edge from ``edges.edge_text``: digit
strings of up to 5,000 digits, non-ASCII digits, ``NaN``/``Infinity``, exponents, the SQLite int64 boundary in
cents (issue 23's sweep, kept).

Bounded and deterministic: ``derandomize=True`` (Hypothesis' fixed seed), ``FUZZ_EXAMPLES`` examples per
operation and mode (``BLUUM_FUZZ_EXAMPLES`` raises it for a deeper local run), no example database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.twin import TwinServer
from bluum_readiness.twin.openapi_spec import OPERATIONS
from tests.reliability.edges import NUMERIC_FIELDS, edge_text
from tests.reliability.envelope import envelope_problem
from tests.reliability.world import build_world

if TYPE_CHECKING:
    from schemathesis import Case

FUZZ_EXAMPLES = int(os.environ.get("BLUUM_FUZZ_EXAMPLES", "8"))
BODY_IDS = ("funding_source_id", "investor_id")
SELF = ("GET", "/openapi.json")  # the document itself: schemathesis does not fuzz the schema's own URL
FUZZED = sorted(set(OPERATIONS) - {SELF})
# No body, no query or header parameter, no constraint on a path parameter: a schema-violating request cannot be
# drawn (the key pair is the session's), so these are fuzzed with schema-valid requests only
NOTHING_TO_NEGATE = {("GET", "/assets/{symbol}"), ("GET", "/webhooks/event-types")}


@pytest.fixture(scope="module")
def schema(live_twin: TwinServer) -> Any:
    import schemathesis  # here, not at collection: only the worker that fuzzes imports it (~0.26 s)

    loaded = schemathesis.openapi.from_url(live_twin.base_url + "/openapi.json")
    # No generated Authorization header: the session's key pair replaces it on every request (requests applies the
    # session's auth last), so drawing one was generation work whose result was never sent
    loaded.config.generation.update(with_security_parameters=False)
    return loaded


@pytest.fixture(scope="module")
def world_client(live_twin: TwinServer) -> Iterator[httpx.Client]:
    """One client builds every world (a client per world built its own TLS context, ~30 ms of CPU each)."""
    with httpx.Client(base_url=live_twin.base_url, auth=live_twin.auth, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def shared_world(world_client: httpx.Client) -> dict[str, str]:
    """The resources GET operations read (reads change nothing, so one world serves them all)."""
    return build_world(world_client)


@pytest.fixture
def session(live_twin: TwinServer) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.auth = live_twin.auth
        yield s


def test_every_operation_of_the_served_document_is_fuzzed(schema):
    documented = {(m.upper(), p) for p, item in schema.raw_schema["paths"].items() for m in item}
    assert documented == set(OPERATIONS)
    assert {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()} == set(FUZZED)


def _nothing_to_negate(definition: dict[str, Any]) -> bool:
    parameters = definition.get("parameters", [])
    plain = all(p["in"] == "path" and p["schema"] == {"type": "string"} for p in parameters)
    return plain and "requestBody" not in definition


def _use_real_ids(case: Case, world: dict[str, str]) -> None:
    for name in list(case.path_parameters or {}):
        if name in world:
            assert case.path_parameters is not None
            case.path_parameters[name] = world[name]
    if isinstance(case.body, dict):
        for name in BODY_IDS:
            if name in case.body:
                case.body[name] = world[name]


def _use_edge_numbers(case: Case, edge: str) -> None:
    """Put a number at the edge (huge, non-ASCII digits, NaN/Infinity spelled out, …) in every decimal field of
    the body: the document types them as plain strings, so schemathesis alone seldom draws a number at all."""
    if isinstance(case.body, dict):
        for name in NUMERIC_FIELDS:
            if name in case.body:
                case.body[name] = edge


def _judge(case: Case, response: requests.Response) -> None:
    what = f"{case.method} {response.request.url} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, what
    assert response.headers.get("x-request-id"), f"no X-Request-Id: {what}"
    if 400 <= response.status_code < 500:
        problem = envelope_problem(response.status_code, response.headers, response.content)
        assert problem is None, f"{problem}: {what}"
    from schemathesis.specs.openapi import checks

    conformance = [checks.status_code_conformance, checks.content_type_conformance, checks.response_schema_conformance]
    case.validate_response(response, checks=conformance)


@pytest.mark.parametrize(("method", "path"), FUZZED, ids=lambda v: v)
def test_no_5xx_and_every_4xx_in_the_envelope(method, path, schema, live_twin, session, shared_world, world_client):
    world = shared_world
    if method != "GET":  # writes may close, cancel or delete what they touch: a fresh world each
        world = build_world(world_client)
    operation = schema[path][method]
    base_url = live_twin.base_url
    statuses: list[int] = []

    from schemathesis import GenerationMode

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        if mode is GenerationMode.NEGATIVE and (method, path) in NOTHING_TO_NEGATE:
            assert _nothing_to_negate(schema.raw_schema["paths"][path][method.lower()]), (method, path)
            continue

        @settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans(), edge=st.none() | edge_text)
        def fuzz(case: Case, real: bool, edge: str | None) -> None:
            if real or edge is not None:  # an edge number is judged by the handler, past the id lookups
                _use_real_ids(case, world)
            if edge is not None:
                _use_edge_numbers(case, edge)
            response = case.call(base_url=base_url, session=session, timeout=10)
            statuses.append(response.status_code)
            _judge(case, response)

        fuzz()
    if "{" in path:  # the real ids took the requests past the lookup, into the handler
        assert any(s != 404 for s in statuses), statuses


def test_download_is_documented_as_the_files_own_media_type(schema, live_twin, shared_world):
    """Regression (found by this fuzzing): the document promised application/json for a PDF download."""
    content = schema.raw_schema["paths"]["/documents/{document_id}/download"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["*/*"]
    with httpx.Client(base_url=live_twin.base_url, auth=live_twin.auth, verify=default_tls_context()) as client:
        r = client.get(f"/documents/{shared_world['document_id']}/download")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/pdf")
