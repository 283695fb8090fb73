"""Webhook delivery: signing, retries on the schedule, parking, restarts, in-flight guard, end to end."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import standardwebhooks
import trustme

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.clock import ManualClock
from bluum_readiness.testing import investor_profile
from bluum_readiness.twin import Twin, TwinServer, TwinSettings, dispatcher
from bluum_readiness.twin.signing import new_secret, signature_headers
from tests.twin._webhook_helpers import create_webhook, expected_signature, poll, receiver, sandbox


def tick(inproc) -> int:
    r = sandbox(inproc.client, "POST", "/tick")
    assert r.status_code == 200, r.text
    return int(r.json()["deliveries_attempted"])


def deliveries(client, **params) -> list[dict]:
    r = sandbox(client, "GET", "/webhook-deliveries", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def test_signer_matches_the_standard_webhooks_library():
    secret = new_secret(lambda n: bytes(range(n)))
    assert secret == "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    headers = signature_headers(secret, "evt_1", 1_767_225_600.9, '{"a":1}')
    assert headers["webhook-id"] == "evt_1" and headers["webhook-timestamp"] == "1767225600"
    assert headers["webhook-signature"] == expected_signature(secret, "evt_1", "1767225600", b'{"a":1}')


def test_delivery_sends_exact_body_signed(inproc):
    with receiver() as rx:
        hook = create_webhook(inproc.client, rx.url, ["account.created"])
        investor = inproc.client.post("/investors", json=investor_profile()).json()
        assert tick(inproc) == 1
        assert tick(inproc) == 0
        [got] = rx.received
    event = sandbox(inproc.client, "GET", "/events").json()["data"][0]
    assert got.json["id"] == event["id"] and got.json["event"] == "account.created"
    assert got.json["data"]["id"] == investor["id"] and "_tax_id" not in got.json["data"]
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == event["id"]
    assert got.headers["webhook-timestamp"] == str(int(inproc.clock.now()))
    assert got.headers["webhook-signature"] == expected_signature(
        hook["secret"], event["id"], got.headers["webhook-timestamp"], got.body
    )
    [delivery] = deliveries(inproc.client)
    assert delivery["status"] == "delivered" and delivery["event_id"] == event["id"]
    assert delivery["attempt_count"] == 1 and delivery["next_attempt_at"] is None
    [attempt] = delivery["attempts"]
    assert attempt["attempt"] == 1 and attempt["status_code"] == 200 and attempt["error"] is None
    assert attempt["url"] == rx.url and attempt["latency_ms"] >= 0


def test_500_then_200_is_retried_on_the_schedule(inproc):
    with receiver(plan=[500]) as rx:
        create_webhook(inproc.client, rx.url, ["account.created"])
        inproc.client.post("/investors", json=investor_profile())
        assert tick(inproc) == 1
        [delivery] = deliveries(inproc.client)
        assert delivery["status"] == "pending" and delivery["attempts"][0]["status_code"] == 500
        assert delivery["attempts"][0]["error"] == "HTTP 500"
        assert tick(inproc) == 0  # the first retry waits webhook_retry_schedule_s[0]
        inproc.clock.advance(0.05)
        assert tick(inproc) == 1
        assert len(rx.received) == 2
        assert rx.received[0].body == rx.received[1].body
        assert rx.received[0].headers["webhook-id"] == rx.received[1].headers["webhook-id"]
    [delivery] = deliveries(inproc.client)
    assert delivery["status"] == "delivered" and delivery["attempt_count"] == 2
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert [a["attempt"] for a in delivery["attempts"]] == [1, 2]


def test_every_attempt_is_signed_in_a_later_second_than_the_one_before(inproc):
    """Bluum's retries come minutes apart, each with its own timestamp and signature; the fast twin's retries
    within one second must differ the same way, or a receiver deduping on the signature would pass."""
    with receiver(default=500) as rx:
        hook = create_webhook(inproc.client, rx.url, ["account.created"])
        inproc.client.post("/investors", json=investor_profile())
        first = int(inproc.clock.now())
        for wait in (0.0, *inproc.twin.settings.webhook_retry_schedule_s):  # 0.35 s in all: parked
            inproc.clock.advance(wait)
            assert tick(inproc) == 1
        [parked] = deliveries(inproc.client)
        inproc.clock.advance(3600)  # replayed an hour later: signed at the replay's own second
        sandbox(inproc.client, "POST", f"/webhook-deliveries/{parked['id']}/retry")
        assert tick(inproc) == 1
        stamps = [int(r.headers["webhook-timestamp"]) for r in rx.received]
        signatures = {r.headers["webhook-signature"] for r in rx.received}
    assert stamps == [first, first + 1, first + 2, first + 3, int(inproc.clock.now())]
    assert len(signatures) == 5 and len({r.body for r in rx.received}) == 1  # one event, one body
    for r in rx.received:  # each signed over its own timestamp (a few seconds ahead at most: within tolerance)
        h = r.headers
        assert h["webhook-signature"] == expected_signature(hook["secret"], h["webhook-id"], h["webhook-timestamp"],
                                                            r.body)  # fmt: skip


def test_always_failing_receiver_is_parked_after_the_schedule_and_can_be_retried(inproc):
    schedule = inproc.twin.settings.webhook_retry_schedule_s
    with receiver(default=503) as rx:
        create_webhook(inproc.client, rx.url, ["account.created"])
        inproc.client.post("/investors", json=investor_profile())
        for wait in (0.0, *schedule):
            inproc.clock.advance(wait)
            assert tick(inproc) == 1
        [delivery] = deliveries(inproc.client)
        assert delivery["status"] == "parked" and delivery["attempt_count"] == len(schedule) + 1
        inproc.clock.advance(3600)
        assert tick(inproc) == 0
        assert deliveries(inproc.client, status="parked")[0]["id"] == delivery["id"]
        assert deliveries(inproc.client, status="pending") == []

        retried = sandbox(inproc.client, "POST", f"/webhook-deliveries/{delivery['id']}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        rx.default = 200
        assert tick(inproc) == 1
    [delivery] = deliveries(inproc.client)
    assert delivery["status"] == "delivered" and len(delivery["attempts"]) == len(schedule) + 2
    again = sandbox(inproc.client, "POST", f"/webhook-deliveries/{delivery['id']}/retry")
    assert again.status_code == 409 and again.json()["error"]["code"] == "BLUM-409-003"
    missing = sandbox(inproc.client, "POST", "/webhook-deliveries/dlv_01j9x8m2k7qpzwv3t5r6y8n0ab/retry")
    assert missing.status_code == 404


def test_connection_errors_and_timeouts_are_failed_attempts(inproc):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    create_webhook(inproc.client, f"http://127.0.0.1:{closed_port}/hook", ["account.created"])
    inproc.client.post("/investors", json=investor_profile())
    assert tick(inproc) == 1
    [attempt] = deliveries(inproc.client)[0]["attempts"]
    assert attempt["status_code"] is None and attempt["error"].startswith("ConnectError")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    inproc.clock.advance(1)
    assert asyncio.run(dispatcher.dispatch_due(inproc.twin, transport=httpx.MockTransport(slow))) == 1
    second = deliveries(inproc.client)[0]["attempts"][1]
    assert second["status_code"] is None and second["error"].startswith("timeout after 2 s")


def test_inactive_or_deleted_webhooks_park_their_deliveries_without_sending(inproc):
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    paused = create_webhook(inproc.client, "http://receiver.test/a", ["account.created"])
    gone = create_webhook(inproc.client, "http://receiver.test/b", ["account.created"])
    inproc.client.post("/investors", json=investor_profile())
    inproc.client.patch(f"/webhooks/{paused['id']}", json={"status": "INACTIVE"})
    inproc.client.delete(f"/webhooks/{gone['id']}")
    assert asyncio.run(dispatcher.dispatch_due(inproc.twin, transport=transport)) == 0
    assert sent == []
    assert {(d["webhook_id"], d["status"], len(d["attempts"])) for d in deliveries(inproc.client)} == {
        (paused["id"], "parked", 0),
        (gone["id"], "parked", 0),
    }


def test_many_deliveries_in_one_pass(inproc):
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204))
    create_webhook(inproc.client, "http://receiver.test/a", ["account.created"])
    for _ in range(20):
        inproc.client.post("/investors", json=investor_profile())
    assert asyncio.run(dispatcher.dispatch_due(inproc.twin, transport=transport)) == 20
    assert len({r.headers["webhook-id"] for r in sent}) == 20
    assert {d["status"] for d in deliveries(inproc.client, limit=200)} == {"delivered"}


def test_a_delivery_is_never_sent_twice_at_once(inproc):
    create_webhook(inproc.client, "http://receiver.test/a", ["account.created"])
    inproc.client.post("/investors", json=investor_profile())

    async def scenario() -> tuple[int, int, int]:
        gate = asyncio.Event()
        calls = 0

        async def handler(request: httpx.Request) -> httpx.Response:
            nonlocal calls
            calls += 1
            await gate.wait()
            return httpx.Response(200)

        transport = httpx.MockTransport(handler)
        first = asyncio.create_task(dispatcher.dispatch_due(inproc.twin, transport=transport))
        for _ in range(1000):
            if calls:
                break
            await asyncio.sleep(0)
        second = await dispatcher.dispatch_due(inproc.twin, transport=transport)
        gate.set()
        return await first, second, calls

    assert asyncio.run(scenario()) == (1, 0, 1)
    [delivery] = deliveries(inproc.client)
    assert delivery["status"] == "delivered" and delivery["attempt_count"] == 1


def test_pending_deliveries_survive_a_restart(make_inproc, tmp_path: Path):
    db = str(tmp_path / "twin.db")
    first = make_inproc(db_path=db)
    with receiver() as rx:
        create_webhook(first.client, rx.url, ["account.created"])
        first.client.post("/investors", json=investor_profile())
        assert [d["status"] for d in deliveries(first.client)] == ["pending"]
        first.client.close()
        first.twin.close()

        again = Twin(TwinSettings.fast(db_path=db), clock=ManualClock())
        try:
            assert asyncio.run(dispatcher.dispatch_due(again)) == 1
            row = again.db.one("SELECT status, attempts FROM deliveries")
            assert row is not None and tuple(row) == ("delivered", 1)
        finally:
            again.close()
        assert rx.events() == ["account.created"]


def test_end_to_end_over_real_sockets(twin_server, client):
    with receiver(plan=[500]) as rx:
        hook = create_webhook(client, rx.url, ["*"])
        investor = client.post("/investors", json=investor_profile()).json()
        poll(lambda: client.get(f"/investors/{investor['id']}").json()["status"] == "active")
        r = client.post(
            "/documents",
            files={"document": ("passport.pdf", b"%PDF-1.4 test", "application/pdf")},
            data={"document_type": "PASSPORT", "purpose": "KYC", "investor_id": investor["id"]},
        )
        assert r.status_code == 201, r.text
        wanted = {"account.created", "account.updated", "kyc.verification.approved", "document.approved"}
        rx.wait_for(lambda x: wanted <= set(x.events()))
        verifier = standardwebhooks.Webhook(hook["secret"])
        for got in rx.received:
            payload = verifier.verify(got.body, got.headers)
            assert payload["id"] == got.headers["webhook-id"]
        document_event = next(g.json for g in rx.received if g.json["event"] == "document.approved")
        assert document_event["data"]["id"] == r.json()["id"] and document_event["data"]["status"] == "accepted"

        def all_delivered() -> bool:
            found = deliveries(client)
            return bool(found) and all(d["status"] == "delivered" for d in found)

        poll(all_delivered)
        retried = [d for d in deliveries(client) if d["attempt_count"] == 2]
        assert len(retried) == 1 and [a["status_code"] for a in retried[0]["attempts"]] == [500, 200]


def test_https_receiver_trusted_through_webhook_ca_file(tmp_path: Path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with (
        receiver(ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as rx,
        TwinServer(TwinSettings.fast(webhook_ca_file=str(ca_file))) as server,
        httpx.Client(base_url=server.base_url, auth=server.auth, timeout=10) as c,
    ):
        assert rx.url.startswith("https://")
        hook = create_webhook(c, rx.url, ["account.created"])
        c.post("/investors", json=investor_profile())
        rx.wait_for(lambda x: x.events() == ["account.created"])
        standardwebhooks.Webhook(hook["secret"]).verify(rx.received[0].body, rx.received[0].headers)


def test_untrusted_https_receiver_fails_with_an_error(tmp_path: Path, inproc):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with receiver(ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as rx:
        create_webhook(inproc.client, rx.url, ["account.created"])
        inproc.client.post("/investors", json=investor_profile())
        assert tick(inproc) == 1
        assert rx.received == []
    [attempt] = deliveries(inproc.client)[0]["attempts"]
    assert attempt["status_code"] is None and "ConnectError" in attempt["error"]


def test_deliveries_share_one_tls_context_per_ca_file_as_it_is_on_disk(tmp_path) -> None:
    """A TLS context costs ~18 ms of CPU to build and a busy twin sends a batch every tick: one per CA file, made
    again only when the file changes."""
    assert dispatcher._verify(None) is default_tls_context()
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(ca_file)
    first = dispatcher._verify(str(ca_file))
    assert dispatcher._verify(str(ca_file)) is first
    trustme.CA().cert_pem.write_to_path(ca_file)  # another CA in its place
    with open(ca_file, "a") as grown:
        grown.write("\n")  # (and a different size, whatever the clock's resolution)
    assert dispatcher._verify(str(ca_file)) is not first
