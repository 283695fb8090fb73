"""Domain rules of the twin (KYC, money, trading, events), free of HTTP.

Each module registers its scheduled-job handlers in ``register_jobs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["register_jobs"]


def register_jobs(twin: Twin) -> None:
    from bluum_readiness.twin.domain import documents, kyc, trading, transfers

    for module in (kyc, trading, transfers, documents):
        module.register_jobs(twin)
