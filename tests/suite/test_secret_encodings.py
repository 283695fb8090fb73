"""A secret is scrubbed in the encodings an adapter may log it in — base64 (standard and URL-safe, padded or not, at
any offset of the encoded input), URL-encoding and hex — not only as written: in every output of a real run."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bluum_readiness.cli.main import main
from bluum_readiness.redaction import MIN_SECRET_CHARS, Secrets, scrub

SECRET = "sk live/9f8e+7d6c?5b4a=&é"  # spaces, slashes, plus, query characters and a non-ASCII letter


def _encodings(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "base64": base64.b64encode(raw).decode(),
        "base64 unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64 url-safe": base64.urlsafe_b64encode(raw).decode(),
        "base64 of key:secret": base64.b64encode(b"my-key:" + raw).decode(),
        "base64 url-safe of a prefix": base64.urlsafe_b64encode(b"x" + raw).decode().rstrip("="),
        "url-encoded": urllib.parse.quote(secret, safe=""),
        "url-encoded (form)": urllib.parse.quote_plus(secret),
        "url-encoded (path)": urllib.parse.quote(secret),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "json": json.dumps(secret)[1:-1],
    }


@pytest.mark.parametrize(("name", "encoded"), sorted(_encodings(SECRET).items()))
def test_every_encoding_of_a_secret_is_scrubbed(name: str, encoded: str) -> None:
    assert encoded not in scrub(f"failed: token={encoded}; retry", [SECRET])
    assert encoded not in Secrets([SECRET]).scrub(f"failed: token={encoded}; retry")


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    secret=st.text(min_size=MIN_SECRET_CHARS, max_size=40).filter(lambda s: len(s.encode()) >= 9),
    before=st.binary(max_size=5),
    after=st.binary(max_size=5),
)
def test_base64_of_anything_holding_the_secret_loses_the_secret(secret: str, before: bytes, after: bytes) -> None:
    """Whatever surrounds the secret, the base64 of the whole no longer decodes to anything holding it."""
    encoded = base64.b64encode(before + secret.encode() + after).decode()
    scrubbed = scrub(f"x {encoded} y", [secret])
    assert encoded not in scrubbed


def test_ordinary_text_is_left_alone() -> None:
    text = "GET /v1/investors/inv_01 200 req_0123456789abcdef 12.5 ms dGhpcyBpcyBmaW5l"
    assert scrub(text, [SECRET]) == text


ADAPTER = """
import base64


def create(env):
    secret = env.credentials().secret
    raise RuntimeError("cannot start: upstream said " + base64.b64encode(secret.encode()).decode())
"""


def test_a_base64_secret_in_an_adapter_exception_reaches_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "e2e-secret-for-encodings-7c41"
    encoded = base64.b64encode(secret.encode()).decode()
    (tmp_path / "leaky_adapter.py").write_text(ADAPTER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BLUUM_API_KEY", "e2e-key-id")
    monkeypatch.setenv("BLUUM_API_SECRET", secret)
    code = main(["run", "--only", "credentials", "--integration", "leaky_adapter:create", "--out", "out"])
    captured = capsys.readouterr()
    assert code == 1, captured.out[-2000:] + captured.err[-2000:]
    record = (tmp_path / "out" / "readiness.json").read_text()
    assert "cannot start: upstream said ***" in record  # the message is there, the secret is not
    outputs = {"console": captured.out + captured.err}
    outputs.update({p.name: p.read_text(errors="replace") for p in (tmp_path / "out").iterdir() if p.is_file()})
    for name, text in outputs.items():
        assert encoded not in text and secret not in text, name
