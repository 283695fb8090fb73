"""Placeholder: filled in by the trading work package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin


def register_jobs(twin: Twin) -> None:
    return None
