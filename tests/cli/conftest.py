"""The CLI's in-process tests run as a developer runs the tool, outside CI: with no integration configured, ``run``
is then the bundled demonstration (under CI, ``CI`` set, it is refused; tests/cli/test_no_lost_record.py covers
that with ``CI`` set explicitly)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
