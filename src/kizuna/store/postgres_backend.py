"""The PostgreSQL + PostGIS backend: ``store = "postgresql://user@host:5432/db"``.

The URL is a libpq connection URI (``postgres://`` works too) with a few settings of
kizuna's own, taken out before it reaches libpq:

* ``schema`` — the schema holding this node's tables (default ``public``); several
  nodes may share a database in schemas of their own;
* ``pool_min`` / ``pool_max`` — connections kept by the pool (default 1 and 10).

Opening the backend migrates the schema (:mod:`kizuna.store.postgres_migrations`):
the node needs no SQL run by hand, only a database it may create tables in, with
PostGIS installed on the server (the extension is created if the role may).

Several ``kizuna serve`` processes may open the same schema and act as one node (ADR
0011): each backend instance names itself in what it writes (a random ``writer`` id),
learns of the others' commits through LISTEN/NOTIFY (:class:`PgFeed`, one connection
and thread, started when the first listener registers) and elects one drainer per
peer's outbox with advisory locks (:class:`PgLeases`, one connection, opened on first use).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import Connection
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from kizuna.store.postgres import PgStore, Pool
from kizuna.store.postgres_feed import PgFeed, PgLeases, channel
from kizuna.store.postgres_migrations import migrate, search_path
from kizuna.store.postgres_outbox import PgOutbox
from kizuna.store.postgres_spatial import PgSpatialIndex

SCHEMES = ("postgresql", "postgres")
_OWN = ("schema", "pool_min", "pool_max")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PgSettings(NamedTuple):
    conninfo: str  # for libpq, without kizuna's own parameters
    schema: str
    pool_min: int
    pool_max: int


def parse_url(url: str, node_id: str = "") -> PgSettings:
    """Split a ``store`` URL into libpq's connection string and kizuna's settings."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a PostgreSQL store setting: {redact(url)!r} (use postgresql://…)")
    query = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in query if k in _OWN}
    rest = [(k, v) for k, v in query if k not in _OWN]
    schema = own.get("schema", "public")
    if not _IDENTIFIER.fullmatch(schema):
        raise ValueError(f"schema {schema!r} in the store URL is not a plain SQL identifier")
    try:
        pool_min = int(own.get("pool_min", "1"))
        pool_max = int(own.get("pool_max", "10"))
    except ValueError:
        raise ValueError("pool_min and pool_max in the store URL must be integers") from None
    if not 0 <= pool_min <= pool_max or pool_max < 1:
        raise ValueError("the store URL needs 0 <= pool_min <= pool_max and pool_max >= 1")
    libpq = urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(rest, quote_via=quote), parts.fragment)
    )
    given = conninfo_to_dict(libpq)  # raises on a malformed URI
    extra: dict[str, Any] = {}
    if "application_name" not in given:
        extra["application_name"] = f"kizuna-{node_id}" if node_id else "kizuna"
    if "connect_timeout" not in given:
        extra["connect_timeout"] = 10
    return PgSettings(make_conninfo(libpq, **extra), schema, pool_min, pool_max)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresBackend:
    name = "postgresql"

    def __init__(self, url: str, root: Path, node_id: str) -> None:
        self.url = redact(url)
        self.settings = settings = parse_url(url, node_id)
        with psycopg.connect(settings.conninfo, autocommit=True) as conn:
            extension_schema, self.schema_version = migrate(conn, settings.schema)
        path = search_path(settings.schema, extension_schema)

        def configure(conn: Connection[TupleRow]) -> None:
            conn.execute(path)

        pool: Pool = ConnectionPool(
            settings.conninfo,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            kwargs={"autocommit": True},
            configure=configure,
            name=f"kizuna-{node_id}",
            open=False,
        )
        pool.open(wait=True, timeout=30.0)
        self._pool = pool
        # This instance, in the rows it writes: its listener skips its own commits.
        self.writer = secrets.randbits(63)
        self.feed = PgFeed(settings.conninfo)
        try:
            store = PgStore(
                pool,
                node_id,
                writer=self.writer,
                feed=self.feed,
                channel=channel("events", settings.schema),
            )
        except BaseException:
            pool.close()
            raise
        self.events = store
        self.users = store
        self.meta = store
        self.outbox = PgOutbox(pool)
        self.leases = PgLeases(settings.conninfo, settings.schema)

    @property
    def pool(self) -> Pool:
        """The node's connection pool (for diagnostics and for siblings in ``store/``)."""
        return self._pool

    def spatial_index(self, item_type: type[Any], **options: Any) -> PgSpatialIndex:
        return PgSpatialIndex(
            self._pool,
            item_type=item_type,
            writer=self.writer,
            feed=self.feed,
            channel=channel("tracks", self.settings.schema),
            **options,
        )

    def close(self) -> None:
        self.feed.close()
        self.leases.close()
        self._pool.close()


def open_postgres(url: str, root: Path, node_id: str) -> PostgresBackend:
    return PostgresBackend(url, root, node_id)
