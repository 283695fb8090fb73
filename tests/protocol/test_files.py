"""The program's secret files: private, replaced atomically, and in step with the suite's sources."""

from __future__ import annotations

import json
import stat

from bluum_readiness.harness import CredentialStore, WebhookSecret, poll
from bluum_readiness.integration import Credentials
from bluum_readiness.protocol.files import ProgramFiles

FIRST = Credentials("test_bluum_first", "s1" * 16)
SECOND = Credentials("test_bluum_second", "s2" * 16)


def read(files: ProgramFiles) -> dict[str, str]:
    result: dict[str, str] = json.loads(files.credentials_file.read_text())
    return result


def test_the_credentials_file_is_private_and_follows_the_store_at_once():
    store = CredentialStore(FIRST)
    files = ProgramFiles(store)
    try:
        assert read(files) == {"key": FIRST.key, "secret": FIRST.secret}
        assert stat.S_IMODE(files.credentials_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(files.folder.stat().st_mode) == 0o700
        store.set(SECOND)
        assert read(files)["key"] == SECOND.key  # rewritten inside set(): no window with the old pair
        assert sorted(p.name for p in files.folder.iterdir()) == ["credentials.json"]  # no temporary file left
    finally:
        files.close()
    assert not files.folder.exists()


def test_a_plain_callable_source_is_followed_by_polling():
    current = [FIRST]
    files = ProgramFiles(lambda: current[0])
    try:
        current[0] = SECOND
        assert poll(lambda: read(files)["key"], lambda key: key == SECOND.key, timeout=2.0) == SECOND.key
    finally:
        files.close()


def test_the_webhook_secret_file_appears_once_the_secret_is_known():
    secret = WebhookSecret()
    files = ProgramFiles(CredentialStore(FIRST), secret)
    try:
        assert files.webhook_secret_file is not None and not files.webhook_secret_file.exists()
        secret.set("whsec_" + "A" * 32)
        assert files.webhook_secret_file.read_text() == "whsec_" + "A" * 32
        assert stat.S_IMODE(files.webhook_secret_file.stat().st_mode) == 0o600
    finally:
        files.close()


def test_closing_stops_following():
    store = CredentialStore(FIRST)
    files = ProgramFiles(store)
    files.close()
    store.set(SECOND)  # no listener left to write into a removed folder
    assert not files.folder.exists()
