"""The control API under ``/__proxy/`` (toxiproxy-style), so non-Python tooling can drive a running proxy.

    GET    /__proxy/version            {"name", "version"}
    GET    /__proxy/exchanges          {"data": [exchange, ...]}       DELETE: forget them (204)
    GET    /__proxy/faults             {"seed", "rules": [rule + {"seen", "applied"}, ...]}
    POST   /__proxy/faults             add one rule (a plan entry as JSON) → 201 the rule
    PUT    /__proxy/faults             replace the plan ({"seed", "rules"}) → 200 the plan
    DELETE /__proxy/faults/{name}      remove a rule (204; 404 when unknown)
    POST   /__proxy/reset              remove every rule and recorded exchange, re-seed (204)

Errors are ``{"error": "<what happened and what to do>", "status": <code>}``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from bluum_readiness import __version__
from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy.engine import DuplicateRule, FaultEngine
from bluum_readiness.proxy.plan import Plan, rule_from_dict
from bluum_readiness.proxy.recorder import Recorder
from bluum_readiness.twin.validation import JsonRejected, load_json

__all__ = ["PREFIX", "handle_control", "render"]

PREFIX = "/__proxy"
Reply = tuple[int, Any]


def _error(status: int, message: str) -> Reply:
    return status, {"error": message, "status": status}


def _json_body(body: bytes) -> Any:
    """The body as strict JSON (the twin's reader: no NaN/Infinity, no 1e999, no integer over 4,300 digits, no
    nesting past the parser's stack), or a ``ConfigError`` answered 400 (deep or huge-integer JSON used to end
    the connection with no answer)."""
    try:
        return load_json(body or b"null")
    except JsonRejected as exc:
        raise ConfigError(f"the request body {exc}; send a JSON object") from None


def render(status: int, payload: Any) -> tuple[int, bytes]:
    """A control answer as (status, JSON bytes; empty for None). A payload JSON cannot carry (a custom fault's
    ``inf``) is a 500 naming the problem instead of an ``Infinity`` that no JSON client reads."""
    if payload is None:
        return status, b""
    try:
        return status, json.dumps(payload, allow_nan=False).encode()
    except ValueError as exc:
        error = f"the answer holds a number JSON cannot carry ({exc}); give the fault finite parameters"
        return 500, json.dumps({"error": error, "status": 500}).encode()


def handle_control(engine: FaultEngine, recorder: Recorder, method: str, path: str, body: bytes) -> Reply:
    """Serve one control request; returns (status, JSON-able payload or None for 204)."""
    route = path.removeprefix(PREFIX).rstrip("/") or "/"
    try:
        if route == "/version" and method == "GET":
            return 200, {"name": "bluum-readiness proxy", "version": __version__}
        if route == "/exchanges" and method in ("GET", "DELETE"):
            if method == "DELETE":
                recorder.clear()
                return 204, None
            return 200, {"data": [e.to_dict() for e in recorder.snapshot()]}
        if route == "/faults" and method in ("GET", "POST", "PUT"):
            return _faults(engine, method, body)
        if route.startswith("/faults/") and method == "DELETE":
            name = unquote(route.removeprefix("/faults/"))
            if engine.remove_rule(name):
                return 204, None
            return _error(404, f"no rule named {name!r}; GET {PREFIX}/faults lists the rules")
        if route == "/reset" and method == "POST":
            engine.reset()
            recorder.clear()
            return 204, None
    except DuplicateRule as exc:
        return _error(409, str(exc))
    except ConfigError as exc:
        return _error(400, str(exc))
    known = {"/version", "/exchanges", "/faults", "/reset"}
    if route in known or route.startswith("/faults/"):
        return _error(405, f"{method} is not allowed on {PREFIX}{route}; see the control API in docs/fault-plans.md")
    return _error(404, f"no control endpoint {PREFIX}{route}; see the control API in docs/fault-plans.md")


def _faults(engine: FaultEngine, method: str, body: bytes) -> Reply:
    if method == "GET":
        return 200, {"seed": engine.seed, "rules": engine.stats()}
    data = _json_body(body)
    if not isinstance(data, dict):
        raise ConfigError("send a JSON object: a rule entry (POST) or a plan {seed, rules} (PUT)")
    if method == "PUT":
        plan = Plan.from_dict(data, source="plan")
        engine.set_plan(plan)
        return 200, plan.to_dict()
    rule = rule_from_dict(data, where="rule")
    engine.add_rule(rule)
    return 201, rule.to_dict()
