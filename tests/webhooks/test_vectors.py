"""vectors.json is current, and every vector has the outcome it claims — by our verifier and, for the
standard-webhooks ones, by the standardwebhooks library."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bluum_readiness.webhooks.signing import SignatureError, scheme
from bluum_readiness.webhooks.vectors import build_vectors, load_vectors

DATA = load_vectors()


def test_the_file_is_regenerated_from_code():
    assert DATA == json.loads(json.dumps(build_vectors()))


def test_the_vectors_cover_every_case_for_every_scheme():
    names = {v["name"].split("/")[1] for v in DATA["vectors"]}
    assert {"valid", "missing-signature", "malformed-signature", "wrong-secret", "tampered-body",
            "signature-from-another-delivery", "stale-timestamp", "future-timestamp",
            "replay-of-old-delivery"} <= names  # fmt: skip
    assert {v["scheme"] for v in DATA["vectors"]} == {"standard-webhooks", "timestamped-hmac"}


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["name"])
def test_each_vector_verifies_as_expected(vector):
    now = datetime.fromtimestamp(DATA["now"], UTC)
    verify = scheme(vector["scheme"]).verify
    body = vector["body"].encode()
    if vector["expected"]["status"] == "2xx":
        verify(DATA["secret"], vector["headers"], body, tolerance_s=DATA["tolerance_s"], now=lambda: now)
    else:
        with pytest.raises(SignatureError) as info:
            verify(DATA["secret"], vector["headers"], body, tolerance_s=DATA["tolerance_s"], now=lambda: now)
        assert info.value.reason == vector["expected"]["reason"]


@pytest.mark.parametrize(
    "vector", [v for v in DATA["vectors"] if v["scheme"] == "standard-webhooks"], ids=lambda v: v["name"]
)
def test_the_standardwebhooks_library_agrees(vector, monkeypatch):
    import standardwebhooks.webhooks as lib

    class FrozenDatetime(lib.datetime):  # type: ignore[misc,name-defined]
        @classmethod
        def now(cls, tz=None):
            return lib.datetime.fromtimestamp(DATA["now"], tz)

    monkeypatch.setattr(lib, "datetime", FrozenDatetime)
    hook = Webhook(DATA["secret"])
    if vector["expected"]["status"] == "2xx":
        hook.verify(vector["body"], vector["headers"])
    else:
        with pytest.raises((WebhookVerificationError, ValueError)):
            hook.verify(vector["body"], vector["headers"])
