"""Credentials: read from the secret source for every request; one bounded refresh on 401; the secret never
appears in the request log, in exceptions or in log records."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from bluum_readiness.integration import Credentials, IntegrationEnv
from bluum_readiness.reference import AuthenticationError, BluumError, create
from tests.reference._doubles import BASE_URL, NEW, OLD, SECRET, Script, SecretSource, Sleeps, error, ok, rig


def _pair(request: httpx.Request) -> Credentials:
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    key, _, secret = base64.b64decode(token).decode().partition(":")
    return Credentials(key, secret)


def _only(pair: Credentials):
    """A server that accepts only ``pair`` (as after a rotation that revoked the other)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return ok(request) if _pair(request) == pair else error(401, "BLUM-401-003")

    return handler


def test_credentials_are_read_for_every_request():
    r = rig()
    r.client.get_investor("inv_1")
    r.secrets.pair = NEW
    r.client.get_investor("inv_1")
    assert [_pair(q) for q in r.script.requests] == [OLD, NEW]
    assert r.secrets.reads == 2


def test_a_401_rereads_the_credentials_and_recovers_with_the_new_pair():
    secrets = SecretSource(OLD)
    secrets.rotate_after(1, NEW)  # the secret manager has the new pair by the time we ask again
    r = rig(secrets=secrets)
    r.script.then = _only(NEW)
    assert r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")["id"].startswith("dep_")
    assert [_pair(q) for q in r.script.requests] == [OLD, NEW]
    assert r.sleeps == []  # a changed pair is tried at once
    assert len(set(r.script.keys())) == 1  # the refresh re-sends the same operation


def test_an_unchanged_pair_is_retried_once_after_a_short_wait():
    r = rig(error(401, "BLUM-401-003"), base_s=0.25)
    r.client.get_investor("inv_1")
    assert [_pair(q) for q in r.script.requests] == [OLD, OLD]
    assert r.sleeps == [0.25]
    assert r.secrets.reads == 3  # before the request, after the 401, and after the wait


def test_a_persistent_401_is_bounded_and_raises():
    r = rig(*[401] * 50)
    with pytest.raises(AuthenticationError) as caught:
        r.client.get_investor("inv_1")
    assert len(r.script.requests) == 2 and caught.value.status == 401 and caught.value.request_id


def test_a_401_after_the_pair_changed_is_still_bounded():
    secrets = SecretSource(OLD)
    secrets.rotate_after(1, NEW)
    r = rig(*[401] * 50, secrets=secrets)
    with pytest.raises(AuthenticationError):
        r.client.get_investor("inv_1")
    assert [_pair(q) for q in r.script.requests] == [OLD, NEW]


def test_a_401_in_the_middle_of_retries_ends_them():
    r = rig(503, 401, 401)
    with pytest.raises(AuthenticationError):
        r.client.get_investor("inv_1")
    assert len(r.script.requests) == 3


def _secret_forms() -> list[str]:
    forms = []
    for pair in (OLD, NEW):
        forms += [pair.secret, base64.b64encode(f"{pair.key}:{pair.secret}".encode()).decode()]
    return forms


def test_the_secret_never_appears_in_logs_errors_or_the_request_log(caplog):
    caplog.set_level(logging.DEBUG)
    secrets = SecretSource(OLD)
    script = Script([401, 401, 400, 503, httpx.ReadTimeout("timed out"), 422, *[503] * 9])
    env = IntegrationEnv(base_url=BASE_URL, credentials=secrets.get)
    integration = create(env, transport=httpx.MockTransport(script), sleep=Sleeps(), max_attempts=3)
    failures: list[BluumError] = []
    for operation in (
        lambda: integration.kyc_status("inv_1"),
        lambda: integration.deposit("inv_1", "fs_1", "1.00"),
        lambda: integration.withdraw("inv_1", "fs_1", "1.00"),
        lambda: integration.withdraw("inv_1", "fs_1", "1.00"),
        lambda: integration.place_order("inv_1", {"symbol": "AAPL"}),
    ):
        with pytest.raises(BluumError) as caught:
            operation()
        failures.append(caught.value)
        secrets.pair = NEW  # rotate between operations, so both pairs were on the wire
    assert [type(f).__name__ for f in failures] == [
        "AuthenticationError",
        "InvalidRequest",
        "InsufficientFunds",
        "ServerError",
        "ServerError",
    ]
    texts = {
        "exceptions": "".join(f"{f} {f!r} {f.__dict__!r} {f.__cause__!r}" for f in failures),
        "log records": caplog.text + repr([(r.args, r.__dict__) for r in caplog.records]),
        "request log": repr(integration.request_log()),
        "reprs": f"{integration!r} {integration.client!r} {env!r}",
    }
    assert len(integration.request_log()) == len(script.requests) == 2 + 1 + 3 + 3 + 3
    for where, text in texts.items():
        leaked = [form for form in _secret_forms() if form in text]
        assert not leaked, f"the secret leaked into the {where}"
    assert SECRET not in caplog.text
