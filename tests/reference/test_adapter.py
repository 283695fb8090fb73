"""The adapter against the contract: loadable by ``module:factory``, every operation and the optional
capabilities present, the env's base_url and timeout used, the calls each operation makes; exports complete."""

from __future__ import annotations

import inspect
import json

import httpx
import pytest

import bluum_readiness.reference as reference
from bluum_readiness.integration import (
    OPERATIONS,
    Credentials,
    Integration,
    IntegrationEnv,
    load_factory,
    make_integration,
)
from bluum_readiness.reference import FAST_POLICY, BluumError, ReferenceIntegration, RetryPolicy, create, create_fast
from bluum_readiness.reference import _exceptions as exceptions_module
from tests.reference._doubles import Script, Sleeps

PAIR = Credentials("test_bluum_key", "secret")


def _env(base_url: str = "http://proxy.test:8123/v1", timeout: float = 0.5) -> IntegrationEnv:
    return IntegrationEnv(base_url=base_url, credentials=lambda: PAIR, request_timeout_s=timeout)


def _fs(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/link-token"):
        return httpx.Response(201, json={"link_token": "link-sandbox-1", "hosted_link_url": "https://x"})
    if json.loads(request.content)["type"] == "plaid":
        return httpx.Response(201, json={"object": "list", "data": [{"id": "fs_plaid1"}, {"id": "fs_plaid2"}]})
    return httpx.Response(201, json={"id": "fs_manual"})


def _scripted(handler=None, **kwargs) -> tuple[ReferenceIntegration, Script]:
    script = Script(then=handler) if handler else Script()
    return create(_env(**kwargs), transport=httpx.MockTransport(script), sleep=Sleeps()), script


@pytest.mark.parametrize("spec", ["bluum_readiness.reference:create", "bluum_readiness.reference:create_fast"])
def test_the_factories_load_and_implement_the_contract(spec):
    integration = make_integration(load_factory(spec), _env())
    try:
        assert isinstance(integration, ReferenceIntegration)
        assert isinstance(integration, Integration)  # the runtime-checkable protocol
        assert all(callable(getattr(integration, op)) for op in OPERATIONS)
        assert all(callable(getattr(integration, name, None)) for name in ("request_log", "close"))
        for op in OPERATIONS:  # the contract's signatures, parameter for parameter
            expected = inspect.signature(getattr(Integration, op)).parameters
            assert list(inspect.signature(getattr(integration, op)).parameters) == list(expected)[1:]
    finally:
        integration.close()


def test_create_uses_the_env_timeout_and_production_backoff():
    policy = create(_env(timeout=0.75)).client.policy
    assert policy == RetryPolicy(timeout_s=0.75)
    assert (policy.max_attempts, policy.base_s, policy.cap_s) == (5, 0.25, 8.0)


def test_create_fast_only_shortens_the_backoff():
    assert FAST_POLICY == {"base_s": 0.02, "cap_s": 0.2}
    assert create_fast(_env()).client.policy == RetryPolicy(timeout_s=0.5, base_s=0.02, cap_s=0.2)
    assert create_fast(_env(), max_attempts=3).client.policy.max_attempts == 3
    with pytest.raises(TypeError):
        create(_env(), base_seconds=1.0)


def test_every_call_goes_to_the_env_base_url():
    integration, script = _scripted(base_url="http://proxy.test:8123/some/prefix/v1")
    integration.kyc_status("inv_1")
    integration.deposit("inv_1", "fs_1", "1.00")
    assert [str(r.url) for r in script.requests] == [
        "http://proxy.test:8123/some/prefix/v1/investors/inv_1",
        "http://proxy.test:8123/some/prefix/v1/investors/inv_1/deposits",
    ]


def test_plaid_links_with_a_link_token_then_connects_and_returns_the_first_source():
    integration, script = _scripted(_fs)
    assert integration.link_bank_account("inv_1", {"type": "plaid", "public_token": "public-sandbox-x"}) == "fs_plaid1"
    assert [r.url.path.rsplit("/", 2)[-2:] for r in script.requests] == [
        ["plaid", "link-token"],
        ["funding-sources", "connect"],
    ]
    assert json.loads(script.requests[1].content) == {"type": "plaid", "public_token": "public-sandbox-x"}


def test_a_manual_bank_is_connected_directly():
    integration, script = _scripted(_fs)
    assert integration.link_bank_account("inv_1", {"type": "manual", "bank_name": "B"}) == "fs_manual"
    assert len(script.requests) == 1


def test_an_unknown_bank_type_is_refused_before_any_call():
    integration, script = _scripted(_fs)
    with pytest.raises(ValueError, match="'wire'"):
        integration.link_bank_account("inv_1", {"type": "wire"})
    assert script.requests == []


def test_operations_return_what_the_contract_says():
    integration, _ = _scripted(lambda r: httpx.Response(200, json={"id": "x_1", "status": "open", "data": [{"a": 1}]}))
    assert integration.kyc_status("inv_1") == "open"
    assert integration.get_order("inv_1", "ord_1") == {"id": "x_1", "status": "open", "data": [{"a": 1}]}
    assert integration.positions("inv_1") == [{"a": 1}]
    integration.cancel_order("inv_1", "ord_1")
    assert (
        integration.upload_document(
            "inv_1", {"document_type": "t", "purpose": "p", "file_name": "a.png", "content": b"png"}
        )
        == "x_1"
    )


def test_positions_follow_the_pages():
    pages = iter([{"data": [{"n": 1}, {"n": 2}], "has_more": True}, {"data": [{"n": 3}], "has_more": False}])
    integration, script = _scripted(lambda r: httpx.Response(200, json=next(pages)))
    assert integration.positions("inv_1") == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [dict(r.url.params) for r in script.requests] == [
        {"limit": "200", "offset": "0"},
        {"limit": "200", "offset": "2"},
    ]


def test_exports_are_sorted_and_complete():
    assert reference.__all__ == sorted(reference.__all__)
    assert all(hasattr(reference, name) for name in reference.__all__)
    errors = {
        name for name, obj in vars(exceptions_module).items() if isinstance(obj, type) and issubclass(obj, BluumError)
    }
    assert errors <= set(reference.__all__)
