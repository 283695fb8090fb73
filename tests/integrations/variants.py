"""Known-bad integrations (one defect each) and the checks that must flag them; plus correct-but-different ones.

Each entry is usable as ``--integration tests.integrations.variants:<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bluum_readiness.integration import IntegrationEnv
from tests.integrations.configurable import ConfigurableIntegration, Knobs

GOOD = Knobs()


def _factory(knobs: Knobs) -> Callable[..., Any]:
    def create(env: IntegrationEnv, **options: Any) -> ConfigurableIntegration:
        """``options``: ``transport``, ``sleep``, ``rng`` (as the reference's factory takes them)."""
        return ConfigurableIntegration(env, knobs, **options)

    return create


# A correct integration built differently from the reference (explicit loop, equal jitter, other constants).
correct_different = _factory(GOOD)

# name -> (factory, the checks that must flag it: exactly these, no others)
KNOWN_BAD: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "no_key": (_factory(GOOD.but(key_mode="none")), {"idempotency.key-on-every-transfer"}),
    "new_key_per_retry": (
        _factory(GOOD.but(key_mode="per_attempt")),
        {"idempotency.same-key-on-retry", "idempotency.exactly-once"},
    ),
    "key_only_on_deposits": (_factory(GOOD.but(key_mode="deposits_only")), {"idempotency.key-on-every-transfer"}),
    "counter_keys": (_factory(GOOD.but(key_mode="counter")), {"idempotency.unguessable-keys"}),
    "timestamp_keys": (_factory(GOOD.but(key_mode="timestamp")), {"idempotency.unguessable-keys"}),
    "retries_a_400": (
        _factory(GOOD.but(retry_statuses=GOOD.retry_statuses | {400})),
        {"error-handling.400-not-retried"},
    ),
    "no_jitter": (_factory(GOOD.but(jitter=False)), {"error-handling.429-jitter"}),
    "ignores_retry_after": (_factory(GOOD.but(honour_retry_after=False)), {"error-handling.429-retry-after"}),
    # Gives up on a timeout and raises, also when the target had committed the deposit: the caller is told "failed"
    # for money that moved (its resubmission would move it twice).
    "no_retry_on_timeout": (
        _factory(GOOD.but(retry_on_timeout=False)),
        {"error-handling.timeout-retried", "idempotency.exactly-once"},
    ),
    # Retries 5xx, 429 and timeouts but gives up on a dropped connection (the Go and Java starters' gives-up-on-reset):
    # on Bluum's sandbox only dropped-connection-retried sees it, on the twin exactly-once too (money that moved).
    "gives_up_on_reset": (
        _factory(GOOD.but(retry_on_drop=False)),
        {"error-handling.dropped-connection-retried", "idempotency.exactly-once"},
    ),
    # No timeout on its HTTP client: it waits out a hung request (it still retries once the proxy hangs up).
    "no_request_timeout": (_factory(GOOD.but(client_timeout=False)), {"error-handling.request-timeout"}),
    "no_backoff": (
        _factory(GOOD.but(base_s=0.0)),
        {"error-handling.backoff-between-retries", "error-handling.429-backoff-grows"},
    ),
    "one_key_for_everything": (_factory(GOOD.but(key_mode="fixed")), {"idempotency.fresh-key-per-operation"}),
    "credentials_cached_forever": (
        _factory(GOOD.but(cache_credentials=True, refresh_on_401=False)),
        {"error-handling.401-refresh"},
    ),
    "retries_forever_on_429": (
        _factory(GOOD.but(max_attempts=10**6)),
        {"error-handling.429-bounded"},
    ),
    "retries_409_and_422": (
        _factory(GOOD.but(retry_statuses=GOOD.retry_statuses | {409, 422})),
        {"error-handling.4xx-not-retried"},
    ),
    # No retries at all: one cause ("no-retries") for every check that needs a retry (docs/checks.md, Causes); its
    # timeouts after the target committed are also operations reported failed that moved money
    "no_retries_at_all": (
        _factory(GOOD.but(retry_statuses=frozenset(), retry_on_timeout=False, retry_on_drop=False)),
        {
            "error-handling.5xx-retried",
            "error-handling.429-backoff-grows",
            "error-handling.429-jitter",
            "error-handling.429-retry-after",
            "error-handling.timeout-retried",
            "error-handling.dropped-connection-retried",
            "idempotency.exactly-once",
        },
    ),
    "no_retry_on_5xx": (_factory(GOOD.but(retry_statuses=frozenset({429}))), {"error-handling.5xx-retried"}),
    "loops_on_401": (_factory(GOOD.but(max_401_retries=10**6)), {"error-handling.401-bounded"}),
    "logs_the_secret": (_factory(GOOD.but(log_secret=True)), {"error-handling.secret-never-logged"}),
    "secret_in_exceptions": (_factory(GOOD.but(secret_in_errors=True)), {"error-handling.secret-never-logged"}),
    "secret_in_request_log": (_factory(GOOD.but(log_auth_header=True)), {"error-handling.secret-never-logged"}),
    # a refusal returns an empty result, and only the INFO access-log line shows its status
    "swallows_4xx": (
        _factory(GOOD.but(swallow_4xx=True)),
        {"error-handling.400-not-retried", "error-handling.4xx-not-retried"},
    ),
}

# Never retries, and a refusal's message is coloured for a terminal and cut mid-emoji, as a JavaScript client's may be
# (``message.slice(0, n)``): control characters and a lone surrogate reach the findings' texts
coloured_errors = _factory(
    GOOD.but(retry_statuses=frozenset(), retry_on_timeout=False, retry_on_drop=False, coloured_errors=True)
)

for _name, (_made, _) in KNOWN_BAD.items():
    globals()[_name] = _made
