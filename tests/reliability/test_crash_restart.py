"""Kill -9 the twin in the middle of a lifecycle and restart it on the same SQLite file.

Proves, over real sockets and a real process crash:
- nothing acknowledged is lost: every resource a 2xx answered for is there after the restart, in the state
  last acknowledged or a later one (a settled deposit never goes back to pending);
- idempotency keys are still honoured: each acknowledged POST, sent again with its key and body, gets the
  original response (``Idempotent-Replayed: true``); a POST cut off by the crash, retried with its key, is
  processed at most once (no deposit appears twice, no money moves twice);
- pending webhook deliveries resume: the receiver answers 500 until the crash, so deliveries are pending
  (attempted, not delivered, not parked); after the restart, with the receiver healthy, all are delivered.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank
from tests.reliability.twin_process import TwinProcess
from tests.reliability.world import status_of, wait_for
from tests.twin._webhook_helpers import receiver

KEY = "test_bluum_" + "5e" * 32
SECRET = "a7" * 32
WRITERS = 4
ACKS_BEFORE_KILL = 40

# Later states rank higher; terminal states (the top rank of each kind) must never change.
RANKS: dict[str, dict[str, int]] = {
    "investor": {"onboarding": 0, "under_review": 1, "awaiting_documents": 1, "active": 2, "declined": 3},
    "deposit": {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2},
    "withdrawal": {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2},
    "order": {"pending": 0, "accepted": 1, "open": 1, "filled": 2, "canceled": 2, "cancelled": 2, "rejected": 2},
    "funding_source": {"active": 0, "disconnected": 1},
}


@dataclass
class Post:
    path: str
    body: dict[str, Any]
    key: str
    status: int | None = None  # None: no answer (the crash cut it off)
    response: Any = None


class Journal:
    """Every POST the lifecycle made, and the last state acknowledged for each resource."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: list[Post] = []
        self.seen: dict[str, dict[str, Any]] = {}

    def observe(self, resource: dict[str, Any]) -> None:
        with self.lock:
            self.seen[resource["id"]] = resource

    def post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        sent = Post(path, body, str(uuid.uuid4()))
        with self.lock:
            self.posts.append(sent)
        try:
            r = client.post(path, json=body, headers={"Idempotency-Key": sent.key})
        except httpx.TransportError:
            return None
        assert r.status_code < 300, r.text
        sent.status, sent.response = r.status_code, r.json()
        data = sent.response.get("data", [sent.response])  # connect (plaid) answers a list
        for resource in data:
            self.observe(resource)
        return data[0]  # type: ignore[no-any-return]

    def get(self, client: httpx.Client, path: str, wanted: tuple[str, ...]) -> dict[str, Any]:
        resource = wait_for(lambda: status_of(client, path, wanted), f"{path} in {wanted}")
        self.observe(resource)
        return resource


def _path_of(resource: dict[str, Any]) -> str:
    kind, rid = resource["object"], resource["id"]
    if kind == "investor":
        return f"/investors/{rid}"
    if kind == "webhook":
        return f"/webhooks/{rid}"
    plural = {
        "deposit": "deposits",
        "withdrawal": "withdrawals",
        "order": "orders",
        "funding_source": "funding-sources",
    }
    return f"/investors/{resource['investor_id']}/{plural[kind]}/{rid}"


def _lifecycle(c: httpx.Client, j: Journal, receiver_url: str) -> list[str]:
    """Acknowledged step by step: webhook, investors, funding, deposits (one cancelled), an order, a withdrawal."""
    j.post(c, "/webhooks", {"url": receiver_url, "eventTypeNames": ["*"], "name": "crash test"})
    investors = []
    for _ in range(2):
        inv = j.post(c, "/investors", investor_profile())
        assert inv is not None
        investors.append(inv["id"])
        j.get(c, f"/investors/{inv['id']}", ("active",))
    for inv_id in investors:
        plaid = j.post(c, f"/investors/{inv_id}/funding-sources/connect", plaid_bank())
        assert plaid is not None
        j.post(c, f"/investors/{inv_id}/funding-sources/connect", manual_bank())
        money = {"currency": "USD", "method": "ach", "funding_source_id": plaid["id"]}
        dep = j.post(c, f"/investors/{inv_id}/deposits", {"amount": "300.00", **money})
        manual = j.post(c, f"/investors/{inv_id}/deposits", {"amount": "50.00", "currency": "USD",
                                                              "method": "manual_bank_transfer"})  # fmt: skip
        assert dep is not None and manual is not None
        j.post(c, f"/investors/{inv_id}/deposits/{manual['id']}/cancel", {})
        j.get(c, f"/investors/{inv_id}/deposits/{dep['id']}", ("completed",))
        order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
        placed = j.post(c, f"/investors/{inv_id}/orders", order)
        assert placed is not None
        j.get(c, f"/investors/{inv_id}/orders/{placed['id']}", ("filled",))
        j.post(c, f"/investors/{inv_id}/withdrawals", {"amount": "20.00", **money})
    return investors


def _deliveries(c: httpx.Client) -> list[dict[str, Any]]:
    r = c.get(c.base_url.join("/_sandbox/webhook-deliveries"))
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return rows


def _all_attempted_and_pending(c: httpx.Client) -> list[dict[str, Any]] | None:
    rows = _deliveries(c)
    ok = rows and all(d["status"] == "pending" and d["attempt_count"] >= 1 for d in rows)
    return rows if ok else None


def _deposit_stream(base_url: str, j: Journal, investors: list[str], sources: dict[str, str], n: int,
                    stop: threading.Event) -> None:  # fmt: skip
    """One writer: deposits with fresh keys until the twin dies (or ``stop``)."""
    with httpx.Client(base_url=base_url, auth=(KEY, SECRET), timeout=5, verify=default_tls_context()) as c:
        for i in range(1000):
            if stop.is_set():
                return
            inv = investors[(n + i) % len(investors)]
            body = {"amount": f"{n + 1}.{i % 100:02d}", "currency": "USD", "method": "ach",
                    "funding_source_id": sources[inv]}  # fmt: skip
            if j.post(c, f"/investors/{inv}/deposits", body) is None:
                return


def _later_or_same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    ranks = RANKS.get(before["object"])
    if ranks is None or "status" not in before:
        return True
    top = max(ranks.values())
    b, a = ranks[before["status"]], ranks[after["status"]]
    return after["status"] == before["status"] if b == top else a >= b


def test_kill_9_mid_lifecycle_loses_nothing_and_resumes(tmp_path):
    db, log = tmp_path / "twin.sqlite3", tmp_path / "twin.log"
    j = Journal()
    with receiver(default=500) as hooks:
        with TwinProcess(db, KEY, SECRET, log) as first:
            with httpx.Client(
                base_url=first.base_url, auth=(KEY, SECRET), timeout=5, verify=default_tls_context()
            ) as c:
                investors = _lifecycle(c, j, hooks.url)
                wait_for(lambda: _all_attempted_and_pending(c), "every delivery failing at least once")
                sources = {
                    inv: next(
                        f["id"]
                        for f in c.get(f"/investors/{inv}/funding-sources").json()["data"]
                        if f["type"] == "plaid"
                    )  # fmt: skip
                    for inv in investors
                }
                acked_before = sum(1 for p in j.posts if p.status)
                stop = threading.Event()
                writers = [
                    threading.Thread(target=_deposit_stream, args=(first.base_url, j, investors, sources, n, stop))
                    for n in range(WRITERS)
                ]
                for w in writers:
                    w.start()
                wait_for(lambda: sum(1 for p in j.posts if p.status) >= acked_before + ACKS_BEFORE_KILL, "acks")
                pending = [d for d in _deliveries(c) if d["status"] == "pending" and d["attempt_count"] >= 1]
                first.kill9()  # mid-flight: the writers are still sending
                for w in writers:
                    w.join(timeout=10)
                stop.set()
        assert pending, "no delivery was pending at the crash: the resume check would prove nothing"
        hooks.default = 200
        answered_before = len(hooks.received)

        with TwinProcess(db, KEY, SECRET, log) as second:
            with httpx.Client(
                base_url=second.base_url, auth=(KEY, SECRET), timeout=5, verify=default_tls_context()
            ) as c:
                _nothing_acknowledged_is_lost(c, j)
                _keys_are_honoured(c, j)
                _money_moved_once(c, j, investors)
                _deliveries_resumed(c, pending, hooks, answered_before)


def _nothing_acknowledged_is_lost(c: httpx.Client, j: Journal) -> None:
    assert len(j.seen) >= 20
    for rid, before in j.seen.items():
        r = c.get(_path_of(before))
        assert r.status_code == 200, (rid, r.text)
        after = r.json()
        assert _later_or_same(before, after), (rid, before.get("status"), after.get("status"))


def _keys_are_honoured(c: httpx.Client, j: Journal) -> None:
    for p in [p for p in j.posts if p.status is not None]:
        r = c.post(p.path, json=p.body, headers={"Idempotency-Key": p.key})
        assert (r.status_code, r.json()) == (p.status, p.response), p.path
        assert r.headers.get("idempotent-replayed") == "true", p.path
    for p in [p for p in j.posts if p.status is None]:  # cut off by the crash: the retry settles it, once
        r = c.post(p.path, json=p.body, headers={"Idempotency-Key": p.key})
        assert r.status_code == 201, r.text
        p.status, p.response = r.status_code, r.json()


def _money_moved_once(c: httpx.Client, j: Journal, investors: list[str]) -> None:
    for inv in investors:
        path = f"/investors/{inv}/deposits"
        keyed = {p.response["id"] for p in j.posts if p.path == path}
        listed = c.get(path, params={"limit": 200}).json()
        assert not listed["has_more"]
        assert {d["id"] for d in listed["data"]} == keyed, "a deposit was lost or processed twice"
        ach = [d["id"] for d in listed["data"] if d["method"] == "ach"]
        for dep in ach:
            url = f"{path}/{dep}"
            wait_for(lambda u=url: status_of(c, u, ("completed",)), f"{dep} settling after the restart")
        movements = c.get(c.base_url.join("/_sandbox/ledger"), params={"investor_id": inv}).json()["data"]
        deposits_moved = [m["operation_id"] for m in movements if m["kind"] == "deposit"]
        assert sorted(deposits_moved) == sorted(ach), "every settled deposit moved money exactly once"


def _deliveries_resumed(c: httpx.Client, pending: list[dict[str, Any]], hooks: Any, answered_before: int) -> None:
    ids = {d["id"] for d in pending}

    def all_delivered() -> list[dict[str, Any]] | None:
        rows = [d for d in _deliveries(c) if d["id"] in ids]
        return rows if len(rows) == len(ids) and all(d["status"] == "delivered" for d in rows) else None

    wait_for(all_delivered, "the pending deliveries being delivered after the restart")
    received_after = {r.json["id"] for r in hooks.received[answered_before:]}
    assert {d["event_id"] for d in pending} <= received_after
