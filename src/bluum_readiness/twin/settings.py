"""Settings of the sandbox twin: one frozen dataclass, validated on construction.

Every timing is a setting so the test suite can run the twin fast (delays of
zero, retry schedules in fractions of a second) while a developer running
``bluum-readiness sandbox`` gets the documented sandbox behaviour.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.errors import ConfigError

__all__ = ["MAX_RATE_LIMIT_PER_S", "MIN_RATE_LIMIT_PER_S", "TwinSettings"]

MIN_RATE_LIMIT_PER_S = 0.001
"""◆ One request per 1,000 s: below it ``Retry-After`` grows without bound (and 0 or NaN meant no limit or none
ever served)."""
MAX_RATE_LIMIT_PER_S = 1_000_000.0
"""◆ Far above anything a local twin serves: effectively unlimited, while still a number the bucket can use."""


_NUMBER_TYPES: dict[str, tuple[type, ...]] = {"float": (int, float), "int": (int,)}


@dataclass(frozen=True)
class TwinSettings:
    """How the twin behaves. All durations are in seconds.

    :param db_path: SQLite file, or ``":memory:"`` for a throw-away twin.
    :param rate_limit_per_s: requests per second allowed per key pair (token bucket, burst = rate, at least 1),
        from 0.001 to 1,000,000.
    :param lenient_idempotency: accept deposits/withdrawals without an Idempotency-Key (as the real server may).
    :param idempotency_ttl_s: how long an Idempotency-Key is remembered.
    :param idempotency_wait_s: how long a duplicate waits for an in-flight original before 409 BLUM-409-003.
    :param kyc_delay_s: time from investor creation to the automatic KYC decision.
    :param document_delay_s: time from upload to a document being accepted.
    :param ach_processing_delay_s: pending → processing for ACH deposits and withdrawals.
    :param ach_completion_delay_s: processing → completed for ACH deposits and withdrawals.
    :param order_fill_delay_s: time from placement to a marketable order filling.
    :param manual_deposit_expiry_s: manual bank transfer deposits expire (fail) after this long.
    :param webhook_retry_schedule_s: waits between delivery attempts; after the last, a delivery is parked.
    :param webhook_timeout_s: how long the dispatcher waits for a receiver's response.
    :param webhook_ca_file: a PEM CA bundle the dispatcher trusts for https receivers (e.g. a local CA).
    :param tick_interval_s: how often the background scheduler looks for due work.
    :param kyc_declined_tax_id: the test tax_id whose KYC is declined.
    :param kyc_documents_last_name: the test last_name whose KYC waits for a document.
    :param max_upload_bytes: the largest accepted document upload.
    :param seed: seeds the random part of ids for reproducible runs (None: OS randomness). Secrets (key pairs,
        webhook secrets) and reference codes always come from the OS CSPRNG, so they never repeat.
    """

    db_path: str = ":memory:"
    rate_limit_per_s: float = 10.0
    lenient_idempotency: bool = False
    idempotency_ttl_s: float = 24 * 3600.0
    idempotency_wait_s: float = 5.0
    kyc_delay_s: float = 0.5
    document_delay_s: float = 1.0
    ach_processing_delay_s: float = 1.0
    ach_completion_delay_s: float = 2.0
    order_fill_delay_s: float = 0.0
    manual_deposit_expiry_s: float = 7 * 24 * 3600.0
    webhook_retry_schedule_s: tuple[float, ...] = (60.0, 300.0, 1800.0, 7200.0, 28800.0)
    webhook_timeout_s: float = 30.0
    webhook_ca_file: str | None = None
    tick_interval_s: float = 0.05
    kyc_declined_tax_id: str = "999-99-9999"
    kyc_documents_last_name: str = "Documents"
    max_upload_bytes: int = 10 * 1024 * 1024
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not f.name.endswith("_s") or f.name.endswith("_per_s") or not isinstance(value, int | float):
                continue
            if not math.isfinite(value):
                raise ConfigError(f"twin setting {f.name}={value!r} must be a finite number of seconds, e.g. 1.5")
            if value < 0:
                raise ConfigError(f"twin setting {f.name}={value!r} is negative; use a value >= 0 (seconds)")
        rate = self.rate_limit_per_s
        if not (math.isfinite(rate) and MIN_RATE_LIMIT_PER_S <= rate <= MAX_RATE_LIMIT_PER_S):
            raise ConfigError(
                f"twin setting rate_limit_per_s={rate!r} must be > 0 and finite, between {MIN_RATE_LIMIT_PER_S:g} "
                f"and {MAX_RATE_LIMIT_PER_S:,.0f} requests/s per key pair (--rate-limit of the sandbox command)"
            )
        if not all(math.isfinite(w) and w >= 0 for w in self.webhook_retry_schedule_s):
            raise ConfigError("twin setting webhook_retry_schedule_s must hold finite, non-negative seconds")
        if self.max_upload_bytes <= 0:
            raise ConfigError("twin setting max_upload_bytes must be a positive number of bytes")

    @classmethod
    def fast(cls, **overrides: Any) -> TwinSettings:
        """Settings for tests: no artificial delays, quick webhook retries, a generous rate limit."""
        base: dict[str, Any] = dict(
            rate_limit_per_s=1000.0,
            kyc_delay_s=0.0,
            document_delay_s=0.0,
            ach_processing_delay_s=0.0,
            ach_completion_delay_s=0.0,
            order_fill_delay_s=0.0,
            webhook_retry_schedule_s=(0.05, 0.1, 0.2),
            webhook_timeout_s=2.0,
            tick_interval_s=0.01,
            idempotency_wait_s=2.0,
        )
        base.update(overrides)
        return cls.from_mapping(base)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TwinSettings:
        """Build settings from a config mapping, naming any unknown key and its closest match."""
        known = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                hint = difflib.get_close_matches(key, list(known), n=1)
                suggestion = f" Did you mean {hint[0]!r}?" if hint else f" Valid keys: {', '.join(sorted(known))}."
                raise ConfigError(f"unknown twin setting {key!r}.{suggestion}")
            if key == "webhook_retry_schedule_s":
                if not isinstance(value, list | tuple) or not all(isinstance(v, int | float) for v in value):
                    raise ConfigError("twin setting webhook_retry_schedule_s must be a list of seconds, e.g. [1, 5]")
                value = tuple(float(v) for v in value)
            number_types = _NUMBER_TYPES.get(str(known[key].type))
            if number_types and (isinstance(value, bool) or not isinstance(value, number_types)):
                raise ConfigError(f"twin setting {key}={value!r} must be a number, e.g. {known[key].default!r}")
            kwargs[key] = value
        return cls(**kwargs)
