from __future__ import annotations

from starlette.routing import Route

from bluum_readiness.twin import app as twin_app
from bluum_readiness.twin.openapi_spec import OPERATIONS


def test_every_route_is_documented_and_every_operation_is_routed():
    routed = {
        (method, route.path)
        for route in twin_app.api_routes()
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert routed == set(OPERATIONS)


def test_document_is_served_without_credentials(inproc):
    r = inproc.client_for(None).get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    deposit = doc["paths"]["/investors/{investor_id}/deposits"]["post"]
    header = next(p for p in deposit["parameters"] if p["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["required"] is True
    ref = deposit["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(doc["components"]["schemas"][ref]["required"]) >= {"amount", "method"}
    assert "BLUM-429-001" in doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
