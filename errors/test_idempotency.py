"""Checklist item `idempotency`: keys on every deposit and withdrawal, reused on retries, money moved once."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("idempotency")
@pytest.mark.parametrize("check", registry.for_item("idempotency"), ids=lambda c: c.id)
def test_idempotency(check, run_check):
    run_check(check)
