"""Signing schemes: known answers, agreement with the standardwebhooks library, one broken field per test."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from bluum_readiness.twin.signing import signature_headers
from bluum_readiness.webhooks.signing import SCHEMES, SignatureError, StandardWebhooks, TimestampedHmac, scheme

SECRET = "whsec_" + base64.b64encode(bytes(range(24))).decode()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TS = int(NOW.timestamp())
BODY = b'{"id":"evt_1","event":"order.filled"}'


def at(offset_s: float = 0):
    return lambda: NOW + timedelta(seconds=offset_s)


def test_standard_webhooks_known_answer_matches_the_library_and_the_twin():
    headers = StandardWebhooks().sign(SECRET, "evt_1", TS, BODY)
    expected = Webhook(SECRET).sign(msg_id="evt_1", timestamp=NOW, data=BODY.decode())
    assert headers["webhook-signature"] == expected
    assert headers == signature_headers(SECRET, "evt_1", TS, BODY.decode())


def test_timestamped_hmac_known_answer():
    digest = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert TimestampedHmac().sign(SECRET, "evt_1", TS, BODY) == {"bluum-signature": f"t={TS},v1={digest}"}


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_valid_signature_verifies(name):
    s = scheme(name)
    assert s.verify(SECRET, s.sign(SECRET, "evt_1", TS, BODY), BODY, now=at()) == TS


@pytest.mark.parametrize("name", sorted(SCHEMES))
@pytest.mark.parametrize(("offset", "reason"), [(-301, "too-old"), (301, "too-new"), (-299, None), (299, None)])
def test_tolerance_both_ways(name, offset, reason):
    s = scheme(name)
    headers = s.sign(SECRET, "evt_1", TS, BODY)
    if reason is None:
        s.verify(SECRET, headers, BODY, now=at(-offset), tolerance_s=300)
    else:
        with pytest.raises(SignatureError) as info:
            s.verify(SECRET, headers, BODY, now=at(-offset), tolerance_s=300)
        assert info.value.reason == reason


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_tampered_body_wrong_secret_and_missing_headers_fail(name):
    s = scheme(name)
    headers = s.sign(SECRET, "evt_1", TS, BODY)
    with pytest.raises(SignatureError, match="mismatch"):
        s.verify(SECRET, headers, BODY + b" ", now=at())
    other = "whsec_" + base64.b64encode(b"x" * 24).decode()
    with pytest.raises(SignatureError, match="mismatch"):
        s.verify(other, headers, BODY, now=at())
    with pytest.raises(SignatureError, match="missing"):
        s.verify(SECRET, {}, BODY, now=at())


def test_standard_webhooks_accepts_space_separated_signatures_for_rotation():
    s = StandardWebhooks()
    old = s.sign("whsec_" + base64.b64encode(b"o" * 24).decode(), "evt_1", TS, BODY)["webhook-signature"]
    headers = s.sign(SECRET, "evt_1", TS, BODY)
    headers["webhook-signature"] = f"{old} v2,abc {headers['webhook-signature']}"
    assert s.verify(SECRET, headers, BODY, now=at()) == TS


@pytest.mark.parametrize("signature", ["malformed", "v1,!!!not-base64", "v2,abcd"])
def test_malformed_standard_signatures(signature):
    headers = {**StandardWebhooks().sign(SECRET, "evt_1", TS, BODY), "webhook-signature": signature}
    with pytest.raises(SignatureError, match="malformed"):
        StandardWebhooks().verify(SECRET, headers, BODY, now=at())


@pytest.mark.parametrize("value", ["v1=abcd", f"t={TS}", f"t={TS},v1=zz", "t=abc,v1=00"])
def test_malformed_timestamped_headers(value):
    with pytest.raises(SignatureError, match="malformed"):
        TimestampedHmac().verify(SECRET, {"bluum-signature": value}, BODY, now=at())


def test_errors_never_show_the_secret_and_unknown_scheme_lists_valid_ones():
    try:
        StandardWebhooks().verify(SECRET, StandardWebhooks().sign(SECRET, "e", TS, BODY), b"x", now=at())
    except SignatureError as exc:
        assert SECRET[6:] not in str(exc)
    with pytest.raises(ValueError, match="standard-webhooks, timestamped-hmac"):
        scheme("nope")
