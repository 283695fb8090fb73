"""Authentication on every route, and the five 401 codes that do not need key management."""

from __future__ import annotations

import base64

import pytest
from starlette.routing import Mount, Route

from bluum_readiness.twin import app as twin_app
from bluum_readiness.twin.middleware.auth import PUBLIC_PATHS, parse_basic


def _concrete(path: str) -> str:
    samples = {
        "investor_id": "inv_01j9x8m2k7qpzwv3t5r6y8n0ab",
        "symbol": "AAPL",
    }
    out = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1].split(":")[0]
            out.append(samples.get(name, "x_01j9x8m2k7qpzwv3t5r6y8n0ab"))
        else:
            out.append(part)
    return "/".join(out)


def _all_routes() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for prefix, routes in (("/v1", twin_app.api_routes()), ("/_sandbox", twin_app.sandbox_routes())):
        for route in routes:
            assert isinstance(route, Route | Mount)
            if isinstance(route, Route):
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    found.append((method, prefix + _concrete(route.path)))
    return found


def test_every_route_refuses_a_missing_or_wrong_authorization(inproc):
    anonymous = inproc.client_for(None)
    wrong = inproc.client_for(None, auth=("test_bluum_nope", "nope"))
    routes = [(m, p) for m, p in _all_routes() if p not in PUBLIC_PATHS]
    assert len(routes) >= 6
    for method, path in routes:
        r = anonymous.request(method, "http://twin" + path)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["code"] == "BLUM-401-001"
        assert r.headers["www-authenticate"].startswith("Basic")
        assert r.headers["x-request-id"].startswith("req_")
        r = wrong.request(method, "http://twin" + path)
        assert r.json()["error"]["code"] == "BLUM-401-003", (method, path)
    anonymous.close()
    wrong.close()


@pytest.mark.parametrize(
    "header",
    ["Bearer abc", "Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic Og=="],
)
def test_malformed_authorization_is_401_002(inproc, header):
    r = inproc.client_for(None).get("/investors", headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["error"]["code"] == "BLUM-401-002"
    assert r.json()["error"]["type"] == "authentication_error"


def test_wrong_secret_for_a_real_key_is_401_003(inproc):
    r = inproc.client_for(None, auth=(inproc.pair.key, "0" * 64)).get("/investors")
    assert r.json()["error"]["code"] == "BLUM-401-003"


def test_parse_basic_accepts_a_secret_containing_colons():
    header = "Basic " + base64.b64encode(b"key:se:cret").decode()
    assert parse_basic(header) == ("key", "se:cret")


def test_tenant_isolation(inproc):
    investor = inproc.new_investor()
    other = inproc.twin.create_tenant("other partner")
    r = inproc.client_for(other).get(f"/investors/{investor['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-001"
    assert inproc.client_for(other).get("/investors").json()["data"] == []


def test_unknown_route_is_404_002_with_request_id(inproc):
    r = inproc.client.get("/no-such-thing")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "BLUM-404-002"
    assert r.headers["x-request-id"].startswith("req_")
    r = inproc.client.delete("/investors")
    assert r.json()["error"]["code"] == "BLUM-404-002"
