"""Readiness item `credentials`: no secret in the code or config (secret scan of [scan] paths), credentials come
from the configured source, and the current key is younger than the rotation period."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("credentials")
@pytest.mark.parametrize("check", registry.for_item("credentials"), ids=lambda c: c.id)
def test_credentials(check, run_check):
    run_check(check)
