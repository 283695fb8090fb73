"""Checklist item `lifecycle`: the full journey through the integration, the error paths, money invariants."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("lifecycle")
@pytest.mark.parametrize("check", registry.for_item("lifecycle"), ids=lambda c: c.id)
def test_lifecycle(check, run_check):
    run_check(check)
