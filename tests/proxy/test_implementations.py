"""Which HTTP parser and event loop the servers use: the C ones where installed, pure Python on request."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from bluum_readiness._serving import IMPL_ENV, new_event_loop, uvicorn_options
from bluum_readiness.errors import ConfigError

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_the_c_implementations_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IMPL_ENV, raising=False)
    assert uvicorn_options() == {"http": "httptools", "loop": "uvloop" if HAS_UVLOOP else "asyncio"}
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop") == HAS_UVLOOP
    finally:
        loop.close()


def test_pure_python_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IMPL_ENV, "pure")
    assert uvicorn_options() == {"http": "h11", "loop": "asyncio"}
    loop = new_event_loop()
    try:
        assert isinstance(loop, asyncio.BaseEventLoop) and not type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


def test_an_unknown_implementation_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IMPL_ENV, "turbo")
    with pytest.raises(ConfigError, match="BLUUM_READINESS_SERVER_IMPL='turbo' is not an implementation; use fast"):
        uvicorn_options()
