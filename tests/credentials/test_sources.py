"""The AWS Secrets Manager source, against moto's server on loopback (real HTTP, fake AWS credentials)."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluum_readiness.config import load_config
from bluum_readiness.credentials.sources import read_aws_secret
from bluum_readiness.errors import ConfigError

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer  # here, not at collection (~0.4 s): only the worker using it pays

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake AWS credentials only; never the developer's own profile or region."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def put(endpoint: str, name: str, value: str) -> None:
    import boto3

    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint)
    client.create_secret(Name=name, SecretString=value)


def test_a_plain_secret(endpoint: str) -> None:
    secret = secrets.token_hex(32)
    put(endpoint, "bluum/plain", secret)
    found = read_aws_secret("bluum/plain", region=REGION, endpoint_url=endpoint)
    assert found.secret == secret and found.key is None
    assert secret not in repr(found)


def test_a_json_secret_with_key_and_secret_through_the_config(endpoint: str, tmp_path: Path) -> None:
    key, secret = f"test_bluum_{secrets.token_hex(32)}", secrets.token_hex(32)
    put(endpoint, "bluum/json", json.dumps({"key": key, "secret": secret}))
    config_file = tmp_path / "bluum-readiness.toml"
    config_file.write_text(
        f'[credentials]\nsource = "aws"\nsecret_id = "bluum/json"\nregion = "{REGION}"\nendpoint_url = "{endpoint}"\n'
    )
    config = load_config(config_file)
    assert config.credentials.available()
    pair = config.credentials.resolve()
    assert (pair.key, pair.secret) == (key, secret)


def test_a_plain_secret_takes_the_key_id_from_the_config(endpoint: str, tmp_path: Path) -> None:
    put(endpoint, "bluum/plain-with-key", "s3cret-value")
    config_file = tmp_path / "bluum-readiness.toml"
    config_file.write_text(
        '[credentials]\nsource = "aws"\nsecret_id = "bluum/plain-with-key"\nkey = "my-key"\n'
        f'region = "{REGION}"\nendpoint_url = "{endpoint}"\n'
    )
    pair = load_config(config_file).credentials.resolve()
    assert (pair.key, pair.secret) == ("my-key", "s3cret-value")


def test_no_key_anywhere_says_where_to_put_it(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUUM_API_KEY", raising=False)
    put(endpoint, "bluum/no-key", "s3cret-value")
    config_file = tmp_path / "bluum-readiness.toml"
    config_file.write_text(
        f'[credentials]\nsource = "aws"\nsecret_id = "bluum/no-key"\nregion = "{REGION}"\nendpoint_url = "{endpoint}"\n'
    )
    with pytest.raises(ConfigError, match='holds no "key" field; set credentials.key'):
        load_config(config_file).credentials.resolve()


def test_an_unknown_secret_names_the_aws_error_and_the_fix(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="'bluum/missing': AWS Secrets Manager answered ResourceNotFoundException"):
        read_aws_secret("bluum/missing", region=REGION, endpoint_url=endpoint)


@pytest.mark.parametrize("value", ['{"key": "k"}', "{not json", '{"secret": 5}'])
def test_a_malformed_secret_is_a_config_error_without_its_value(endpoint: str, value: str) -> None:
    name = f"bluum/bad-{secrets.token_hex(4)}"
    put(endpoint, name, value)
    with pytest.raises(ConfigError) as error:
        read_aws_secret(name, region=REGION, endpoint_url=endpoint)
    assert name in str(error.value) and value not in str(error.value)


def test_no_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no AWS region; set credentials.region or AWS_REGION"):
        read_aws_secret("bluum/any")


def test_an_unreachable_endpoint_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="could not be reached"):
        read_aws_secret("bluum/any", region=REGION, endpoint_url="http://127.0.0.1:9")


def test_without_boto3_the_error_says_how_to_install_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ConfigError, match=r"pip install 'bluum-readiness\[aws\]'"):
        read_aws_secret("bluum/any", region=REGION)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('source = "aws"', "needs credentials.secret_id"),
        ('source = "aws"\nsecret_id = 5', "credentials.secret_id must be a string"),
        ('source = "aws"\nsecret_id = "x"\nendpont_url = "http://x"', "Did you mean 'endpoint_url'?"),
        ('source = "aws"\nsecret_id = "x"\nrotation_period_days = 0', "rotation_period_days must be >= 1"),
        ('source = "aws"\nsecret_id = "x"\nrotation_period_days = "90"', "rotation_period_days must be a whole"),
        ('source = "awz"', "Did you mean 'aws'?"),
    ],
)
def test_aws_config_errors(tmp_path: Path, table: str, message: str) -> None:
    config_file = tmp_path / "bluum-readiness.toml"
    config_file.write_text(f"[credentials]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(config_file)
