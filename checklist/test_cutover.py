"""Cut-over item `smoke-test`: one read-only request with the deployed credentials answers 200."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("smoke-test")
@pytest.mark.parametrize("check", registry.for_item("smoke-test"), ids=lambda c: c.id)
def test_smoke_test(check, run_check):
    run_check(check)
