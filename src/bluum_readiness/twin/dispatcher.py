"""Placeholder: webhook delivery is added by the webhooks work package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin


async def dispatch_due(twin: Twin) -> int:
    return 0
