"""50 concurrent deposits over real sockets: one Idempotency-Key → one money movement; 50 keys → 50.

The twin's documented semantics (docs/sandbox-twin.md, Idempotency): a duplicate that arrives while the
original is in flight waits for it and replays it (201, same body, ``Idempotent-Replayed: true``), or gets
409 BLUM-409-003 after ``idempotency_wait_s``. Nothing is ever processed twice.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from bluum_readiness.twin import TwinServer
from tests.reliability.world import active_investor, status_of, wait_for
from tests.twin.money_helpers import connect_plaid, ledger, wallet

CONCURRENCY = 50


async def _fire(server: TwinServer, url: str, body: dict[str, Any], keys: list[str]) -> list[httpx.Response]:
    """Send one POST per key, all at once (one connection each, released together by a start signal)."""
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=server.base_url, auth=server.auth, timeout=15, limits=limits) as client:

        async def one(k: str) -> httpx.Response:
            await go.wait()
            return await client.post(url, json=body, headers={"Idempotency-Key": k})

        tasks = [asyncio.create_task(one(k)) for k in keys]
        await asyncio.sleep(0)
        go.set()
        return await asyncio.gather(*tasks)


def _funded_setup(client: httpx.Client) -> tuple[str, str, dict[str, Any]]:
    investor = active_investor(client)
    source = connect_plaid(client, investor)["id"]
    body = {"amount": "12.34", "currency": "USD", "method": "ach", "funding_source_id": source}
    return investor, f"/investors/{investor}/deposits", body


def _settled(client: httpx.Client, investor: str, deposit_ids: set[str]) -> None:
    for dep in deposit_ids:
        wait_for(lambda d=dep: status_of(client, f"/investors/{investor}/deposits/{d}", ("completed",)), "settling")


def test_fifty_concurrent_deposits_with_one_key_move_money_once(live_twin, live_client):
    investor, url, body = _funded_setup(live_client)
    key = str(uuid.uuid4())
    responses = asyncio.run(_fire(live_twin, url, body, [key] * CONCURRENCY))

    created = [r for r in responses if r.status_code == 201]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_progress) == CONCURRENCY, sorted({(r.status_code, r.text[:120]) for r in responses})
    assert all(r.json()["error"]["code"] == "BLUM-409-003" for r in in_progress)
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}
    assert all(r.json() == created[0].json() for r in created)
    originals = [r for r in created if r.headers.get("idempotent-replayed") != "true"]
    assert len(originals) == 1, "exactly one request was processed; every other one replayed it"

    deposit_id = created[0].json()["id"]
    _settled(live_client, investor, {deposit_id})
    assert [d["id"] for d in live_client.get(url).json()["data"]] == [deposit_id]
    movements = ledger(live_client, investor_id=investor)
    assert [(m["operation_id"], m["amount"]) for m in movements] == [(deposit_id, "12.34")]
    assert wallet(live_client, investor)["balance"] == "12.34"
    # and later retries with the key still replay the one deposit
    again = live_client.post(url, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == deposit_id


def test_fifty_concurrent_deposits_with_different_keys_move_money_fifty_times(live_twin, live_client):
    investor, url, body = _funded_setup(live_client)
    keys = [str(uuid.uuid4()) for _ in range(CONCURRENCY)]
    responses = asyncio.run(_fire(live_twin, url, body, keys))

    assert [r.status_code for r in responses] == [201] * CONCURRENCY, {r.text[:120] for r in responses}
    assert not any(r.headers.get("idempotent-replayed") for r in responses)
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == CONCURRENCY

    _settled(live_client, investor, ids)
    movements = ledger(live_client, investor_id=investor)
    assert len(movements) == CONCURRENCY
    assert {m["operation_id"] for m in movements} == ids
    assert wallet(live_client, investor)["balance"] == f"{12.34 * CONCURRENCY:.2f}"
