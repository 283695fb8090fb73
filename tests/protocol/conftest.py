"""Fixtures for the adapter protocol's tests: the Node binary and where the JavaScript integrations live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "integrations" / "node"
PROGRAM_DIR = Path(__file__).resolve().parents[1] / "integrations" / "program"


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable. The protocol is tested against JavaScript: a machine without Node fails loudly
    (`.ci/run` installs Debian's nodejs) rather than skipping what matters most."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: install Node 18+ (e.g. apt-get install nodejs) to test the adapter protocol")
    return found
