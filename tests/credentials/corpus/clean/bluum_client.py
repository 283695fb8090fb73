"""A small Bluum client: HTTP Basic with the key pair from the environment, retries on 429/5xx."""

from __future__ import annotations

import os
import time
from enum import Enum, StrEnum

import httpx

API_KEY_ENV = "BLUUM_API_KEY"
API_SECRET_ENV = "BLUUM_API_SECRET"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SECRET_KEY_PARAM = "secret_key"


class GrantType(StrEnum):
    PASSWORD = "password"
    CLIENT_CREDENTIALS = "client_credentials"
    REFRESH_TOKEN = "refresh_token"


class TokenKind(Enum):
    ACCESS = "access"
    REFRESH = "refresh"


def credentials() -> tuple[str, str]:
    key = os.environ[API_KEY_ENV]
    secret = os.environ.get(API_SECRET_ENV)
    if secret is None:
        raise RuntimeError(f"set {API_SECRET_ENV}")
    return key, secret


class BluumClient:
    def __init__(self, base_url: str = "https://sandbox.api.bluumfinance.com/v1") -> None:
        key, secret = credentials()
        self._http = httpx.Client(base_url=base_url, auth=(key, secret), timeout=5.0)

    def deposit(self, account_id: str, amount: str, idempotency_key: str) -> dict:
        for attempt in range(4):
            response = self._http.post(
                f"/accounts/{account_id}/deposits",
                json={"amount": amount},
                headers={IDEMPOTENCY_HEADER: idempotency_key},
            )
            if response.status_code not in (429, 500, 502, 503):
                response.raise_for_status()
                return response.json()
            time.sleep(min(2**attempt, 8))
        response.raise_for_status()
        return response.json()
