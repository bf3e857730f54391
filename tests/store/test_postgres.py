"""The PostgreSQL backend beyond the contract: its URL, its migrations, and what must hold
when several workers (each a backend with its own pool) write to one node's schema at once."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kizuna.core.hlc import pack
from kizuna.core.records import Event
from kizuna.kernel.plugins import backend_factory
from kizuna.store.base import Draft
from kizuna.store.postgres_backend import PostgresBackend, open_postgres, parse_url, redact
from kizuna.store.postgres_migrations import MIGRATIONS, MigrationError
from tests.store import pgtest
from tests.store.contract.support import SECRET, U

Workers = Callable[..., list[PostgresBackend]]


@pytest.fixture
def node_url(postgres_database: str, tmp_path: Path) -> str:
    """A fresh schema of its own in this run's database."""
    return pgtest.store_url(postgres_database, tmp_path)


@pytest.fixture
def workers(node_url: str, tmp_path: Path) -> Iterator[Workers]:
    """Open ``n`` backends of one node on one schema, as ``n`` workers would."""
    opened: list[PostgresBackend] = []

    def open_workers(n: int, node_id: str = "usfj") -> list[PostgresBackend]:
        new = [open_postgres(node_url, tmp_path, node_id) for _ in range(n)]
        opened.extend(new)
        return new

    yield open_workers
    for backend in opened:
        backend.close()


def run_all(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run ``jobs`` at once (each in its own thread, started together); their results."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def peer_event(origin: str, seq: int) -> Event:
    return Event(
        origin=origin,
        seq=seq,
        hlc=pack(int(time.time() * 1000), seq),
        record_type="report",
        record_id=f"{origin}-{seq % 7}",
        op="patch",
        label=SECRET,
        payload={"n": seq},
    )


# -- the store URL --------------------------------------------------------------


def test_url_settings_are_kizunas_and_the_rest_goes_to_libpq() -> None:
    s = parse_url(
        "postgresql://kz:pw@db.example:5433/kizuna?schema=jjoc&pool_max=20&sslmode=require",
        "jjoc",
    )
    assert (s.schema, s.pool_min, s.pool_max) == ("jjoc", 1, 20)
    params = psycopg.conninfo.conninfo_to_dict(s.conninfo)
    assert params["host"] == "db.example" and params["port"] == "5433"
    assert params["dbname"] == "kizuna" and params["sslmode"] == "require"
    assert params["application_name"] == "kizuna-jjoc"
    assert "schema" not in params and "pool_max" not in params
    # libpq's own parameters pass through unchanged (a space is %20, never +)
    options = parse_url("postgresql://h/db?options=-c%20synchronous_commit%3Doff&schema=x")
    assert psycopg.conninfo.conninfo_to_dict(options.conninfo)["options"] == (
        "-c synchronous_commit=off"
    )
    assert parse_url("postgres://h/db").schema == "public"
    with pytest.raises(ValueError, match="identifier"):
        parse_url("postgresql://h/db?schema=a;drop")
    with pytest.raises(ValueError, match="pool"):
        parse_url("postgresql://h/db?pool_min=5&pool_max=2")
    with pytest.raises(ValueError, match="PostgreSQL"):
        parse_url("sqlite:///x.db")
    assert redact("postgresql://kz:secret@h/db") == "postgresql://kz:***@h/db"


def test_a_postgresql_url_selects_this_backend() -> None:
    """``store = "postgresql://…"`` (or ``postgres://``) in node.toml picks the entry point."""
    assert backend_factory("postgresql://postgres@127.0.0.1/kizuna") is open_postgres
    assert backend_factory("postgres://postgres@127.0.0.1/kizuna") is open_postgres


# -- migrations -----------------------------------------------------------------


def _versions(url: str, schema: str) -> list[tuple[int, str]]:
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        rows = conn.execute(
            f'SELECT version, checksum FROM "{schema}".schema_version ORDER BY version'
        ).fetchall()
    return [(int(v), str(c)) for v, c in rows]


def test_open_migrates_once_and_records_each_version(
    workers: Workers, node_url: str, tmp_path: Path
) -> None:
    schema = pgtest.schema_for(tmp_path)
    run_all([lambda: workers(1) for _ in range(4)])  # four workers start at once
    expected = [(m.version, m.checksum) for m in MIGRATIONS]
    assert _versions(node_url, schema) == expected
    (backend,) = workers(1)
    assert backend.schema_version == MIGRATIONS[-1].version
    assert _versions(node_url, schema) == expected


def test_an_edited_or_newer_schema_stops_the_node(
    workers: Workers, node_url: str, tmp_path: Path
) -> None:
    workers(1)
    schema = pgtest.schema_for(tmp_path)
    with psycopg.connect(node_url.split("?")[0], autocommit=True) as conn:
        conn.execute(f"UPDATE \"{schema}\".schema_version SET checksum = 'x' WHERE version = 1")
    with pytest.raises(MigrationError, match="never be edited"):
        workers(1)
    with psycopg.connect(node_url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            f'UPDATE "{schema}".schema_version SET checksum = %s WHERE version = 1',
            (MIGRATIONS[0].checksum,),
        )
        conn.execute(
            f"INSERT INTO \"{schema}\".schema_version (version, name, checksum) VALUES (999, 'future', '')"
        )
    with pytest.raises(MigrationError, match="newer than this kizuna"):
        workers(1)


# -- several workers on one node ------------------------------------------------


def test_concurrent_workers_apply_each_peer_event_exactly_once(workers: Workers) -> None:
    nodes = workers(4)
    events = [peer_event(origin, seq) for origin in ("jjoc", "aus") for seq in range(1, 151)]
    # Each worker's listeners hear every commit of the node: its own at once, the other
    # workers' through LISTEN/NOTIFY (ADR 0011).
    heard: list[list[Event]] = [[] for _ in nodes]
    lock = threading.Lock()

    def listener(i: int, batch: Any) -> None:
        with lock:
            heard[i].extend(batch)

    for i, node in enumerate(nodes):
        node.events.on_commit(partial(listener, i))

    def deliver(offset: int) -> list[Event]:
        # every worker receives every event, in overlapping batches of its own
        new: list[Event] = []
        order = events[offset:] + events[:offset]
        for i in range(0, len(order), 20):
            new += nodes[offset % 4].events.apply(order[i : i + 25])
        return new

    results = run_all([partial(deliver, o) for o in (0, 75, 150, 225)])
    applied = [e.key for r in results for e in r]
    assert sorted(applied) == sorted(e.key for e in events)  # each new exactly once
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(len(h) < len(applied) for h in heard):
        time.sleep(0.05)
    for h in heard:
        assert sorted(e.key for e in h) == sorted(applied)
    log = nodes[0].events.events_after(0, 10_000)
    assert sorted(e.key for _, e in log) == sorted(e.key for e in events)
    state = nodes[1].events.get("report", "jjoc-3")
    assert state is not None and state.fields["n"] == max(
        e.seq for e in events if e.record_id == "jjoc-3"
    )


def test_concurrent_workers_number_our_events_without_gaps_or_clashes(workers: Workers) -> None:
    nodes = workers(3)

    def write(w: int) -> list[Event]:
        made: list[Event] = []
        for i in range(40):
            made += nodes[w].events.append(
                [Draft("report", f"w{w}-{i}", "create", U, {"i": i}) for _ in range(1 + i % 3)]
            )
        return made

    made = [e for batch in run_all([partial(write, w) for w in range(3)]) for e in batch]
    assert sorted(e.seq for e in made) == list(range(1, len(made) + 1))
    log = [e for _, e in nodes[0].events.events_after(0, 10_000)]
    # in log order, seq and hlc both strictly increase: one clock across the workers
    assert [e.seq for e in log] == list(range(1, len(made) + 1))
    assert all(a.hlc < b.hlc for a, b in itertools.pairwise(log))


def test_outbox_cursor_loses_and_doubles_nothing_under_concurrent_writers(
    workers: Workers,
) -> None:
    """Writers commit while two workers fill the same peer's outbox: every event that
    commits is queued exactly once, even those whose transaction began before a scan."""
    nodes = workers(5)
    writing = threading.Event()
    writing.set()

    def write(w: int) -> int:
        n = 0
        for i in range(60):
            if w % 2:
                n += len(nodes[w].events.append([Draft("report", f"w{w}-{i}", "create", U, {})]))
            else:
                n += len(nodes[w].events.apply([peer_event(f"p{w}", i + 1)]))
        return n

    def fill(w: int) -> int:
        queued = 0
        while True:
            more = writing.is_set()
            scanned, q = nodes[w].outbox.enqueue_new("jjoc", lambda e: True, limit=7)
            queued += q
            if not scanned and not more:
                return queued

    fillers: list[int] = []

    def writers() -> int:
        total: int = sum(run_all([partial(write, w) for w in range(3)]))
        writing.clear()
        return total

    def filler(w: int) -> None:
        fillers.append(fill(w))

    total, _, _ = run_all([writers, lambda: filler(3), lambda: filler(4)])
    outbox = nodes[0].outbox
    assert sum(fillers) == total == outbox.depth("jjoc")
    queued = [pos for pos, _, _ in outbox.next_batch("jjoc", 10_000)]
    log = nodes[0].events.events_after(0, 10_000)
    assert sorted(queued) == [pos for pos, _ in log]
    assert outbox.cursor("jjoc") == log[-1][0]


# -- the spatial index ----------------------------------------------------------


def test_bbox_queries_use_the_gist_index(workers: Workers) -> None:
    (node,) = workers(1)
    from tests.store.contract.test_spatial import Beacon, beacon, row

    index = node.spatial_index(Beacon)
    index.write([row(f"e{i}", [beacon(f"e{i}", i % 80, i % 170)], i) for i in range(1, 300)])
    with node.pool.connection() as conn:
        conn.execute("ANALYZE track_boxes")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT rid FROM track_boxes"
                " WHERE box && ST_MakeEnvelope(10, 10, 11, 11, 4326)"
            ).fetchall()
        )
        conn.execute("RESET enable_seqscan")
    assert "track_boxes_box" in plan
    assert sorted(index.query_bbox([(10.0, 10.0, 11.0, 11.0)])) == ["e10", "e11"]


# -- the test server ------------------------------------------------------------


def test_an_unreachable_server_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pgtest, "SERVER", "postgresql://postgres@127.0.0.1:1/postgres")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        pgtest.require_postgres()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        pgtest.require_postgres()
