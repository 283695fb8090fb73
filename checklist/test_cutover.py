"""Cut-over items: `smoke-test` (a read-only request with the deployed credentials answers 200), `credential-rotation`
(the rotation drill under live traffic) and `observability` (request log, no secrets in logs, alerts)."""

import pytest

from bluum_readiness.checks import registry


@pytest.mark.checklist("smoke-test")
@pytest.mark.parametrize("check", registry.for_item("smoke-test"), ids=lambda c: c.id)
def test_smoke_test(check, run_check):
    run_check(check)


@pytest.mark.checklist("credential-rotation")
@pytest.mark.parametrize("check", registry.for_item("credential-rotation"), ids=lambda c: c.id)
def test_credential_rotation(check, run_check):
    run_check(check)


@pytest.mark.checklist("observability")
@pytest.mark.parametrize("check", registry.for_item("observability"), ids=lambda c: c.id)
def test_observability(check, run_check):
    run_check(check)
