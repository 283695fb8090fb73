-- The twin's SQLite schema. Resources are JSON documents in one table (the API
-- renders them as-is); money, idempotency, jobs and webhook traffic have tables
-- of their own because they are queried and counted.

CREATE TABLE IF NOT EXISTS tenants (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    created  REAL NOT NULL
);

-- Tenant key pairs (scope 'tenant') and investor-scoped keys (scope 'investor', id apk_…).
CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    public_key   TEXT NOT NULL UNIQUE,
    secret_hash  TEXT NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    investor_id  TEXT,
    scope        TEXT NOT NULL CHECK (scope IN ('tenant', 'investor')),
    name         TEXT,
    environment  TEXT NOT NULL DEFAULT 'TEST',
    status       TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'revoked')),
    created      REAL NOT NULL,
    expires_at   REAL,
    revoked_at   REAL
);

CREATE TABLE IF NOT EXISTS resources (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    object       TEXT NOT NULL,
    investor_id  TEXT,
    created      REAL NOT NULL,
    seq          INTEGER NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_owner ON resources (tenant_id, object, investor_id, seq);
-- Store.find(..., "_operation_id", ...): a wallet transaction by its operation (every transfer and fill)
CREATE INDEX IF NOT EXISTS resources_by_operation ON resources (tenant_id, object, json_extract(data, '$._operation_id'), investor_id);
-- Store.find(..., "_email_key", ...): an investor by its lower-cased e-mail (uniqueness on create), and
-- Store.find(..., "_public_token", ...): a Plaid public token is single-use per tenant. Partial (only resources
-- with the key are indexed): other writes pay almost nothing; a full or `object = …` index cost deposits ~12 %.
CREATE INDEX IF NOT EXISTS resources_by_email ON resources (tenant_id, object, json_extract(data, '$._email_key'))
    WHERE json_extract(data, '$._email_key') IS NOT NULL;
CREATE INDEX IF NOT EXISTS resources_by_public_token
    ON resources (tenant_id, object, json_extract(data, '$._public_token'))
    WHERE json_extract(data, '$._public_token') IS NOT NULL;
-- ledger.reserved_cents: only resources holding money (a pending withdrawal, an open buy order) are indexed.
CREATE INDEX IF NOT EXISTS resources_holding ON resources (tenant_id, investor_id, object)
    WHERE json_extract(data, '$._hold_cents') > 0;

-- Every money movement, with the operation (dep_/wd_/ord_) that caused it.
CREATE TABLE IF NOT EXISTS ledger (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    investor_id   TEXT NOT NULL,
    operation_id  TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('deposit', 'withdrawal', 'buy', 'sell')),
    amount_cents  INTEGER NOT NULL,
    created       REAL NOT NULL,
    seq           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_by_investor ON ledger (tenant_id, investor_id);
CREATE INDEX IF NOT EXISTS ledger_by_operation ON ledger (operation_id);

-- Each investor's balance (the sum of its ledger entries), kept by the triggers below in the statement that
-- writes the ledger, so reading a balance is one row whatever the history.
CREATE TABLE IF NOT EXISTS ledger_balances (
    tenant_id    TEXT NOT NULL,
    investor_id  TEXT NOT NULL,
    cents        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, investor_id)
) WITHOUT ROWID;
-- A database written before this table existed gets it built once from its ledger (otherwise a no-op).
INSERT INTO ledger_balances (tenant_id, investor_id, cents)
    SELECT tenant_id, investor_id, SUM(amount_cents) FROM ledger
    WHERE NOT EXISTS (SELECT 1 FROM ledger_balances) GROUP BY tenant_id, investor_id;
CREATE TRIGGER IF NOT EXISTS ledger_balance_on_insert AFTER INSERT ON ledger BEGIN
    INSERT INTO ledger_balances (tenant_id, investor_id, cents)
        VALUES (NEW.tenant_id, NEW.investor_id, NEW.amount_cents)
        ON CONFLICT (tenant_id, investor_id) DO UPDATE SET cents = cents + excluded.cents;
END;
CREATE TRIGGER IF NOT EXISTS ledger_balance_on_delete AFTER DELETE ON ledger BEGIN
    UPDATE ledger_balances SET cents = cents - OLD.amount_cents
        WHERE tenant_id = OLD.tenant_id AND investor_id = OLD.investor_id;
END;

CREATE TABLE IF NOT EXISTS idempotency (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    status        INTEGER,
    headers       TEXT,
    body          BLOB,
    created       REAL NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Scheduled work: state progressions (KYC, transfers, fills) and anything else with a due time.
CREATE TABLE IF NOT EXISTS jobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    due        REAL NOT NULL,
    kind       TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    ref        TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS jobs_by_due ON jobs (due, id);

CREATE TABLE IF NOT EXISTS events (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    type       TEXT NOT NULL,
    created    REAL NOT NULL,
    seq        INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant_id, seq);

CREATE TABLE IF NOT EXISTS deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'parked')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL,
    created          REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE IF NOT EXISTS delivery_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    at           REAL NOT NULL,
    url          TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    latency_ms   REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS prices (
    tenant_id  TEXT NOT NULL,
    symbol     TEXT NOT NULL,
    price      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, symbol)
);

CREATE TABLE IF NOT EXISTS counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);

-- Uploaded document bytes (the document resource holds the metadata); removed with the document.
CREATE TABLE IF NOT EXISTS document_blobs (
    id       TEXT PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
    content  BLOB NOT NULL
);
