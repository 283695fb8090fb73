"""Credential sources beyond the environment, a file and a command: AWS Secrets Manager (the ``aws`` extra).

The secret's value is either the API secret itself, or a JSON object with ``"secret"`` (and optionally
``"key"``, the key id) — the key/value form the AWS console writes. AWS credentials and the region come from
boto3's usual chain (environment, profile, instance role); ``region`` and ``endpoint_url`` override them.
Nothing here logs or repeats the secret: errors name the secret id and what to do.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.errors import ConfigError

__all__ = ["AwsSecret", "read_aws_secret"]

INSTALL_HINT = "pip install 'bluum-readiness[aws]'"


@dataclass(frozen=True)
class AwsSecret:
    """What the secret held: the API secret, and the key id when the secret is a JSON object naming it."""

    secret: str = field(repr=False)
    key: str | None = None


def _boto3() -> Any:
    try:
        return importlib.import_module("boto3")
    except ImportError:
        raise ConfigError(
            f'credentials.source = "aws" needs boto3, which is not installed: run `{INSTALL_HINT}`'
        ) from None


def read_aws_secret(secret_id: str, *, region: str | None = None, endpoint_url: str | None = None) -> AwsSecret:
    """Read ``secret_id`` from AWS Secrets Manager now (ConfigError says what is wrong and how to fix it)."""
    boto3 = _boto3()
    errors = importlib.import_module("botocore.exceptions")

    try:
        client = boto3.session.Session().client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
        answer = client.get_secret_value(SecretId=secret_id)
    except errors.NoRegionError:
        raise ConfigError('credentials.source = "aws": no AWS region; set credentials.region or AWS_REGION') from None
    except errors.NoCredentialsError:
        raise ConfigError(
            'credentials.source = "aws": no AWS credentials found; configure them as for the AWS CLI '
            "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role)"
        ) from None
    except errors.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigError(
            f"credentials.secret_id {secret_id!r}: AWS Secrets Manager answered {code}; check the secret's name, "
            "its region and that your AWS identity may call secretsmanager:GetSecretValue on it"
        ) from None
    except errors.BotoCoreError as exc:
        raise ConfigError(
            f"credentials.secret_id {secret_id!r}: AWS Secrets Manager could not be reached ({type(exc).__name__}); "
            "check the network, credentials.region and credentials.endpoint_url"
        ) from None
    value = answer.get("SecretString")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"credentials.secret_id {secret_id!r} holds no text (SecretString); store the API secret as text, or "
            'as JSON {"key": "…", "secret": "…"}'
        )
    return _parse(value.strip(), secret_id)


def _parse(value: str, secret_id: str) -> AwsSecret:
    if not value.startswith("{"):
        return AwsSecret(secret=value)
    try:
        data = json.loads(value)
    except ValueError:
        raise ConfigError(
            f'credentials.secret_id {secret_id!r} starts with "{{" but is not valid JSON; store the secret as text, '
            'or as JSON {"key": "…", "secret": "…"}'
        ) from None
    secret = data.get("secret") if isinstance(data, dict) else None
    if not isinstance(secret, str) or not secret:
        raise ConfigError(
            f'credentials.secret_id {secret_id!r} is JSON without a "secret" field; store it as '
            '{"key": "…", "secret": "…"} or as the secret alone'
        )
    key = data.get("key")
    return AwsSecret(secret=secret, key=key if isinstance(key, str) and key else None)
