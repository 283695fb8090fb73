"""Checklist item `webhooks`: HTTPS, signatures verified before processing, fast 2xx, duplicates handled once."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("webhooks")
@pytest.mark.parametrize("check", registry.for_item("webhooks"), ids=lambda c: c.id)
def test_webhooks(check, run_check):
    run_check(check)
