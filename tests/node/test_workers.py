"""Several workers of one node on one PostgreSQL database act as one node (ADR 0011).

In process: two backends on one schema stand for two workers (commits, entries and
leases cross between them). With real processes: two `kizuna serve` of one PostgreSQL
node directory, on ports of their own, and a SQLite peer; writes and tracks on either
worker are readable and pushed on both, and the worker draining the peer's outbox is
SIGKILLed mid-drain while the other takes over.

Each test gets a fresh database (``tests/store/pgtest.py``); without a server they skip,
and fail when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect

from kizuna.core.labels import Classification, parse_label
from kizuna.core.records import Event
from kizuna.core.release import make_principal
from kizuna.kernel.testing import memory_context
from kizuna.picture.models import Track
from kizuna.picture.rules import BBox
from kizuna.picture.service import PictureService
from kizuna.store.base import Draft, EntryRow, RemoteEntries
from kizuna.store.postgres_backend import PostgresBackend, open_postgres
from tests.cluster import Cluster
from tests.nodes import NodeProcess, free_port
from tests.picture.support import track
from tests.store import pgtest

U = parse_label("U")
REL = "S//REL TO USA, JPN"


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database of this test's own, dropped afterwards."""
    with pgtest.fresh_database("kizuna_workers") as url:
        yield url


@pytest.fixture
def workers(database: str, tmp_path: Path) -> Iterator[Callable[[int], list[PostgresBackend]]]:
    """``n`` backends of node ``usfj`` on one schema, as ``n`` workers would open it."""
    url = pgtest.store_url(database, tmp_path)
    opened: list[PostgresBackend] = []

    def open_workers(n: int) -> list[PostgresBackend]:
        new = [open_postgres(url, tmp_path, "usfj") for _ in range(n)]
        opened.extend(new)
        return new

    yield open_workers
    for backend in opened:
        backend.close()


def drafts(tag: str, n: int) -> list[Draft]:
    return [
        Draft("report", f"{tag}-{i}", "create", U, {"title": f"{tag} {i}"}, new_record=True)
        for i in range(n)
    ]


# -- in process: the event log ----------------------------------------------------


def test_each_workers_listeners_hear_every_commit_once_in_order(
    workers: Callable[[int], list[PostgresBackend]],
) -> None:
    a, b = workers(2)
    heard: dict[str, list[Event]] = {"a": [], "b": []}
    threads: dict[str, set[str]] = {"a": set(), "b": set()}
    lock = threading.Lock()

    def listener(name: str) -> Callable[[Any], None]:
        def hear(events: Any) -> None:
            with lock:
                heard[name].extend(events)
                threads[name].add(threading.current_thread().name)

        return hear

    a.events.on_commit(listener("a"))
    b.events.on_commit(listener("b"))

    def write(backend: PostgresBackend, tag: str) -> None:
        for k in range(20):
            backend.events.append(drafts(f"{tag}{k}", 5))

    jobs = [threading.Thread(target=write, args=(w, tag)) for w, tag in ((a, "a"), (b, "b"))]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    wait_until(lambda: len(heard["a"]) >= 200 and len(heard["b"]) >= 200, what="both heard all")
    time.sleep(0.3)  # nothing more arrives
    everything = sorted(e.key for _, e in a.events.events_after(0, 1000))
    assert len(everything) == 200
    for name in ("a", "b"):
        keys = [e.key for e in heard[name]]
        assert sorted(keys) == everything, f"{name} heard some commit twice or not at all"
        other = "b" if name == "a" else "a"
        theirs = [e.seq for e in heard[name] if e.record_id.startswith(other)]
        assert theirs == sorted(theirs), "another worker's events arrive in log order"
        assert "kizuna-pg-feed" in threads[name]  # the other's came from the feed's thread


def test_a_rolled_back_commit_is_never_announced(
    workers: Callable[[int], list[PostgresBackend]],
) -> None:
    a, b = workers(2)
    heard: list[Event] = []
    b.events.on_commit(heard.extend)
    a.events.on_commit(lambda _events: None)
    bad = Draft("report", "bad", "create", U, {"x": object()}, new_record=True)
    with pytest.raises(TypeError):
        a.events.append([*drafts("ok", 2), bad])  # fails inside the transaction
    a.events.append(drafts("after", 1))
    wait_until(lambda: len(heard) == 1, what="the commit after the rollback")
    time.sleep(0.3)
    assert [e.record_id for e in heard] == ["after-0"]
    assert a.events.get("report", "ok-0") is None


# -- in process: spatial entries and the picture ----------------------------------


def row(t: Track, version: int) -> EntryRow:
    return EntryRow(t.id, (t,), (t.lon, t.lon, t.lat, t.lat), version)


def test_entries_of_other_workers_reach_listeners_once(
    workers: Callable[[int], list[PostgresBackend]],
) -> None:
    a, b = workers(2)
    ia, ib = a.spatial_index(Track), b.spatial_index(Track)
    assert isinstance(ia, RemoteEntries)
    got: dict[str, list[tuple[str, list[Any], int]]] = {"a": [], "b": []}
    ia.on_remote_change(got["a"].extend)
    ib.on_remote_change(got["b"].extend)
    ia.write([row(track("x", t=1.0), 1)])
    wait_until(lambda: [r[0] for r in got["b"]] == ["x"], what="b hears a's entry")
    # b writes y, then a replaces it at once: a hears b's y all the same, exactly once
    # (read under the head lock by a's write if its listener had not caught up yet)
    ib.write([row(track("y", source_id="b", t=2.0), 1)])
    ia.write([row(track("y", source_id="a", t=3.0), 1)])
    wait_until(lambda: any(r[0] == "y" for r in got["a"]), what="a hears b's y")
    wait_until(lambda: any(r[0] == "y" for r in got["b"]), what="b hears a's y")
    time.sleep(0.3)
    assert [(r[0], r[1][0].source_id) for r in got["a"]] == [("y", "b")]
    assert [(r[0], r[1][0].source_id) for r in got["b"]] == [("x", "x"), ("y", "a")]
    # versions were handed out in commit order, above the callers' own (all 1 here)
    versions = [v for _, _, v in ia.changed_since(0, 100)]
    assert versions == sorted(versions) and len(set(versions)) == len(versions) == 2
    assert ia.max_version() == 3


def times(picture: PictureService, tid: str) -> list[float]:
    return [o.observed_at for o in picture.entry(tid) or ()]


def test_pictures_of_two_workers_follow_each_other(
    workers: Callable[[int], list[PostgresBackend]],
) -> None:
    a, b = workers(2)
    now = 1000.0
    pa = PictureService(memory_context(backend=a), clock=lambda: now, persist_interval=0)
    pb = PictureService(memory_context(backend=b), clock=lambda: now, persist_interval=0)
    heard: list[Track] = []
    pb.on_tracks(heard.extend)
    assert len(pa) == len(pb) == 0  # both opened and following
    pa.ingest([track("ship", source_id="ais-1", lat=35.0, lon=139.0, t=990.0)])
    wait_until(lambda: pb.entry("ship") is not None, what="b holds a's track")
    box = BBox(138.0, 34.0, 140.0, 36.0)
    us = make_principal("USA", Classification.SECRET)
    assert [t.id for t in pb.query(us, box)] == ["ship"]
    assert [t.id for t in heard] == ["ship"]
    # b has a newer report of the same source: a's older one never rolls it back
    pb.ingest([track("ship", source_id="ais-1", lat=35.5, lon=139.5, t=995.0)])
    pa.ingest([track("ship", source_id="ais-1", lat=35.1, lon=139.1, t=992.0)])
    wait_until(lambda: times(pa, "ship") == [995.0], what="a follows b")
    time.sleep(0.5)
    assert times(pa, "ship") == times(pb, "ship") == [995.0]
    # a second source seen only by a joins b's entry (merged per source key)
    pa.ingest([track("ship", source="cot", source_id="c-1", lat=35.6, lon=139.6, t=996.0)])
    wait_until(lambda: len(pb.entry("ship") or ()) == 2, what="b merges a's second source")
    pa.close()
    pb.close()


# -- in process: leases -----------------------------------------------------------


def test_a_lease_has_one_holder_until_released_or_closed(
    workers: Callable[[int], list[PostgresBackend]],
) -> None:
    a, b = workers(2)
    assert a.leases.acquire("outbox:jjoc")
    assert a.leases.acquire("outbox:jjoc")  # held already
    assert not b.leases.acquire("outbox:jjoc")
    assert b.leases.acquire("outbox:aus")  # another name, another lease
    assert a.leases.holds("outbox:jjoc") and not b.leases.holds("outbox:jjoc")
    a.leases.release("outbox:jjoc")
    assert not a.leases.holds("outbox:jjoc")
    assert b.leases.acquire("outbox:jjoc")
    b.close()  # its session ends: every lease it held is free
    assert a.leases.acquire("outbox:jjoc") and a.leases.acquire("outbox:aus")


def test_a_killed_holder_frees_its_lease(database: str, tmp_path: Path) -> None:
    url = pgtest.store_url(database, tmp_path)
    mine = open_postgres(url, tmp_path, "usfj")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from kizuna.store.postgres_backend import open_postgres\n"
            "b = open_postgres(sys.argv[1], Path(sys.argv[2]), 'usfj')\n"
            "assert b.leases.acquire('outbox:jjoc')\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
            url,
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not mine.leases.acquire("outbox:jjoc")
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        wait_until(lambda: mine.leases.acquire("outbox:jjoc"), 10, "the lease freed")
    finally:
        if holder.poll() is None:
            holder.kill()
        mine.close()


# -- real processes: two workers and a peer ---------------------------------------


def token_of(client: httpx.Client) -> str:
    return str(client.headers["Authorization"]).split()[1]


def client_of(worker: NodeProcess, like: httpx.Client) -> httpx.Client:
    return httpx.Client(base_url=worker.url, headers=like.headers, timeout=30)


def titles(client: httpx.Client) -> list[str]:
    return [x["title"]["en"] for x in client.get("/api/v1/reports").json()]


def digests_equal(a: httpx.Client, b: httpx.Client, a_id: str, b_id: str) -> bool:
    da = a.get("/federation/v1/digest", params={"peer": b_id}).json()
    db = b.get("/federation/v1/digest", params={"peer": a_id}).json()
    return bool(da["digest"] == db["digest"])


def lease_holder(database: str) -> int | None:
    """The process id of the worker holding an advisory lock (a lease), if one does."""
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE '%:lease:%'"
        ).fetchall()
    pids = {int(str(name).rsplit(":", 1)[1]) for (name,) in rows}
    assert len(pids) <= 1, f"two workers hold leases: {pids}"
    return pids.pop() if pids else None


async def first(ws: ClientConnection, want: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        msg = dict(json.loads(await ws.recv()))
        if want(msg):
            return msg


def request_body(title: str) -> dict[str, Any]:
    return {
        "addressees": ["usfj"],
        "kind": "support",
        "precedence": "ROUTINE",
        "label": REL,
        "title": {"en": title, "ja": title},
        "body": {"en": "", "ja": ""},
    }


def is_request(rid: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "request" and m["item"]["id"] == rid


def has_track(tid: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "tracks" and any(i["id"] == tid for i in m["items"])


@pytest.fixture
def two_workers(database: str, cluster: Cluster) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    """Node usfj on PostgreSQL served by two workers, and jjoc on SQLite, linked (usfj's
    traffic to jjoc through a fault proxy). The database is set up first and dropped last,
    after every process using it has stopped."""
    store = pgtest.store_url(database, cluster.root / "usfj")
    cluster.node("usfj", "USA", store=store)
    cluster.node("jjoc", "JPN")
    cluster.link("usfj", "jjoc", proxied=True)
    port = free_port(2)
    second = NodeProcess(cluster.nodes["usfj"].dir, port=port, federation_port=port + 1)
    cluster.start()
    second.start()
    try:
        yield cluster.nodes["usfj"], second
    finally:
        second.stop()


async def test_two_workers_act_as_one_node(
    database: str, cluster: Cluster, two_workers: tuple[NodeProcess, NodeProcess]
) -> None:
    w1, w2 = two_workers
    alice1 = w1.user("alice", "USA", "SECRET")  # one user of the node, on either worker
    alice2 = client_of(w2, alice1)
    kenji = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")

    # A write on either worker is readable on the other at once.
    for writer, reader, tag in ((alice1, alice2, "one"), (alice2, alice1, "two")):
        r = writer.post("/api/v1/reports", json={"label": REL, "title": {"en": tag, "ja": tag}})
        assert r.status_code == 201, r.text
        assert reader.get(f"/api/v1/reports/{r.json()['id']}").status_code == 200
    assert sorted(titles(alice1)) == sorted(titles(alice2)) == ["one", "two"]

    # Pushes for writes and tracks that arrive on the other worker.
    token = token_of(alice1)
    url1 = f"ws://127.0.0.1:{w1.port}/api/v1/ws?token={token}"
    url2 = f"ws://127.0.0.1:{w2.port}/api/v1/ws?token={token}"
    async with connect(url1, max_size=None) as ws1, connect(url2, max_size=None) as ws2:
        for ws in (ws1, ws2):
            await ws.send(json.dumps({"type": "subscribe", "bbox": [120, 20, 150, 46]}))
            snap = await asyncio.wait_for(first(ws, lambda m: m.get("snapshot") is True), 10)
            assert snap["items"] == []
        for poster, ws_other, tag in ((alice2, ws1, "on-two"), (alice1, ws2, "on-one")):
            r = await asyncio.to_thread(poster.post, "/api/v1/requests", json=request_body(tag))
            assert r.status_code == 201, r.text
            await asyncio.wait_for(first(ws_other, is_request(r.json()["id"])), 10)
        for poster, ws_other, tid, lat in (
            (alice2, ws1, "trk-two", 35.0),
            (alice1, ws2, "trk-one", 36.0),
        ):
            report = [{"label": REL, "lat": lat, "lon": 139.0, "id": tid}]
            r = await asyncio.to_thread(poster.post, "/api/v1/tracks", json=report)
            assert r.status_code == 200, r.text
            await asyncio.wait_for(first(ws_other, has_track(tid)), 10)
    box = {"bbox": "138,34,140,37"}
    for client in (alice1, alice2):
        ids = {t["id"] for t in client.get("/api/v1/tracks", params=box).json()}
        assert ids == {"trk-one", "trk-two"}
    # ... and reach the peer, whichever worker drains its outbox
    wait_until(
        lambda: {t["id"] for t in kenji.get("/api/v1/tracks").json()} >= {"trk-one", "trk-two"},
        30,
        "tracks of both workers at the peer",
    )
    wait_until(lambda: digests_equal(alice1, kenji, "usfj", "jjoc"), 30, "initial sync")

    # One worker drains the peer's outbox; kill it mid-drain, the other takes over.
    assert w1.proc is not None and w2.proc is not None
    holder = lease_holder(database)
    assert holder in (w1.proc.pid, w2.proc.pid)
    killed, survivor = (w1, w2) if holder == w1.proc.pid else (w2, w1)
    assert survivor.proc is not None
    taker = survivor.proc.pid
    proxy = cluster.proxy("usfj", "jjoc")
    proxy.throttle(128_000)  # slow enough to catch batches in flight
    for k, client in enumerate((alice1, alice2, alice1, alice2)):
        body = [
            {"label": REL, "title": {"en": f"backlog-{k} {i}", "ja": f"backlog-{k} {i}"}}
            for i in range(250)
        ]
        r = client.post("/api/v1/reports/batch", json=body)
        assert r.status_code == 201, r.text
    reports = 2 + 4 * 250
    wait_until(lambda: 2 < len(titles(kenji)) < reports, 60, "replication under way")
    killed.kill9()
    proxy.throttle(None)
    wait_until(lambda: lease_holder(database) == taker, 15, "the lease taken over")
    alive = alice1 if survivor is w1 else alice2
    wait_until(lambda: digests_equal(alive, kenji, "usfj", "jjoc"), 60, "digests equal")
    got = titles(kenji)
    assert len(got) == len(set(got)) == reports, "the peer holds each report once"
    assert sorted(got) == sorted(titles(alive))
    assert len(kenji.get("/api/v1/requests").json()) == 2
