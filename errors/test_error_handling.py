"""Checklist item `error-handling`: 401 refresh, 429 backoff with jitter, 4xx not retried, 5xx/timeouts retried."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("error-handling")
@pytest.mark.parametrize("check", registry.for_item("error-handling"), ids=lambda c: c.id)
def test_error_handling(check, run_check):
    run_check(check)
