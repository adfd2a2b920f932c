-- The record cache's schema in PostgreSQL: the tables and columns of the SQLite
-- migrations in refs/store/cache.py (a test compares them), one section per migration.

-- migration: 0001_records_and_crosswalk
CREATE TABLE crosswalk (
    scheme TEXT NOT NULL,
    id TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (scheme, id, service, key)
);
CREATE INDEX crosswalk_by_record ON crosswalk (service, key);

-- migration: 0002_record_base
-- (SQLite added records.base here; PostgreSQL creates records whole in 0003.)

-- migration: 0003_records_and_payloads_apart
CREATE TABLE records (
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'not_found')),
    fetched_at DOUBLE PRECISION NOT NULL,
    http_status BIGINT,
    content_type TEXT,
    validators TEXT,
    reason TEXT,
    names TEXT,
    base TEXT,
    digest TEXT,
    PRIMARY KEY (service, key)
);
CREATE TABLE payloads (
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (service, key)
);

-- migration: 0004_snapshots
CREATE TABLE snapshots (
    file TEXT NOT NULL,
    service TEXT NOT NULL,
    stamp DOUBLE PRECISION NOT NULL,
    whole BIGINT NOT NULL,
    records BIGINT NOT NULL,
    loaded_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (file, service)
);
