"""Bring a database written by an older twin up to date, once, when a twin opens it.

Each upgrade runs in one transaction and leaves a marker row in ``counters`` (``upgrade.<name>``), so a database
this twin created, or one already upgraded, costs one lookup per upgrade at start-up. (The ledger's
``ledger_balances`` needs no step here: schema.sql builds it from the ledger when it is new.)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bluum_readiness.twin.domain import kyc

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["upgrade"]


def upgrade(twin: Twin) -> None:
    """Run every upgrade this database has not had yet."""
    with twin.db.tx():
        if _pending(twin, "email_key"):
            _add_email_keys(twin)


def _pending(twin: Twin, name: str) -> bool:
    """True the first time for this database (and marks the upgrade done: call inside the upgrade's transaction)."""
    cur = twin.db.execute("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 1)", (f"upgrade.{name}",))
    return cur.rowcount == 1


def _add_email_keys(twin: Twin) -> None:
    """Investors created before ``_email_key`` existed get it, so the duplicate-e-mail check finds them."""
    for row in twin.db.all("SELECT tenant_id, data FROM resources WHERE object = 'investor'"):
        investor = json.loads(row[1])
        if "_email_key" not in investor and isinstance(investor.get("email"), str):
            investor["_email_key"] = kyc.email_key(investor["email"])
            twin.store.save(row[0], investor)
