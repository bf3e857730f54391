"""Versioned schema migrations of the PostgreSQL backend, applied by the node when it opens.

Each migration is numbered; ``schema_version`` records the ones applied (number, name,
SHA-256 of the SQL, when). Opening a store applies the missing ones in order, each in its
own transaction, under an advisory lock, so several workers starting at once migrate
once. A migration that has been applied is never edited: a changed checksum, or a
database newer than this code, stops the node with a plain message. Add a change as the
next number at the end of :data:`MIGRATIONS`.

Tables are created unqualified in the node's schema (first on the ``search_path``);
PostGIS is a database-wide extension, created in ``public`` if it is missing.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow


class Migration(NamedTuple):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event log, projections, users, sessions, meta, outbox, spatial index",
        """
-- The log's head: the last position and the highest HLC committed. Every event commit
-- locks this row first, so positions are handed out, and become visible, in commit order.
CREATE TABLE log_head (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    pos bigint NOT NULL,
    hlc bigint NOT NULL
);
INSERT INTO log_head (id, pos, hlc) VALUES (1, 0, 0);

CREATE TABLE events (
    pos bigint PRIMARY KEY,
    origin text NOT NULL,
    seq bigint NOT NULL,
    hlc bigint NOT NULL,
    record_type text NOT NULL,
    record_id text NOT NULL,
    precedence smallint NOT NULL,
    body bytea NOT NULL,
    CONSTRAINT events_origin_seq UNIQUE (origin, seq)
);
CREATE INDEX events_record ON events (record_type, record_id);

-- A record written by one event points at it (state NULL); later events materialise state.
CREATE TABLE records (
    record_type text NOT NULL,
    record_id text NOT NULL,
    updated_hlc bigint NOT NULL,
    pos bigint REFERENCES events (pos),
    state bytea,
    PRIMARY KEY (record_type, record_id)
);
CREATE INDEX records_updated ON records (record_type, updated_hlc DESC);

CREATE TABLE users (
    name text PRIMARY KEY,
    token_hash text UNIQUE,
    body bytea NOT NULL
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    name text NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL
);
CREATE INDEX sessions_name ON sessions (name);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE outbox_cursor (peer text PRIMARY KEY, pos bigint NOT NULL);
CREATE TABLE outbox (
    peer text NOT NULL,
    pos bigint NOT NULL REFERENCES events (pos),
    precedence smallint NOT NULL,
    hlc bigint NOT NULL,
    PRIMARY KEY (peer, pos)
);
CREATE INDEX outbox_order ON outbox (peer, precedence, hlc, pos);

-- The spatial index: latest items per entry, boxes in their own table (GiST), trails.
CREATE TABLE tracks (
    rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    version bigint NOT NULL,
    observed_at double precision NOT NULL,
    stale_at double precision NOT NULL,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    history_n integer NOT NULL DEFAULT 0,
    body bytea NOT NULL
);
CREATE INDEX tracks_version ON tracks (version);

CREATE TABLE track_boxes (
    rid bigint PRIMARY KEY REFERENCES tracks (rid) ON DELETE CASCADE,
    box geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX track_boxes_box ON track_boxes USING gist (box);

CREATE TABLE track_labels (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body bytea NOT NULL UNIQUE
);

CREATE TABLE track_trails (
    trail bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rid bigint NOT NULL REFERENCES tracks (rid) ON DELETE CASCADE,
    source text NOT NULL,
    last_at double precision NOT NULL DEFAULT '-Infinity',
    last_lat double precision NOT NULL DEFAULT 0,
    last_lon double precision NOT NULL DEFAULT 0,
    UNIQUE (rid, source)
);

CREATE TABLE track_segments (
    trail bigint NOT NULL REFERENCES track_trails (trail) ON DELETE CASCADE,
    first_at double precision NOT NULL,
    last_at double precision NOT NULL,
    n integer NOT NULL,
    points bytea NOT NULL,
    PRIMARY KEY (trail, first_at)
);
""",
    ),
    Migration(
        2,
        "several workers: writers of events and entries, entry version head",
        """
-- Which backend instance (a worker) wrote each event and entry: a worker's listener hands
-- on only the others' commits (ADR 0011). NULL: written before, or by another tool.
ALTER TABLE events ADD COLUMN writer bigint;
ALTER TABLE tracks ADD COLUMN writer bigint;

-- The highest entry version written. Every write of entries locks this row first, so
-- versions are handed out, and become visible, in commit order across workers.
CREATE TABLE track_head (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO track_head (id, version) SELECT 1, coalesce(max(version), 0) FROM tracks;
""",
    ),
    Migration(
        3,
        "no foreign keys from records and outbox to events",
        """
-- Both guarded only against the store's own bugs, at a price per row: a check query and a
-- row lock (KEY SHARE, written into the event's tuple) on every event a projection row
-- or an outbox entry points at. Those rows are written in the transaction that holds the
-- log head lock, after (or with) the events they name, and events are never deleted.
ALTER TABLE records DROP CONSTRAINT IF EXISTS records_pos_fkey;
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_pos_fkey;
""",
    ),
    Migration(
        4,
        "entry ids beside their boxes",
        """
-- A bounding-box query reads track_boxes alone, without a join to the wide tracks rows.
-- An entry's id never changes for its rid (tracks.id is unique and an upsert keeps rid).
DROP INDEX track_boxes_box;
ALTER TABLE track_boxes ADD COLUMN id text;
UPDATE track_boxes b SET id = t.id FROM tracks t WHERE t.rid = b.rid;
ALTER TABLE track_boxes ALTER COLUMN id SET NOT NULL;
CREATE INDEX track_boxes_box ON track_boxes USING gist (box);
""",
    ),
    Migration(
        5,
        "outbox enqueue times",
        """
-- When each entry was queued (POSIX seconds), for the age of the oldest per precedence
-- against its ACP 121 handling-time objective (ADR 0020). NULL: queued before.
ALTER TABLE outbox ADD COLUMN enqueued_at double precision;
""",
    ),
)

# One key for every kizuna schema in the database: CREATE EXTENSION is database-wide.
_LOCK_KEY = 0x6B697A756E61  # "kizuna"

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def search_path(schema: str, extension_schema: str) -> sql.Composed:
    names = [schema] if schema == extension_schema else [schema, extension_schema]
    return sql.SQL("SET search_path TO {}").format(sql.SQL(", ").join(map(sql.Identifier, names)))


def _extension_schema(conn: psycopg.Connection[TupleRow]) -> str | None:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'postgis'"
    ).fetchone()
    return None if row is None else str(row[0])


def _ensure_postgis(conn: psycopg.Connection[TupleRow]) -> str:
    found = _extension_schema(conn)
    if found is not None:
        return found
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
    except (psycopg.errors.UndefinedFile, psycopg.errors.FeatureNotSupported) as exc:
        raise MigrationError(
            "PostGIS is not installed on the PostgreSQL server"
            " (Debian: apt-get install postgresql-15-postgis-3)"
        ) from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise MigrationError(
            "the PostGIS extension is missing in this database and this role may not create"
            " it: ask the database owner to run CREATE EXTENSION postgis"
        ) from exc
    found = _extension_schema(conn)
    assert found is not None
    return found


def migrate(conn: psycopg.Connection[TupleRow], schema: str) -> tuple[str, int]:
    """Bring ``schema`` up to date on ``conn`` (autocommit); returns (the PostGIS schema,
    the schema's version). Leaves ``conn``'s search_path on the node's schema."""
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        extension_schema = _ensure_postgis(conn)
        # (CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when it exists)
        if not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(search_path(schema, extension_schema))
        conn.execute(_VERSION_TABLE)
        applied = {
            int(v): str(c)
            for v, c in conn.execute("SELECT version, checksum FROM schema_version").fetchall()
        }
        known = {m.version: m for m in MIGRATIONS}
        newer = sorted(set(applied) - set(known))
        if newer:
            raise MigrationError(
                f"schema {schema!r} is at version {max(applied)}, newer than this kizuna"
                f" (it knows up to {max(known)}): upgrade kizuna"
            )
        for version, checksum in sorted(applied.items()):
            if known[version].checksum != checksum:
                raise MigrationError(
                    f"migration {version} ({known[version].name}) differs from the one applied"
                    f" to schema {schema!r}: an applied migration must never be edited"
                )
        for m in MIGRATIONS:
            if m.version in applied:
                continue
            with conn.transaction():
                conn.execute(m.sql.encode())
                conn.execute(
                    "INSERT INTO schema_version (version, name, checksum) VALUES (%s, %s, %s)",
                    (m.version, m.name, m.checksum),
                )
        return extension_schema, max(known)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
