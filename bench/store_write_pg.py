"""Events/s committed to the PostgreSQL event log in batches, against raw psycopg.

Run it with the project's interpreter (PostgreSQL + PostGIS must be reachable)::

    .venv/bin/python bench/store_write_pg.py
    .venv/bin/python bench/store_write_pg.py --batches 1,100,500 --events 20000 --rounds 5
    .venv/bin/python bench/store_write_pg.py --server postgresql://postgres@db:5432/postgres

The server defaults to ``$KIZUNA_TEST_PG`` or ``postgresql://postgres@127.0.0.1:5432/postgres``;
the benchmark creates a fresh database there and drops it when it ends. Every round of
every batch size gets fresh schemas, migrated by the backend itself:

* **kizuna** appends batches of ``Draft`` through ``open_postgres(...).events.append``
  (one transaction per batch: head lock, seq lookup, events, the records projection,
  the head update);
* **raw COPY** and **raw executemany** write the same rows (same columns, same msgpack
  bodies, same positions, and a ``writer`` id where the schema has that column) into the
  ``events`` table of an identically migrated schema (same primary key, ``(origin, seq)``
  unique constraint and ``(record_type, record_id)`` index) with bare psycopg, one
  transaction per batch: binary ``COPY … FROM STDIN``, and ``executemany`` of an
  ``INSERT`` (pipelined by psycopg);
* **raw COPY+records** also COPYs the ``records`` rows the store writes for those events
  (a fresh record points at its event): the floor of a commit that keeps a projection.

So ours/COPY shows what the store adds to a commit (event construction, HLC, encoding,
the head lock and the projection) and ours/COPY+records what it adds beyond writing the
projection. The target is ≥ 0.5× raw COPY for batched commits (batch > 1). The SQLite
backend (``bench/store_write.py``'s two sides: kizuna and bare sqlite3, WAL,
``synchronous=NORMAL``) is measured in the same run for reference. Mind the difference in
durability: PostgreSQL flushes the WAL at every commit unless ``--synchronous-commit off``
(set on the fresh database for every side) says otherwise.

The PostgreSQL sides are interleaved batch by batch (each side commits batch k before any
commits batch k + 1, in a rotating order), so a slow moment of the shared machine's disk
hits every side alike; rounds are repeated and medians reported (a ratio is the median of
the rounds' ratios, so it need not equal the ratio of the median columns).
Results go to ``bench/results/store_write_pg.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))

import store_write as sqlite_bench
from _common import print_table, write_json
from kizuna.core.records import Event
from kizuna.store.postgres import event_columns
from kizuna.store.postgres_backend import open_postgres
from kizuna.store.postgres_migrations import migrate

SERVER = os.environ.get("KIZUNA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NODE = "usfj"
COLUMNS = ["pos", "origin", "seq", "hlc", "record_type", "record_id", "precedence", "body"]
TYPES = ["int8", "text", "int8", "int8", "text", "text", "int2", "bytea"]
COPY_RECORDS_SQL = (
    "COPY records (record_type, record_id, updated_hlc, pos, state) FROM STDIN (FORMAT BINARY)"
)
COPY_RECORDS_TYPES = ["text", "text", "int8", "int8", "bytea"]
WRITER = 1  # the writer id the raw sides put in ``events.writer``, where the schema has one

Row = tuple[Any, ...]


def database_url(server: str, database: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path="/" + database))


def store_url(database: str, schema: str, **settings: Any) -> str:
    """The backend's ``store`` setting for ``schema`` of ``database`` (a libpq URL)."""
    query = "&".join(f"{k}={v}" for k, v in {"schema": schema, **settings}.items())
    sep = "&" if urlsplit(database).query else "?"
    return f"{database}{sep}{query}"


@contextlib.contextmanager
def fresh_database(
    server: str, prefix: str = "kizuna_bench", settings: dict[str, str] | None = None
) -> Iterator[str]:
    """A new, uniquely named database on ``server`` (its URL), dropped afterwards.

    ``settings`` become the database's defaults (``ALTER DATABASE … SET``)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        for key, value in (settings or {}).items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} TO {}").format(
                    sql.Identifier(name), sql.Identifier(key), sql.Literal(value)
                )
            )
    try:
        yield database_url(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def source_state() -> str:
    """The checkout measured: commit, and ``-dirty`` with uncommitted changes."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out.stdout.strip()


def drop_schema(database: str, schema: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class Ours:
    """The backend's event log: ``append`` of one batch of drafts per commit."""

    def __init__(self, database: str, schema: str, n: int) -> None:
        self.work = sqlite_bench.drafts(n)
        self.backend = open_postgres(store_url(database, schema), Path(tempfile.gettempdir()), NODE)
        self.database, self.schema, self.n = database, schema, n

    def step(self, lo: int, hi: int) -> None:
        self.backend.events.append(self.work[lo:hi])

    def close(self) -> None:
        with self.backend.pool.connection() as conn:
            (count,) = conn.execute("SELECT count(*) FROM events").fetchone() or (0,)
        self.backend.close()
        drop_schema(self.database, self.schema)
        assert count == self.n, f"kizuna wrote {count} of {self.n} events"


class Raw:
    """Bare psycopg into a migrated schema's ``events``, one transaction per batch.

    ``how``: ``copy`` (binary COPY), ``executemany``, or ``copy+records`` (binary COPY of
    the events and of the projection rows the store writes for them: the floor of a
    commit that keeps a projection, without the store's own work)."""

    def __init__(self, database: str, schema: str, rows: Sequence[Row], how: str) -> None:
        self.conn = psycopg.connect(database, autocommit=True)
        migrate(self.conn, schema)  # the backend's own tables and indexes; sets search_path
        self.cur = self.conn.cursor()
        self.database, self.schema, self.rows, self.how = database, schema, rows, how
        columns, self.types = COLUMNS, TYPES
        if self.conn.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'events' AND column_name = 'writer'",
            (schema,),
        ).fetchone():  # the backend names the writing instance in each row: so do we
            columns, self.types = ["writer", *COLUMNS], ["int8", *TYPES]
            self.rows = [(WRITER, *row) for row in rows]
        self.copy_sql = f"COPY events ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        self.insert_sql = (
            f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.at = {c: i for i, c in enumerate(columns)}

    def step(self, lo: int, hi: int) -> None:
        conn, cur, rows = self.conn, self.cur, self.rows[lo:hi]
        with conn.transaction():
            if self.how == "executemany":
                cur.executemany(self.insert_sql, rows)
                return
            with cur.copy(self.copy_sql) as copy:
                copy.set_types(self.types)
                for row in rows:
                    copy.write_row(row)
            if self.how == "copy+records":
                at = self.at
                rt, rid, hlc, pos = at["record_type"], at["record_id"], at["hlc"], at["pos"]
                with cur.copy(COPY_RECORDS_SQL) as copy:
                    copy.set_types(COPY_RECORDS_TYPES)
                    for row in rows:  # a fresh record points at its only event (state NULL)
                        copy.write_row((row[rt], row[rid], row[hlc], row[pos], None))

    def close(self) -> None:
        (count,) = self.conn.execute("SELECT count(*) FROM events").fetchone() or (0,)
        self.conn.close()
        drop_schema(self.database, self.schema)
        assert count == len(self.rows), f"raw {self.how} wrote {count} of {len(self.rows)} rows"


def reference_rows(database: str, n: int) -> list[Row]:
    """The event rows the backend writes for ``n`` drafts, at positions 1..n, encoded."""
    schema = "scratch"
    backend = open_postgres(store_url(database, schema), Path(tempfile.gettempdir()), NODE)
    try:
        events: list[Event] = []
        work = sqlite_bench.drafts(n)
        for i in range(0, n, 5000):
            events += backend.events.append(work[i : i + 5000])
    finally:
        backend.close()
    drop_schema(database, schema)
    return list(zip(*event_columns(1, events), strict=True))


def pg_round(database: str, rows: Sequence[Row], batch: int, tag: str) -> dict[str, float]:
    """Events/s of each PostgreSQL side, interleaved batch by batch.

    Every side commits its batch ``k`` before any side commits batch ``k + 1``, in an order
    rotated at each step, so a slow moment of the shared disk (a WAL flush is most of a
    small commit) hits every side alike."""
    n = len(rows)
    sides: dict[str, Ours | Raw] = {}
    try:
        for how in ("copy", "executemany", "copy+records"):
            name = how.replace("+", "_")
            sides[how] = Raw(database, f"{name}_{tag}", rows, how)
        sides["ours"] = Ours(database, f"ours_{tag}", n)
        spent = dict.fromkeys(sides, 0.0)
        order = list(sides.items())
        for k, lo in enumerate(range(0, n, batch)):
            hi = min(n, lo + batch)
            turn = k % len(order)
            for name, side in order[turn:] + order[:turn]:
                start = time.perf_counter()
                side.step(lo, hi)
                spent[name] += time.perf_counter() - start
    finally:
        for side in sides.values():
            side.close()
    return {name: n / s for name, s in spent.items()}


def measure(
    database: str, tmp: Path, n: int, batch: int, rounds: int, sqlite: bool
) -> dict[str, list[float]]:
    rows = reference_rows(database, n)
    got: dict[str, list[float]] = {"ours": [], "copy": [], "executemany": [], "copy+records": []}
    if sqlite:
        got |= {"sqlite_ours": [], "sqlite_raw": []}
    for r in range(rounds):
        tag = f"b{batch}_r{r}"
        for name, per_s in pg_round(database, rows, batch, tag).items():
            got[name].append(per_s)
        if sqlite:  # bench/store_write.py's two sides, as it runs them
            got["sqlite_raw"].append(sqlite_bench.raw(tmp / f"raw-{tag}.db", n, batch))
            got["sqlite_ours"].append(sqlite_bench.ours(tmp / f"ours-{tag}.db", n, batch))
        print(f"  batch {batch}: round {r + 1}/{rounds} done", flush=True)
    return got


def ratio(top: list[float], bottom: list[float]) -> float:
    """The median of the per-round ratios (each round's sides ran interleaved)."""
    return statistics.median(t / b for t, b in zip(top, bottom, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--server", default=SERVER, help="libpq URL of a database on the server")
    ap.add_argument("--batches", default="1,100,500", help="comma-separated batch sizes")
    ap.add_argument("--events", type=int, default=20_000, help="events per round, batched")
    ap.add_argument("--single", type=int, default=2_000, help="events per round at batch 1")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--synchronous-commit",
        choices=["server", "on", "off"],
        default="server",
        help="the fresh database's synchronous_commit (default: the server's setting)",
    )
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite reference")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    sqlite = not args.no_sqlite
    settings = {}
    if args.synchronous_commit != "server":
        settings["synchronous_commit"] = args.synchronous_commit
    results: dict[str, Any] = {
        "server": urlsplit(args.server).hostname,
        "source": source_state(),
        "modes": {},
    }
    pg_table, sqlite_table = [], []
    with fresh_database(args.server, settings=settings) as database:
        with psycopg.connect(database) as conn:
            sync = conn.execute("SHOW synchronous_commit").fetchone()
            version = conn.execute("SHOW server_version").fetchone()
        results["synchronous_commit"] = sync[0] if sync else "?"
        results["server_version"] = version[0] if version else "?"
        with tempfile.TemporaryDirectory() as tmp:
            for batch in batches:
                n = args.single if batch == 1 else args.events
                got = measure(database, Path(tmp), n, batch, args.rounds, sqlite)
                med = {k: statistics.median(v) for k, v in got.items()}
                mode: dict[str, Any] = {
                    "events": n,
                    "batch": batch,
                    "ours_per_s": med["ours"],
                    "raw_copy_per_s": med["copy"],
                    "raw_executemany_per_s": med["executemany"],
                    "raw_copy_with_records_per_s": med["copy+records"],
                    "ratio_copy": ratio(got["ours"], got["copy"]),
                    "ratio_executemany": ratio(got["ours"], got["executemany"]),
                    "ratio_copy_with_records": ratio(got["ours"], got["copy+records"]),
                }
                pg_table.append(
                    [
                        batch,
                        n,
                        med["ours"],
                        med["copy"],
                        med["executemany"],
                        med["copy+records"],
                        f"{mode['ratio_copy']:.2f}x",
                        f"{mode['ratio_executemany']:.2f}x",
                        f"{mode['ratio_copy_with_records']:.2f}x",
                    ]
                )
                if sqlite:
                    mode |= {
                        "sqlite_ours_per_s": med["sqlite_ours"],
                        "sqlite_raw_per_s": med["sqlite_raw"],
                        "sqlite_ratio": ratio(got["sqlite_ours"], got["sqlite_raw"]),
                        "pg_vs_sqlite": ratio(got["ours"], got["sqlite_ours"]),
                    }
                    sqlite_table.append(
                        [
                            batch,
                            n,
                            med["ours"],
                            med["sqlite_ours"],
                            med["sqlite_raw"],
                            f"{mode['sqlite_ratio']:.2f}x",
                            f"{mode['pg_vs_sqlite']:.2f}x",
                        ]
                    )
                mode["rounds"] = got
                results["modes"][str(batch)] = mode
    print_table(
        f"Event log commits, PostgreSQL {results['server_version']}"
        f" (synchronous_commit={results['synchronous_commit']}), medians of {args.rounds} rounds",
        [
            "batch",
            "events",
            "kizuna ev/s",
            "raw COPY rows/s",
            "raw executemany",
            "raw COPY+records",
            "ours/COPY",
            "ours/executemany",
            "ours/COPY+records",
        ],
        pg_table,
    )
    if sqlite:
        print_table(
            "Beside it, same run: the SQLite backend (WAL, synchronous=NORMAL)",
            [
                "batch",
                "events",
                "kizuna PG ev/s",
                "kizuna SQLite ev/s",
                "raw sqlite3 rows/s",
                "SQLite ours/raw",
                "PG/SQLite",
            ],
            sqlite_table,
        )
    target = 0.5
    batched = [m for m in results["modes"].values() if m["batch"] > 1]
    ok = all(m["ratio_copy"] >= target for m in batched)
    worst = min((m["ratio_copy"] for m in batched), default=float("nan"))
    print(
        f"\nbatched target ≥ {target:.0%} of raw COPY: {'met' if ok else 'NOT met'}"
        f" (worst batched ratio {worst:.2f}x)"
    )
    results |= {"target_batched_ratio": target, "target_met": ok, "rounds": args.rounds}
    print("written:", write_json("store_write_pg", results))


if __name__ == "__main__":
    main()
