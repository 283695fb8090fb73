"""The control API under /__proxy/ on a running proxy: what non-Python tooling uses."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bluum_readiness import __version__
from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.proxy import ProxyServer


@pytest.fixture
def control(proxy: ProxyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.url + "/__proxy", timeout=5, verify=default_tls_context()) as c:
        yield c


def test_version(control: httpx.Client) -> None:
    assert control.get("/version").json() == {"name": "bluum-readiness proxy", "version": __version__}


def test_add_list_apply_and_delete_a_fault(control: httpx.Client, via_proxy: httpx.Client) -> None:
    rule = {"name": "rl", "fault": "status", "status": 429, "retry_after": 3, "method": "GET", "first": 1}
    created = control.post("/faults", json=rule)
    assert created.status_code == 201
    assert created.json() == {**rule, "retry_after": 3.0, "method": ["GET"]}
    assert via_proxy.get("/investors").status_code == 429
    assert via_proxy.get("/investors").status_code == 200
    listed = control.get("/faults").json()
    assert listed["seed"] == 0 and [(r["name"], r["seen"], r["applied"]) for r in listed["rules"]] == [("rl", 2, 1)]
    assert control.delete("/faults/rl").status_code == 204
    assert control.get("/faults").json()["rules"] == []


def test_replace_the_plan(control: httpx.Client, via_proxy: httpx.Client) -> None:
    plan = {"seed": 9, "rules": [{"name": "down", "fault": "status", "status": 503}]}
    assert control.put("/faults", json=plan).json() == plan
    assert via_proxy.get("/investors").status_code == 503


def test_exchanges_and_reset(control: httpx.Client, via_proxy: httpx.Client, proxy: ProxyServer) -> None:
    via_proxy.get("/investors", headers={"Idempotency-Key": "abc"})
    (exchange,) = control.get("/exchanges").json()["data"]
    assert exchange["path"] == "/v1/investors" and exchange["idempotency_key"] == "abc" and exchange["status"] == 200
    control.post("/faults", json={"name": "x", "fault": "drop_after"})
    assert control.post("/reset").status_code == 204
    assert control.get("/exchanges").json()["data"] == [] and control.get("/faults").json()["rules"] == []
    via_proxy.get("/investors")
    assert control.delete("/exchanges").status_code == 204 and proxy.exchanges() == []


def test_control_requests_are_not_recorded(control: httpx.Client, proxy: ProxyServer) -> None:
    control.get("/version")
    control.get("/faults")
    assert proxy.exchanges() == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/faults", {"name": "x", "fault": "nope"}, 400, "unknown fault kind 'nope'"),
        ("POST", "/faults", {"name": "x", "fault": "status"}, 400, "fault 'status': "),
        ("POST", "/faults", [1], 400, "send a JSON object"),
        ("PUT", "/faults", {"rules": [{"name": "x"}]}, 400, "'fault' is required"),
        ("DELETE", "/faults/ghost", None, 404, "no rule named 'ghost'; GET /__proxy/faults lists the rules"),
        ("GET", "/nothing", None, 404, "no control endpoint /__proxy/nothing"),
        ("PATCH", "/faults", None, 405, "PATCH is not allowed on /__proxy/faults"),
    ],
)
def test_errors_are_error_and_status(
    control: httpx.Client, method: str, path: str, body: object, status: int, message: str
) -> None:
    r = control.request(method, path, json=body)
    assert r.status_code == status
    assert r.json()["status"] == status and message in r.json()["error"]


def test_invalid_json_and_duplicates(control: httpx.Client) -> None:
    r = control.post("/faults", content=b"{not json")
    assert r.status_code == 400 and "the request body is not valid JSON" in r.json()["error"]
    rule = {"name": "x", "fault": "drop_after"}
    assert control.post("/faults", json=rule).status_code == 201
    dup = control.post("/faults", json=rule)
    assert dup.status_code == 409 and "a rule named 'x' exists" in dup.json()["error"]
