"""ReferenceReceiver over real TLS (the local CA), driven by WebhookSender."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bluum_readiness.webhooks import LocalCA, ReferenceReceiver, WebhookSender, scheme, shared_local_tls

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


@pytest.fixture
def receiver() -> Iterator[ReferenceReceiver]:
    r = ReferenceReceiver(lambda: SECRET, tls=shared_local_tls()).start()
    yield r
    r.stop()


@pytest.fixture
def sender(receiver: ReferenceReceiver) -> Iterator[WebhookSender]:
    with WebhookSender(receiver.url, lambda: SECRET, ca_file=shared_local_tls().ca_file) as s:
        yield s


def test_serves_https_with_a_certificate_from_the_local_ca(receiver):
    assert receiver.url.startswith("https://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):  # not trusted without the local CA
        httpx.post(receiver.url, content=b"{}")
    verify = ssl.create_default_context(cafile=shared_local_tls().ca_file)
    assert httpx.post(receiver.url.replace("127.0.0.1", "localhost"), content=b"{}", verify=verify).status_code == 400


def test_a_valid_delivery_is_acknowledged_and_processed_once(receiver, sender):
    delivery = sender.delivery()
    assert sender.send(delivery).status == 200
    assert sender.send(delivery).status == 200
    receiver.wait_idle()
    assert receiver.processed_events() == [delivery.event_id]
    assert [a.status for a in sender.attempts] == [200, 200]


def test_concurrent_duplicates_take_effect_once(receiver, sender):
    delivery = sender.delivery()
    assert all(a.accepted for a in sender.send_concurrently([delivery] * 5))
    receiver.wait_idle()
    assert receiver.processed_events() == [delivery.event_id]


def test_bad_signatures_are_rejected_without_effect(receiver, sender):
    tampered = sender.delivery()
    stale = sender.delivery(offset_s=-400)
    assert sender.send(tampered.with_body("tampered", tampered.body + b" ")).status == 400
    assert sender.send(stale).status == 400
    assert sender.send(sender.delivery().without("unsigned", "webhook-signature")).status == 400
    receiver.wait_idle()
    assert receiver.processed_events() == []


def test_out_of_order_events_do_not_regress_state(receiver, sender):
    t0 = datetime.now(UTC)
    newer = sender.delivery("order.filled", {"id": "ord_1", "status": "filled"}, event_at=t0)
    older = sender.delivery("order.accepted", {"id": "ord_1", "status": "accepted"}, event_at=t0 - timedelta(1))
    assert sender.send(newer).accepted and sender.send(older).accepted
    receiver.wait_idle()
    assert receiver.resource_status("ord_1") == "filled"
    assert len(receiver.processed_events()) == 2


def test_an_unknown_secret_is_503_and_the_timestamped_scheme_works():
    def unknown() -> str:
        raise LookupError("not registered")

    tls = shared_local_tls()
    with_scheme = ReferenceReceiver(lambda: SECRET, tls=tls, scheme="timestamped-hmac").start()
    no_secret = ReferenceReceiver(unknown, tls=tls).start()
    try:
        with WebhookSender(with_scheme.url, lambda: SECRET, scheme("timestamped-hmac"), ca_file=tls.ca_file) as s:
            assert s.send(s.delivery()).status == 200
        with WebhookSender(no_secret.url, lambda: SECRET, ca_file=tls.ca_file) as s:
            assert s.send(s.delivery()).status == 503
    finally:
        with_scheme.stop()
        no_secret.stop()


def test_local_ca_issues_files_and_cleans_up():
    ca = LocalCA()
    issued = ca.issue("localhost")
    for name in (issued.cert_file, issued.key_file, issued.ca_file):
        with open(name) as f:
            assert f.read().startswith("-----BEGIN")
    ca.cleanup()
    assert not ca.directory.exists()


def test_sender_repr_hides_the_secret(sender):
    assert SECRET not in repr(sender)
