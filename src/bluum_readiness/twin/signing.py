"""The twin's webhook signer (◆ Standard Webhooks; Bluum does not publish its scheme).

Every delivery carries three headers:

- ``webhook-id``: the event id (``evt_…``), the same for every retry of that event;
- ``webhook-timestamp``: the signing time in whole unix seconds;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>``.

Secrets are ``whsec_`` + base64 of 24 random bytes. Receivers verify with any
Standard Webhooks library, e.g. ``standardwebhooks.Webhook(secret).verify(body, headers)``
(5 minutes of timestamp tolerance).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

__all__ = ["SCHEME", "SECRET_BYTES", "SECRET_PREFIX", "new_secret", "signature_headers"]

SCHEME = "standard-webhooks"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret(token_bytes: Callable[[int], bytes]) -> str:
    """A fresh signing secret ``whsec_<base64>`` from ``token_bytes`` (pass ``twin.ids.token_bytes``)."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")


def signature_headers(secret: str, msg_id: str, timestamp: float, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` (the exact text sent) signed at ``timestamp`` (unix s)."""
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    signature: str = Webhook(secret).sign(msg_id=msg_id, timestamp=signed_at, data=body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature,
    }
