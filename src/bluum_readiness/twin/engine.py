"""The twin's engine: settings, clock, database, ids, store, scheduler and events in one object.

Request handlers reach it as ``request.app.state.twin``; tests and the sandbox
controls call the same methods, so there is one implementation of every rule.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from bluum_readiness.clock import Clock, SystemClock
from bluum_readiness.twin.db import Database
from bluum_readiness.twin.ids import IdGenerator
from bluum_readiness.twin.scheduler import Scheduler
from bluum_readiness.twin.settings import TwinSettings
from bluum_readiness.twin.store import Resource, Store

__all__ = ["KeyPair", "Principal", "Twin", "hash_secret"]

log = logging.getLogger("bluum_readiness.twin")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class KeyPair:
    """A tenant API key pair. ``repr`` never shows the secret."""

    key: str
    secret: str
    tenant_id: str
    created: float

    def __repr__(self) -> str:
        return f"KeyPair(key={self.key!r}, secret='***', tenant_id={self.tenant_id!r})"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, the key used, and (for investor-scoped keys) the investor."""

    tenant_id: str
    key_id: str
    public_key: str
    scope: str  # "tenant" | "investor"
    investor_id: str | None = None


class Twin:
    """One sandbox twin instance (one database)."""

    def __init__(self, settings: TwinSettings | None = None, *, clock: Clock | None = None) -> None:
        self.settings = settings or TwinSettings()
        self.clock: Clock = clock or SystemClock()
        self.db = Database(self.settings.db_path)
        self.ids = IdGenerator(self.settings.seed)
        self.store = Store(self.db)
        self.scheduler = Scheduler(self)
        from bluum_readiness.twin.domain import register_jobs
        from bluum_readiness.twin.domain.upgrades import upgrade

        register_jobs(self)
        upgrade(self)

    def close(self) -> None:
        self.db.close()

    # -- resources -------------------------------------------------------------------------------------

    def new_resource(self, prefix: str, obj: str, **fields: Any) -> Resource:
        """A resource in the Gen C envelope: id, object, created (unix s), livemode, metadata, then fields."""
        resource: Resource = {
            "id": self.ids.new(prefix),
            "object": obj,
            "created": int(self.clock.now()),
            "livemode": False,
            "metadata": {},
        }
        resource.update(fields)
        return resource

    # -- tenants and keys ------------------------------------------------------------------------------

    def create_tenant(self, name: str = "sandbox", *, key: str | None = None, secret: str | None = None) -> KeyPair:
        """Create a partner account (tenant) with one active key pair; a given key/secret seeds the pair."""
        with self.db.tx():
            tenant_id = self.ids.new("ten")
            self.db.execute(
                "INSERT INTO tenants (id, name, created) VALUES (?,?,?)", (tenant_id, name, self.clock.now())
            )
            return self.create_tenant_key(tenant_id, key=key, secret=secret)

    def create_tenant_key(
        self, tenant_id: str, *, key: str | None = None, secret: str | None = None, name: str | None = None
    ) -> KeyPair:
        key = key or f"test_bluum_{self.ids.token_hex(32)}"
        secret = secret or self.ids.token_hex(32)
        now = self.clock.now()
        with self.db.tx():
            self.db.execute(
                "INSERT INTO api_keys (id, public_key, secret_hash, tenant_id, scope, name, status, created) "
                "VALUES (?,?,?,?, 'tenant', ?, 'active', ?)",
                (self.ids.new("apk"), key, hash_secret(secret), tenant_id, name, now),
            )
        return KeyPair(key=key, secret=secret, tenant_id=tenant_id, created=now)

    def default_tenant(self) -> str | None:
        row = self.db.one("SELECT id FROM tenants ORDER BY created, rowid LIMIT 1")
        return None if row is None else str(row[0])

    def ensure_tenant(self, *, key: str | None = None, secret: str | None = None) -> KeyPair | None:
        """First start: create the default tenant and pair. Seeded key/secret are added to an existing twin.

        Returns the new pair when one was created (to print once), else None.
        """
        if key and secret:
            row = self.db.one("SELECT tenant_id, secret_hash FROM api_keys WHERE public_key = ?", (key,))
            if row is not None:
                if not hmac.compare_digest(row[1], hash_secret(secret)):
                    with self.db.tx():
                        self.db.execute(
                            "UPDATE api_keys SET secret_hash = ?, status = 'active' WHERE public_key = ?",
                            (hash_secret(secret), key),
                        )
                return None
            tenant = self.default_tenant()
            if tenant is None:
                return self.create_tenant(key=key, secret=secret)
            return self.create_tenant_key(tenant, key=key, secret=secret)
        if self.default_tenant() is None:
            return self.create_tenant()
        return None

    def authenticate(self, public_key: str, secret: str) -> Principal | str:
        """The principal for a key pair, or the 401 code that explains why it was refused."""
        row = self.db.one(
            "SELECT id, secret_hash, tenant_id, scope, investor_id, status, expires_at FROM api_keys "
            "WHERE public_key = ?",
            (public_key,),
        )
        if row is None or not hmac.compare_digest(row["secret_hash"], hash_secret(secret)):
            return "BLUM-401-003"
        if row["status"] == "revoked":
            return "BLUM-401-003"
        if row["status"] == "inactive":
            return "BLUM-401-004"
        if row["expires_at"] is not None and row["expires_at"] <= self.clock.now():
            return "BLUM-401-005"
        return Principal(
            tenant_id=row["tenant_id"],
            key_id=row["id"],
            public_key=public_key,
            scope=row["scope"],
            investor_id=row["investor_id"],
        )
