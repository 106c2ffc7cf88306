"""The control store's tables on PostgreSQL, created idempotently by ``ensure_schema``.

Times are epoch seconds (``double precision``) so every reader compares them with the same
arithmetic; heartbeats and audit times take the database's clock, one clock for the fleet.
The audit trail is append-only in the database itself: a trigger refuses UPDATE and DELETE.
"""

from __future__ import annotations

__all__ = ["NOTIFY_CHANNEL", "SCHEMA", "SCHEMA_LOCK"]

# Every change to the table or the holds sends ``table:<version>`` or ``holds:<version>``.
NOTIFY_CHANNEL = "strangler_control"
# pg_advisory_xact_lock key for creating the schema: replicas starting together take turns.
SCHEMA_LOCK = 0x5374_7261_6E67  # "Strang"

SCHEMA = """
CREATE TABLE IF NOT EXISTS strangler_table (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL,
    document text NOT NULL,
    updated_at double precision NOT NULL,
    updated_by text NOT NULL
);
CREATE TABLE IF NOT EXISTS strangler_versions (
    name text PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO strangler_versions (name, version) VALUES ('holds', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS strangler_holds (
    route text PRIMARY KEY,
    hold_until double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS strangler_replicas (
    replica text PRIMARY KEY,
    admin_url text NOT NULL,
    public_url text NOT NULL,
    table_version bigint NOT NULL,
    holds_version bigint NOT NULL,
    degraded boolean NOT NULL,
    detail text NOT NULL,
    started_at double precision NOT NULL,
    seen_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS strangler_audit (
    id bigserial PRIMARY KEY,
    at double precision NOT NULL,
    actor text NOT NULL,
    via text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    before jsonb,
    after jsonb
);
CREATE INDEX IF NOT EXISTS strangler_audit_subject ON strangler_audit (subject, id);
CREATE OR REPLACE FUNCTION strangler_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'strangler_audit is append-only';
END;
$$ LANGUAGE plpgsql;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'strangler_audit_append_only') THEN
        CREATE TRIGGER strangler_audit_append_only BEFORE UPDATE OR DELETE ON strangler_audit
            FOR EACH ROW EXECUTE FUNCTION strangler_audit_append_only();
    END IF;
END;
$$;
CREATE TABLE IF NOT EXISTS strangler_plan_state (
    plan text PRIMARY KEY,
    document jsonb NOT NULL,
    updated_at double precision NOT NULL
);
"""
