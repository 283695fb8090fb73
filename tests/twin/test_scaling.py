"""Work that must not grow with history: reading an investor, and creating one.

Measured as SQLite virtual-machine instructions (``Database.counting_steps``), not time, so it is exact on a
loaded machine. The old code grew with history: a read summed the investor's whole ledger and decoded every
withdrawal and order for holds; a create compared the e-mail against every investor of the tenant; linking a
Plaid account compared its public token against every funding source of the tenant.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from bluum_readiness.testing import investor_profile, plaid_bank
from bluum_readiness.twin import Twin, TwinSettings
from bluum_readiness.twin.domain import ledger
from tests.fixtures.twin import InProcessTwin
from tests.twin.money_helpers import connect_plaid, deposit, funded, withdraw


def _steps(inproc: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with inproc.twin.db.counting_steps() as steps:
        r = inproc.client.request(method, path, **kwargs)
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return steps.count, body


def _pile_up(inproc: Any, investor_id: str, source_id: str, n: int) -> None:
    """``n`` completed deposits and ``n`` completed withdrawals (ledger entries, and withdrawals with no hold)."""
    for _ in range(n):
        assert deposit(inproc.client, investor_id, "2.00", funding_source_id=source_id).status_code == 201
        assert withdraw(inproc.client, investor_id, "1.00", source_id).status_code == 201
    inproc.advance()


def test_reading_an_investor_costs_the_same_however_long_its_history(inproc):
    investor, source = funded(inproc, "100.00")
    path = f"/investors/{investor['id']}"
    _pile_up(inproc, investor["id"], source["id"], 3)
    assert withdraw(inproc.client, investor["id"], "30.00", source["id"]).status_code == 201  # pending: a hold
    few, body = _steps(inproc, "GET", path)
    assert (body["balance"], body["buying_power"], body["cash_withdrawable"]) == ("103.00", "73.00", "73.00")

    _pile_up(inproc, investor["id"], source["id"], 40)  # completes the 30.00 too
    assert withdraw(inproc.client, investor["id"], "30.00", source["id"]).status_code == 201
    many, body = _steps(inproc, "GET", path)
    assert (body["balance"], body["buying_power"], body["cash_withdrawable"]) == ("113.00", "83.00", "83.00")
    assert len(ledger.entries(inproc.twin, inproc.pair.tenant_id, investor_id=investor["id"])) == 1 + 2 * 43 + 1
    assert many == few, f"a read ran {few} SQLite instructions with 7 ledger entries and {many} with 88"


def test_creating_an_investor_costs_the_same_however_many_exist(inproc):
    for _ in range(2):
        inproc.client.post("/investors", json=investor_profile())
    early, _ = _steps(inproc, "POST", "/investors", json=investor_profile())
    for _ in range(40):
        assert inproc.client.post("/investors", json=investor_profile()).status_code == 201
    late, _ = _steps(inproc, "POST", "/investors", json=investor_profile())
    assert late == early, f"creating the 3rd investor ran {early} SQLite instructions and the 44th {late}"


def test_linking_a_plaid_account_costs_the_same_however_many_are_linked(inproc):
    investor = inproc.new_investor()
    path = f"/investors/{investor['id']}/funding-sources/connect"
    for _ in range(2):
        connect_plaid(inproc.client, investor["id"])
    early, _ = _steps(inproc, "POST", path, json=plaid_bank())
    for _ in range(40):
        connect_plaid(inproc.client, investor["id"])
    late, _ = _steps(inproc, "POST", path, json=plaid_bank())
    assert late == early, f"linking the 3rd account ran {early} SQLite instructions and the 44th {late}"


def test_investors_stored_before_the_email_key_are_found_after_a_restart(tmp_path):
    db = str(tmp_path / "twin.sqlite3")
    first = InProcessTwin(db_path=db)
    try:
        legacy = first.twin.new_resource("inv", "investor", status="active", email="Legacy.Person@Example.com")
        with first.twin.db.tx():
            first.twin.store.insert(first.pair.tenant_id, legacy)  # no _email_key: as an older twin wrote it
        pair = first.pair
    finally:
        first.close()
    with contextlib.closing(sqlite3.connect(db)) as raw, raw:  # an older twin left no upgrade marker either
        raw.execute("DELETE FROM counters WHERE name LIKE 'upgrade.%'")
    again = InProcessTwin(db_path=db)
    try:
        client = again.client_for(pair)
        r = client.post("/investors", json=investor_profile(email="legacy.person@example.COM"))
        assert r.status_code == 409 and r.json()["error"]["code"] == "BLUM-409-001", r.text
        assert client.post("/investors", json=investor_profile()).status_code == 201
    finally:
        again.close()


def test_balances_of_a_database_written_before_the_balance_table_are_rebuilt(tmp_path):
    db = str(tmp_path / "twin.sqlite3")
    twin = Twin(TwinSettings.fast(db_path=db))
    tenant = twin.create_tenant().tenant_id
    with twin.db.tx():
        for investor, kind, cents in (("inv_a", "deposit", 500), ("inv_a", "withdrawal", 120), ("inv_b", "deposit", 7)):
            ledger.post(twin, tenant, investor, "dep_x", kind, cents)
    twin.close()
    with contextlib.closing(sqlite3.connect(db)) as raw, raw:  # what an older twin left: the ledger, no balance table
        raw.executescript(
            "DROP TRIGGER ledger_balance_on_insert; DROP TRIGGER ledger_balance_on_delete; DROP TABLE ledger_balances;"
        )
    reopened = Twin(TwinSettings.fast(db_path=db))
    try:
        assert ledger.balance_cents(reopened, tenant, "inv_a") == 380
        assert ledger.balance_cents(reopened, tenant, "inv_b") == 7
        assert ledger.balance_cents(reopened, tenant, "inv_c") == 0
    finally:
        reopened.close()
