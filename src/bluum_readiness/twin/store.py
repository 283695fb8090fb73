"""The resource store: Bluum resources as JSON documents, scoped by tenant.

Keys that start with ``_`` are internal (a webhook's secret, a key's hash…)
and are never rendered to API callers; ``public()`` strips them.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from typing import Any

from bluum_readiness.twin.db import Database
from bluum_readiness.twin.errors import ApiError

__all__ = ["Store", "public"]

Resource = dict[str, Any]


def public(resource: Resource) -> Resource:
    """The resource as the API shows it (internal ``_`` keys removed)."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, tenant_id: str, resource: Resource) -> Resource:
        self.db.execute(
            "INSERT INTO resources (id, tenant_id, object, investor_id, created, seq, data) VALUES (?,?,?,?,?,?,?)",
            (
                resource["id"],
                tenant_id,
                resource["object"],
                resource.get("investor_id"),
                resource["created"],
                self.db.next_seq(),
                json.dumps(resource),
            ),
        )
        return resource

    def save(self, tenant_id: str, resource: Resource) -> Resource:
        cur = self.db.execute(
            "UPDATE resources SET data = ? WHERE id = ? AND tenant_id = ?",
            (json.dumps(resource), resource["id"], tenant_id),
        )
        if cur.rowcount != 1:
            raise KeyError(f"resource {resource['id']} does not exist in tenant {tenant_id}")
        return resource

    def delete(self, tenant_id: str, resource_id: str) -> None:
        self.db.execute("DELETE FROM resources WHERE id = ? AND tenant_id = ?", (resource_id, tenant_id))

    def get(self, tenant_id: str, obj: str, resource_id: str) -> Resource | None:
        row = self.db.one(
            "SELECT data FROM resources WHERE id = ? AND tenant_id = ? AND object = ?", (resource_id, tenant_id, obj)
        )
        return None if row is None else dict(json.loads(row[0]))

    def require(self, tenant_id: str, obj: str, resource_id: str, *, param: str | None = None) -> Resource:
        """The resource, or 404 BLUM-404-001 (also for another tenant's id: tenants are isolated)."""
        found = self.get(tenant_id, obj, resource_id)
        if found is None:
            raise ApiError("BLUM-404-001", f"No such {obj}: {resource_id!r}", param=param)
        return found

    def list(
        self,
        tenant_id: str,
        obj: str,
        *,
        investor_id: str | None = None,
        where: Callable[[Resource], bool] | None = None,
    ) -> list[Resource]:
        """Resources of one kind, oldest first, optionally for one investor and filtered."""
        if investor_id is None:
            rows = self.db.all(
                "SELECT data FROM resources WHERE tenant_id = ? AND object = ? ORDER BY seq", (tenant_id, obj)
            )
        else:
            rows = self.db.all(
                "SELECT data FROM resources WHERE tenant_id = ? AND object = ? AND investor_id = ? ORDER BY seq",
                (tenant_id, obj, investor_id),
            )
        items = [dict(json.loads(r[0])) for r in rows]
        return [r for r in items if where(r)] if where else items

    def find(
        self, tenant_id: str, obj: str, field: str, value: str, *, investor_id: str | None = None
    ) -> builtins.list[Resource]:
        """Resources of one kind whose top-level string ``field`` equals ``value``, oldest first.

        Like ``list(where=lambda r: r.get(field) == value)``, but SQLite compares (``json_extract``) so only
        the matches are decoded: a lookup no longer costs a JSON decode per resource of that kind (and with an
        index on the expression, as ``resources_by_operation`` in schema.sql, no scan at all).
        """
        if not field.isidentifier():
            raise ValueError(f"field {field!r} must be a plain top-level key")
        sql = "SELECT seq, data FROM resources WHERE tenant_id = ? AND object = ?"
        params: list[str] = [tenant_id, obj]
        if investor_id is not None:
            sql += " AND investor_id = ?"
            params.append(investor_id)
        sql += f" AND json_extract(data, '$.{field}') = ?"  # a literal path, so an index on it can serve it
        params.append(value)
        rows = sorted(self.db.all(sql, tuple(params)), key=lambda r: int(r[0]))  # ORDER BY would pick another index
        return [dict(json.loads(r[1])) for r in rows]
