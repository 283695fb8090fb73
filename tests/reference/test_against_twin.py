"""The reference integration over real sockets against a real twin: the whole lifecycle through the adapter
contract, errors surfacing as the right classes, and a key rotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from bluum_readiness.harness import poll
from bluum_readiness.integration import Credentials, Integration, IntegrationEnv
from bluum_readiness.reference import (
    AccountNotApproved,
    AssetNotFound,
    AuthenticationError,
    InsufficientFunds,
    InvalidRequest,
    ReferenceIntegration,
    create_fast,
)
from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank
from bluum_readiness.twin import TwinServer

T = TypeVar("T")


def _eventually(probe: Callable[[], T], until: Callable[[T], bool], timeout: float = 5.0) -> T:
    """Poll ``probe`` until its value satisfies ``until`` (bounded)."""
    value: T = poll(probe, until, timeout)
    assert until(value), f"still {value!r} after {timeout} s"
    return value


class Secrets:
    """A secret source the test can rotate."""

    def __init__(self, pair: Credentials) -> None:
        self.pair = pair

    def get(self) -> Credentials:
        return self.pair


@pytest.fixture
def secrets(twin_server: TwinServer) -> Secrets:
    return Secrets(Credentials(*twin_server.auth))


@pytest.fixture
def integration(twin_server: TwinServer, secrets: Secrets) -> Iterator[ReferenceIntegration]:
    made = create_fast(IntegrationEnv(base_url=twin_server.base_url, credentials=secrets.get, request_timeout_s=5.0))
    yield made
    made.close()


@pytest.fixture
def sandbox(twin_server: TwinServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{twin_server.origin}/_sandbox", auth=twin_server.auth, timeout=10) as client:
        yield client


def _active_investor(integration: ReferenceIntegration, **profile: Any) -> str:
    investor = integration.create_investor(investor_profile(**profile))
    _eventually(lambda: integration.kyc_status(investor), lambda s: s == "active")
    return investor


def test_the_whole_lifecycle_through_the_adapter(integration: ReferenceIntegration, sandbox: httpx.Client):
    assert isinstance(integration, Integration)
    client = integration.client
    investor = integration.create_investor(investor_profile())
    assert investor.startswith("inv_")
    assert _eventually(lambda: integration.kyc_status(investor), lambda s: s == "active") == "active"
    document = {"document_type": "id_verification", "purpose": "KYC", "file_name": "id.pdf", "content": b"%PDF-1.4"}
    assert integration.upload_document(investor, document).startswith("doc_")

    plaid = integration.link_bank_account(investor, plaid_bank())
    manual = integration.link_bank_account(investor, manual_bank())
    assert plaid.startswith("fs_") and manual.startswith("fs_") and plaid != manual

    deposit = integration.deposit(investor, plaid, "10000.00")
    assert deposit.startswith("dep_")
    _eventually(lambda: client.get_deposit(investor, deposit)["status"], lambda s: s == "completed")

    price = Decimal(str(client.get_asset("MSFT")["price"]))
    buy = {"symbol": "MSFT", "side": "buy", "time_in_force": "gtc"}
    market = integration.place_order(investor, {**buy, "type": "market", "quantity": "2"})
    _eventually(lambda: integration.get_order(investor, market)["status"], lambda s: s == "filled")

    limit_price = (price * Decimal("0.9")).quantize(Decimal("0.01"))
    limit = integration.place_order(
        investor, {**buy, "type": "limit", "quantity": "3", "limit_price": str(limit_price)}
    )
    _eventually(lambda: integration.get_order(investor, limit)["status"], lambda s: s == "open")
    new_price = (price * Decimal("0.85")).quantize(Decimal("0.01"))
    assert sandbox.put("/prices/MSFT", json={"price": str(new_price)}).status_code == 200
    filled = _eventually(lambda: integration.get_order(investor, limit), lambda o: o["status"] == "filled")
    assert filled["id"] == limit and filled["symbol"] == "MSFT"

    resting = integration.place_order(investor, {**buy, "type": "limit", "quantity": "1", "limit_price": "1.00"})
    _eventually(lambda: integration.get_order(investor, resting)["status"], lambda s: s == "open")
    integration.cancel_order(investor, resting)
    assert integration.get_order(investor, resting)["status"] == "cancelled"

    [position] = integration.positions(investor)
    assert position["symbol"] == "MSFT" and Decimal(position["quantity"]) == 5

    withdrawal = integration.withdraw(investor, plaid, "1000.00")
    assert withdrawal.startswith("wd_")
    _eventually(lambda: client.get_withdrawal(investor, withdrawal)["status"], lambda s: s == "completed")
    cost = 2 * price + 3 * new_price
    assert Decimal(client.get_wallet(investor)["balance"]) == (Decimal("9000.00") - cost).quantize(Decimal("0.01"))

    log = integration.request_log()
    assert all(e["status"] in (200, 201) and e["request_id"].startswith("req_") for e in log)
    posts = [e for e in log if e["method"] == "POST"]
    assert all(e["idempotency_key"] for e in posts) and len({e["idempotency_key"] for e in posts}) == len(posts)
    ledger = sandbox.get("/ledger", params={"investor_id": investor}).json()["data"]
    assert sorted(e["kind"] for e in ledger) == ["buy", "buy", "deposit", "withdrawal"]


def test_errors_surface_as_their_classes_with_code_and_request_id(integration: ReferenceIntegration):
    investor = _active_investor(integration)
    bank = integration.link_bank_account(investor, plaid_bank())
    with pytest.raises(InsufficientFunds) as caught:
        integration.withdraw(investor, bank, "1000000.00")
    exc = caught.value
    assert (exc.status, exc.code) == (422, "BLUM-422-001")
    assert exc.request_id is not None and exc.request_id.startswith("req_")
    assert str(exc).startswith(f"BLUM-422-001: {exc.message}") and str(exc).endswith(f"request id {exc.request_id})")
    [entry] = [e for e in integration.request_log() if e["path"].endswith("/withdrawals")]  # not retried
    assert (entry["status"], entry["request_id"]) == (422, exc.request_id)

    with pytest.raises(AssetNotFound) as unknown:
        integration.place_order(
            investor, {"symbol": "NOPE", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
        )
    assert unknown.value.code == "BLUM-404-003"
    with pytest.raises(InvalidRequest) as bad:
        integration.deposit(investor, bank, "12.345")
    assert bad.value.code == "BLUM-400-005" and bad.value.param == "amount"


def test_money_cannot_move_before_kyc_approves(integration: ReferenceIntegration):
    waiting = integration.create_investor(investor_profile(last_name="Documents"))
    _eventually(lambda: integration.kyc_status(waiting), lambda s: s == "awaiting_documents")
    bank = integration.link_bank_account(waiting, manual_bank())
    with pytest.raises(AccountNotApproved) as caught:
        integration.deposit(waiting, bank, "10.00")
    assert caught.value.code == "BLUM-403-002"


def test_a_key_rotation_is_followed_without_a_failed_call(
    integration: ReferenceIntegration, secrets: Secrets, sandbox: httpx.Client
):
    investor = _active_investor(integration)
    fresh = sandbox.post("/api-keys", json={"name": "rotation"}).json()
    old = secrets.pair
    secrets.pair = Credentials(fresh["key"], fresh["secret"])
    assert sandbox.post(f"/api-keys/{old.key}/revoke").status_code == 200
    assert integration.kyc_status(investor) == "active"
    secrets.pair = old  # a secret source still serving the revoked pair: one refresh, then an error
    with pytest.raises(AuthenticationError) as caught:
        integration.kyc_status(investor)
    assert caught.value.code == "BLUM-401-003"
    assert [e["status"] for e in integration.request_log()[-2:]] == [401, 401]
