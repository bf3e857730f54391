"""API write throughput: 1 and 2 workers of a node on PostgreSQL, 1 worker on SQLite.

Run it with the project's interpreter (PostgreSQL + PostGIS must be reachable; NATS need
not be, but its CPU is counted when a ``nats-server`` runs on this machine)::

    .venv/bin/python bench/api_workers.py
    .venv/bin/python bench/api_workers.py --rounds 3 --duration 20 --connections 64
    .venv/bin/python bench/api_workers.py --configs pg1,pg2 --synchronous-commit off
    .venv/bin/python bench/api_workers.py --activity   # where PostgreSQL's time goes
    .venv/bin/python bench/api_workers.py --configs pg1,pg2,pg3,pg4   # more workers

The default run (2 rounds of 3 configurations, 3 s warm-up + 15 s measured each) takes
about 2.5 minutes on an idle machine, 3 at most. The server defaults to ``$KIZUNA_TEST_PG`` or
``postgresql://postgres@127.0.0.1:5432/postgres``; the benchmark creates a fresh database
there (``bench/store_write_pg.py``'s ``fresh_database``) and drops it when it ends.

What runs, all real processes on loopback:

* three node directories made by ``kizuna init --no-cot``: ``sqlite1`` (the embedded
  default), and ``pg1`` and ``pg2`` with ``--store postgresql://…?schema=…`` (a schema of
  their own in the fresh database). ``[limits] write_burst = 0`` turns the per-user write
  limit off; one user of each node (``kizuna user add``) writes with its bearer token.
* ``sqlite1`` and ``pg1`` are served by one ``kizuna serve``; ``pg2`` by two, the second
  with ``serve --port P --federation-port F`` (ADR 0011), sharing the node directory (and
  so its audit trail) and the schema.
* the load generator is a separate process (this file with ``--generate``): a lean
  asyncio HTTP/1.1 client, ``--connections`` keep-alive connections spread evenly over the
  configuration's workers (connection *i* to worker *i mod n*), each posting one report
  of a typical size (about 0.7 kB of JSON: bilingual title and body, position, label) per
  request to ``POST /api/v1/reports`` and waiting for the answer (closed loop). Requests
  answered within the measured window count; 201s are the throughput, anything else is an
  error, reported by status. Latency is from write to the last byte of the answer.
* the reports each node stored are counted afterwards and checked against the 201s.

Only the configuration being measured has processes running; the configurations are
interleaved, in an order rotated at each round, so a slow moment of the shared machine
hits each alike. Medians over rounds are reported; a ratio is the median of the rounds'
ratios. Before each run the benchmark waits up to ``--quiet-wait`` seconds (5) for a
second in which the machine is less than 15% busy, and each run's line says how many
cores other work took in its window: on a shared machine, a run with other work in it
measures the machine's contention as much as the node.

CPU accounting: ``/proc/<pid>/stat`` utime + stime, read when the generator announces the
start and the end of the measured window, of each worker, the generator, this process,
PostgreSQL (client backends of the benchmark's database; the server's own processes:
postmaster, WAL writer, checkpointer, autovacuum; backends of *other* databases are shown
apart, as someone else's load; a backend that ends within the window is not counted, and
the nodes' pooled connections outlive it), ``nats-server``, and the machine's total from
``/proc/stat`` (its interrupt time apart, as "irq"; what no process above accounts for
is "other", and the largest other processes are named). Printed as CPU-ms per
request, which is CPU-s per 1,000 requests. From the PostgreSQL 2-worker figures the
benchmark estimates what a third machine's worth of workers would add.

``--activity`` samples ``pg_stat_activity`` of the benchmark's database every few
milliseconds during each PostgreSQL window (the sampler's own backend is left out of the
CPU figures, but it does load the server: use it as a diagnostic, not for the headline)
and prints the share of backend-time per state, wait event and statement: time inside a
transaction waiting for the worker ("idle in transaction"), running, or waiting on a lock
(the head row, ``log_head``, that serialises commits, ADR 0009).

Results go to ``bench/results/api_workers.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import pwd
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json  # noqa: E402

LABEL = "S//REL TO USA, JPN"
# name: (store, workers); pg3 and pg4 (more workers than cores) only when asked for
CONFIGS = {"sqlite1": ("sqlite", 1), "pg1": ("pg", 1), "pg2": ("pg", 2)}
CONFIGS |= {"pg3": ("pg", 3), "pg4": ("pg", 4)}
DEFAULT_CONFIGS = "sqlite1,pg1,pg2"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


# -- the load generator (a process of its own) ------------------------------------------


def report_body(conn: int, n: int) -> bytes:
    """One report of a typical size: a bilingual title and a few sentences of body."""
    return json.dumps(
        {
            "label": LABEL,
            "precedence": "ROUTINE",
            "title": {"en": f"Patrol report {conn}-{n}", "ja": f"哨戒報告 {conn}-{n}"},
            "body": {
                "en": "Two vessels sighted heading north-east at about 12 knots, no AIS "
                "signal; observed for 40 minutes from the northern ridge. Weather clear, "
                "sea state 3. Requesting an update on friendly traffic in the sector.",
                "ja": "北東に向け約12ノットで航行する船舶2隻を確認、AIS信号なし。北側の尾根から"
                "40分間観測。天候は晴れ、海況3。当該区域の友軍の通航状況について更新を求む。",
            },
            "position": {"lat": 35.0 + (n % 1000) / 1000, "lon": 139.0 + conn / 1000},
        },
        ensure_ascii=False,
    ).encode()


class Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: a request at a time, answers by Content-Length."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.need = -1  # bytes of the answer in progress (head + body), -1 before its head
        self.status = 0
        self.closing = False
        self.waiter: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.need < 0:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buf[:end]).lower()
                self.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if at < 0:  # not what a node answers: give up on this connection
                    self._fail(ConnectionError("answer without content-length"))
                    return
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop > 0 else len(head)])
                self.closing = b"\r\nconnection: close" in head
                self.need = end + 4 + length
            if len(self.buf) < self.need:
                return
            del self.buf[: self.need]
            self.need = -1
            waiter, self.waiter = self.waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(self.status)

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"connection lost: {exc!r}"))


async def generate(spec: dict[str, Any], out: IO[str]) -> dict[str, Any]:
    """Drive the workers of ``spec["ports"]``; print ``start`` and ``end`` as the measured
    window opens and closes, and return the counts."""
    loop = asyncio.get_running_loop()
    ports: list[int] = spec["ports"]
    token: str = spec["token"]
    t0 = time.perf_counter()
    start_at = t0 + spec["warmup"]
    end_at = start_at + spec["duration"]
    latencies: list[float] = []
    window: collections.Counter[str] = collections.Counter()  # answers within the window
    total: collections.Counter[str] = collections.Counter()  # answers of the whole run
    per_worker = [0] * len(ports)  # 201s within the window, by worker

    async def connection(i: int) -> None:
        port = ports[i % len(ports)]
        head = (
            f"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()
        n = 0
        while time.perf_counter() < end_at:
            try:
                transport, proto = await loop.create_connection(Http, "127.0.0.1", port)
            except OSError as exc:
                total[f"connect: {type(exc).__name__}"] += 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.perf_counter() < end_at:
                    n += 1
                    body = report_body(i, n)
                    waiter: asyncio.Future[int] = loop.create_future()
                    proto.waiter = waiter
                    sent = time.perf_counter()
                    transport.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
                    status = await waiter
                    done = time.perf_counter()
                    key = str(status)
                    total[key] += 1
                    if start_at <= done < end_at:
                        window[key] += 1
                        if status == 201:
                            latencies.append(done - sent)
                            per_worker[i % len(ports)] += 1
                    if proto.closing:
                        break
            except ConnectionError as exc:
                total[f"error: {exc}"[:80]] += 1
                if start_at <= time.perf_counter() < end_at:
                    window["connection error"] += 1
            finally:
                transport.close()

    async def announce() -> None:
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        out.write("start\n")
        out.flush()
        await asyncio.sleep(max(0.0, end_at - time.perf_counter()))
        out.write("end\n")
        out.flush()

    tasks = [asyncio.ensure_future(connection(i)) for i in range(spec["connections"])]
    await announce()
    _, late = await asyncio.wait(tasks, timeout=30)  # in flight at the end: let them answer
    for task in late:
        task.cancel()
    latencies.sort()
    created = window.get("201", 0)
    return {
        "window_s": spec["duration"],
        "created": created,
        "per_s": created / spec["duration"],
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "window": dict(window),
        "total": dict(total),
        "created_total": total.get("201", 0),
        "per_worker": per_worker,
        "unfinished": len(late),
    }


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def generator_main(spec_json: str) -> None:
    result = asyncio.run(generate(json.loads(spec_json), sys.stdout))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


# -- CPU accounting ---------------------------------------------------------------------


def proc_times(pid: int) -> tuple[int, int] | None:
    """(utime + stime, cutime + cstime) of ``pid`` in clock ticks, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def machine_ticks() -> tuple[int, int, int]:
    """(busy, all, interrupts) clock ticks of every CPU since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal, sum(fields), irq + softirq


def postgres_uid() -> int | None:
    try:
        return pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return None


def scan_processes(database: str, uid: int | None) -> dict[int, str]:
    """Every process now: pid -> role (PostgreSQL's, NATS's, or ``other:<name>``)."""
    roles: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            owner = entry.stat().st_uid
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm == "nats-server":
            roles[pid] = "nats"
        elif uid is not None and owner == uid:
            roles[pid] = pg_role(cmd, database)
        else:
            roles[pid] = "other:" + comm.split("/", 1)[0]
    return roles


def pg_role(cmd: str, database: str) -> str:
    """``pg_ours`` (a client backend of our database), ``pg_others`` (of another one) or
    ``pg_server`` (postmaster, WAL writer, checkpointer, autovacuum, …)."""
    # A backend titles itself "postgres: <cluster>: <user> <database> <host>(<port>) <state>"
    title = cmd.split(": ", 2)
    if len(title) == 3:
        words = title[2].split()
        if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]"):
            return "pg_ours" if words[1] == database else "pg_others"
    return "pg_server"


class CpuWindow:
    """CPU ticks of each role between :meth:`start` and :meth:`stop`."""

    def __init__(self, database: str, pids: dict[int, str], skip: set[int]) -> None:
        self.database = database
        self.pids = pids | {os.getpid(): "bench"}  # ours: pid -> role
        self.skip = skip  # backends left out of every role (the activity sampler's)
        self.uid = postgres_uid()
        self.before: dict[int, tuple[str, int]] = {}

    def _read(self) -> dict[int, tuple[str, int]]:
        roles = scan_processes(self.database, self.uid) | self.pids
        now: dict[int, tuple[str, int]] = {}
        for pid, role in roles.items():
            times = proc_times(pid)
            if times is not None and pid not in self.skip:
                now[pid] = (role, times[0])
        return now

    def start(self) -> None:
        self.before = self._read()
        self.machine = machine_ticks()
        self.t = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """CPU-seconds of each role, ``machine_busy``, ``machine_all`` and ``wall_s``."""
        after = self._read()
        machine, wall = machine_ticks(), time.perf_counter() - self.t
        got: dict[str, float] = collections.defaultdict(float)
        others: dict[str, float] = collections.defaultdict(float)
        for pid, (role, ticks) in after.items():
            was = self.before.get(pid)
            used = (ticks - (was[1] if was and was[0] == role else 0)) / CLK_TCK
            if role.startswith("other:"):
                others[role[6:]] += used
            else:
                got[role] += used
        got["machine_busy"] = (machine[0] - self.machine[0]) / CLK_TCK
        got["machine_all"] = (machine[1] - self.machine[1]) / CLK_TCK
        got["interrupts"] = (machine[2] - self.machine[2]) / CLK_TCK
        got["wall_s"] = wall
        self.others = dict(sorted(others.items(), key=lambda kv: -kv[1])[:6])
        return dict(got)


# -- pg_stat_activity sampling (--activity) ----------------------------------------------


class ActivitySampler:
    """Tallies (state, wait event, statement) of the database's client backends."""

    QUERY = (
        "SELECT state, coalesce(wait_event_type || ':' || wait_event, ''), left(query, 90)"
        " FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND state IS DISTINCT FROM 'idle'"
    )
    # The statements of an event commit once it holds the head row (ADR 0009): from the
    # row lock to COMMIT, no other commit of the node can run (store/postgres.py append).
    HOLDING = (
        "SELECT pos, hlc FROM log_head",
        "SELECT coalesce(max(seq), 0) FROM events",
        "SELECT r.record_type, r.record_id, r.state, e.body FROM records",
        "WITH u AS (SELECT * FROM unnest(",
        "WITH h AS (UPDATE log_head",
        "COMMIT",
    )

    def __init__(self, database: str, every: float = 0.003) -> None:
        import psycopg

        self.conn = psycopg.connect(database, autocommit=True)
        row = self.conn.execute("SELECT pg_backend_pid()").fetchone()
        self.pid = int(row[0]) if row else 0
        self.every = every
        self.tally: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.samples = 0
        self.held = 0  # samples in which some backend held the head row
        self.running = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.tally.clear()
        self.samples = self.held = 0
        self.running.set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running.is_set():
            held = False
            for state, wait, query in self.conn.execute(self.QUERY).fetchall():
                text = " ".join(str(query).split())
                self.tally[(state or "?", wait, text)] += 1
                held = held or (text.startswith(self.HOLDING) and not wait.startswith("Lock:"))
            self.samples += 1
            self.held += held
            time.sleep(self.every)

    def stop(self) -> dict[str, Any]:
        self.running.clear()
        if self.thread is not None:
            self.thread.join()
        return {
            "samples": self.samples,
            "head_held": self.held / self.samples if self.samples else float("nan"),
            "tally": [[*k, v] for k, v in self.tally.items()],
        }

    def close(self) -> None:
        self.conn.close()


# -- nodes ------------------------------------------------------------------------------


def make_node(root: Path, name: str, store: str | None) -> tuple[Path, str]:
    """A node directory (``kizuna init --no-cot``), write limit off; its user's token."""
    from tests.nodes import add_user, make_node_dir

    options = {"store": store} if store else {}
    directory = make_node_dir(root / name, "usfj", "USA", **options)
    toml = directory / "node.toml"
    text = toml.read_text()
    text, n = re.subn(r"(?m)^write_burst = .*$", "write_burst = 0", text)
    if not n:
        text += "\n[limits]\nwrite_burst = 0\n"
    toml.write_text(text)
    return directory, add_user(directory, "writer", "USA", "SECRET")


def count_reports(kind: str, directory: Path, database: str, schema: str) -> int:
    if kind == "sqlite":
        with contextlib.closing(
            sqlite3.connect(f"file:{directory / 'kizuna.db'}?mode=ro", uri=True)
        ) as db:
            row = db.execute("SELECT count(*) FROM records WHERE record_type = 'report'").fetchone()
        return int(row[0])
    import psycopg
    from psycopg import sql

    with psycopg.connect(database) as conn:
        query = sql.SQL("SELECT count(*) FROM {}.records WHERE record_type = 'report'")
        row = conn.execute(query.format(sql.Identifier(schema))).fetchone()
    return int(row[0]) if row else 0


@contextlib.contextmanager
def serving(directory: Path, workers: int) -> Iterator[list[Any]]:
    """``workers`` processes of the node, the first on node.toml's ports."""
    from tests.nodes import NodeProcess, free_port

    procs = [NodeProcess(directory)]
    for _ in range(workers - 1):
        port = free_port(2)
        procs.append(NodeProcess(directory, port=port, federation_port=port + 1))
    try:
        for proc in procs:
            proc.start()
        yield procs
    finally:
        for proc in reversed(procs):
            proc.stop()


def wait_quiet(limit: float, below: float = 0.15) -> float:
    """Wait up to ``limit`` seconds for a second in which the machine is less than
    ``below`` busy (the processes of other work on a shared machine); that share."""
    deadline = time.monotonic() + limit
    while True:
        was = machine_ticks()
        time.sleep(1.0)
        now = machine_ticks()
        busy = (now[0] - was[0]) / max(1, now[1] - was[1])
        if busy < below or time.monotonic() >= deadline:
            return busy


def run_config(
    name: str,
    node: dict[str, Any],
    args: argparse.Namespace,
    database: str,
    sampler: ActivitySampler | None,
) -> dict[str, Any]:
    kind, workers = CONFIGS[name]
    before = count_reports(kind, node["dir"], database, node["schema"])
    idle_before = wait_quiet(args.quiet_wait)
    with serving(node["dir"], workers) as procs:
        spec = {
            "ports": [p.port for p in procs],
            "token": node["token"],
            "connections": args.connections,
            "warmup": args.warmup,
            "duration": args.duration,
        }
        gen = subprocess.Popen(
            [sys.executable, __file__, "--generate", json.dumps(spec)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert gen.stdout is not None
        pids = {p.proc.pid: "workers" for p in procs} | {gen.pid: "generator"}
        skip = {sampler.pid} if sampler else set()
        cpu = CpuWindow(database.rsplit("/", 1)[-1].split("?")[0], pids, skip)
        per_worker_cpu: list[float] = []
        activity = None
        try:
            line = gen.stdout.readline()
            assert line == "start\n", f"generator said {line!r}"
            cpu.start()
            worker_ticks = [proc_times(p.proc.pid) for p in procs]
            if sampler and kind == "pg":
                sampler.start()
            line = gen.stdout.readline()
            assert line == "end\n", f"generator said {line!r}"
            used = cpu.stop()
            for p, was in zip(procs, worker_ticks, strict=True):
                now = proc_times(p.proc.pid)
                per_worker_cpu.append((now[0] - was[0]) / CLK_TCK if now and was else 0.0)
            activity = sampler.stop() if sampler and kind == "pg" else None
            result: dict[str, Any] = json.loads(gen.stdout.readline())
        finally:
            if gen.poll() is None:
                gen.wait(timeout=60)
    stored = count_reports(kind, node["dir"], database, node["schema"]) - before
    result |= {
        "busy_before": idle_before,
        "cpu": used,
        "others": cpu.others,
        "worker_cpu": per_worker_cpu,
        "stored": stored,
    }
    if activity is not None:
        result["activity"] = activity
    return result


# -- the report -------------------------------------------------------------------------

ROLES = [
    ("workers", "workers"),
    ("pg_ours", "PG backends"),
    ("pg_server", "PG server"),
    ("nats", "NATS"),
    ("generator", "load gen"),
    ("bench", "bench"),
    ("pg_others", "other DBs"),
    ("interrupts", "irq"),
    ("other", "other"),
]


def per_request(run: dict[str, Any]) -> dict[str, float]:
    """CPU-ms per 201 of each role (= CPU-s per 1,000 requests), over the CPU window."""
    cpu = run["cpu"]
    done = run["per_s"] * cpu["wall_s"]  # requests in the CPU window (skew: milliseconds)
    known = sum(v for k, v in cpu.items() if k in dict(ROLES))
    cpu = cpu | {"other": max(0.0, cpu["machine_busy"] - known)}
    return {k: 1000 * cpu.get(k, 0.0) / done if done else float("nan") for k, _ in ROLES}


def foreign_load(run: dict[str, Any]) -> float:
    """Cores busy with work not of this benchmark, over a run's window."""
    cpu = run["cpu"]
    ours = sum(cpu.get(k, 0.0) for k, _ in ROLES if k not in ("pg_others", "other"))
    return float(max(0.0, cpu["machine_busy"] - ours) / cpu["wall_s"])


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, got in runs.items():
        share = [per_request(r) for r in got]
        out[name] = {
            "per_s": med([r["per_s"] for r in got]),
            "p50_ms": med([r["p50_ms"] for r in got]),
            "p99_ms": med([r["p99_ms"] for r in got]),
            "errors": sum(sum(v for k, v in r["window"].items() if k != "201") for r in got),
            "cpu_ms_per_request": {k: med([s[k] for s in share]) for k, _ in ROLES},
            "machine_busy": med([r["cpu"]["machine_busy"] / r["cpu"]["machine_all"] for r in got]),
            "worker_busy": med([max(r["worker_cpu"]) / r["cpu"]["wall_s"] for r in got]),
            "stored_ok": all(r["stored"] == r["created_total"] for r in got),
            "others_cpu_per_s": others_load(got),
        }
    return out


def others_load(got: list[dict[str, Any]]) -> dict[str, float]:
    """CPU-s per second of the other processes seen in the windows (someone else's load),
    by name: the largest few."""
    wall = sum(r["cpu"]["wall_s"] for r in got)
    load: collections.Counter[str] = collections.Counter()
    for r in got:
        for name, used in r["others"].items():
            load[name] += used
    return {name: used / wall for name, used in load.most_common(4) if used / wall >= 0.01}


def ratio(runs: dict[str, list[dict[str, Any]]], top: str, bottom: str) -> float:
    pairs = zip(runs.get(top, []), runs.get(bottom, []), strict=False)
    return med([t["per_s"] / b["per_s"] for t, b in pairs if b["per_s"]])


def estimate(s: dict[str, Any]) -> dict[str, float]:
    """What more machines of workers would give, from the 2-worker PostgreSQL figures.

    Per request: ``w`` CPU-ms in the workers, ``p`` in PostgreSQL (its backends and its
    server processes), ``box`` everything of the benchmark on this machine (the load
    generator and interrupts too). This machine has ``CORES`` cores; a third one as many."""
    pg2 = s.get("pg2")
    if not pg2:
        return {}
    c = pg2["cpu_ms_per_request"]
    w, p = c["workers"], c["pg_ours"] + c["pg_server"]
    box = sum(v for k, v in c.items() if k not in ("pg_others", "other"))
    budget = 1000.0 * CORES  # CPU-ms per second on one machine
    # This machine keeps PostgreSQL and its workers; a third machine runs workers only. A
    # request served there costs this machine p, one served here w + p: fill the third
    # machine first (as far as PostgreSQL here keeps up), then what this machine has left.
    third = budget / w  # what a machine of workers could serve, CPU-wise
    there = min(third, budget / p)
    here = max(0.0, (budget - p * there) / (w + p))
    out = {
        "worker_ms": w,
        "postgres_ms": p,
        "box_ms": box,
        "ceiling_this_machine": budget / box,  # the benchmark as it runs here, CPU-bound
        "ceiling_shared_machine": budget / (w + p),  # workers + PostgreSQL, nothing else
        "ceiling_postgres_alone": budget / p,  # this machine given to PostgreSQL alone
        "ceiling_third_machine_workers": third,
        "with_third_machine": there + here,
    }
    pg1 = s.get("pg1")
    if pg1 and pg1["per_s"]:
        one = pg1["cpu_ms_per_request"]
        out["best_ratio_here"] = out["ceiling_this_machine"] / pg1["per_s"]
        out["extra_worker_ms"] = w - one["workers"]
        out["extra_postgres_ms"] = p - one["pg_ours"] - one["pg_server"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--generate", help=argparse.SUPPRESS)
    ap.add_argument(
        "--server",
        default=os.environ.get("KIZUNA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="libpq URL of a database on the server",
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--duration", type=float, default=15.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before the window")
    ap.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    ap.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help=f"comma-separated, of {', '.join(CONFIGS)} (default {DEFAULT_CONFIGS})",
    )
    ap.add_argument(
        "--synchronous-commit",
        choices=["server", "on", "off"],
        default="server",
        help="the fresh database's synchronous_commit (default: the server's setting)",
    )
    ap.add_argument("--activity", action="store_true", help="sample pg_stat_activity")
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=5.0,
        help="seconds to wait, before each run, for the machine to be < 15%% busy",
    )
    args = ap.parse_args()
    if args.generate:
        generator_main(args.generate)
        return

    from store_write_pg import fresh_database, source_state, store_url

    names = [n for n in args.configs.split(",") if n]
    unknown = set(names) - set(CONFIGS)
    if unknown:
        ap.error(f"unknown configurations: {', '.join(sorted(unknown))}")
    settings = {}
    if args.synchronous_commit != "server":
        settings["synchronous_commit"] = args.synchronous_commit
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    results: dict[str, Any] = {"source": source_state(), "cores": CORES}
    with fresh_database(args.server, "kizuna_api_bench", settings) as database:
        import psycopg

        with psycopg.connect(database) as conn:
            row = conn.execute("SHOW synchronous_commit").fetchone()
            results["synchronous_commit"] = row[0] if row else "?"
        with tempfile.TemporaryDirectory(prefix="kizuna-api-workers-") as tmp:
            nodes: dict[str, dict[str, Any]] = {}
            for name in names:
                kind, _ = CONFIGS[name]
                schema = f"api_{name}"
                store = store_url(database, schema) if kind == "pg" else None
                directory, token = make_node(Path(tmp), name, store)
                nodes[name] = {"dir": directory, "token": token, "schema": schema}
            sampler = ActivitySampler(database) if args.activity else None
            try:
                for r in range(args.rounds):
                    order = names[r % len(names) :] + names[: r % len(names)]
                    for name in order:
                        got = run_config(name, nodes[name], args, database, sampler)
                        runs[name].append(got)
                        bad = {k: v for k, v in got["total"].items() if k != "201"}
                        print(
                            f"  round {r + 1}/{args.rounds} {name}: {got['per_s']:,.0f} req/s,"
                            f" p99 {got['p99_ms']:.1f} ms, other work on the machine"
                            f" {foreign_load(got):.2f} cores"
                            + (f", not 201: {bad}" if bad else "")
                            + (
                                ""
                                if got["stored"] == got["created_total"]
                                else f", STORED {got['stored']} of {got['created_total']} 201s"
                            ),
                            flush=True,
                        )
            finally:
                if sampler:
                    sampler.close()
    report(args, runs, results)


def report(
    args: argparse.Namespace, runs: dict[str, list[dict[str, Any]]], results: dict[str, Any]
) -> None:
    s = summarise(runs)
    pg_2_1 = ratio(runs, "pg2", "pg1")
    pg_sqlite = ratio(runs, "pg1", "sqlite1")
    print_table(
        f"POST /api/v1/reports, {args.connections} connections, {args.duration:g} s windows,"
        f" medians of {args.rounds} rounds (PostgreSQL synchronous_commit="
        f"{results['synchronous_commit']}, {CORES} cores)",
        ["config", "req/s", "p50 ms", "p99 ms", "errors", "busiest worker", "machine busy"],
        [
            [
                n,
                v["per_s"],
                v["p50_ms"],
                v["p99_ms"],
                v["errors"],
                f"{v['worker_busy']:.0%}",
                f"{v['machine_busy']:.0%}",
            ]
            for n, v in s.items()
        ],
    )
    print(
        f"\nPG 2 workers / 1 worker: {pg_2_1:.2f}x"
        f"   PG 1 worker / SQLite 1 worker: {pg_sqlite:.2f}x"
    )
    print_table(
        "CPU-ms per request (= CPU-s per 1,000 requests), medians",
        ["config", *(label for _, label in ROLES), "total"],
        [
            [
                n,
                *(v["cpu_ms_per_request"][k] for k, _ in ROLES),
                sum(v["cpu_ms_per_request"].values()),
            ]
            for n, v in s.items()
        ],
    )
    for n, v in s.items():
        if v["others_cpu_per_s"]:
            seen = ", ".join(f"{k} {u:.2f}" for k, u in v["others_cpu_per_s"].items())
            print(f"  {n}: other processes in the windows, CPU-s/s: {seen}")
    for n, v in s.items():
        if CONFIGS[n][1] == 1 and v["per_s"]:
            wall = 1000 / v["per_s"]
            own = v["cpu_ms_per_request"]["workers"]
            print(
                f"  {n}: {wall:.2f} ms of wall time a request = {own:.2f} ms of the worker's"
                f" CPU + {max(0.0, wall - own):.2f} ms waiting (for the log head, the store,"
                " or a core)"
            )
    est = estimate(s)
    if est:
        print(
            f"\nFrom pg2, per request: workers {est['worker_ms']:.2f} CPU-ms, PostgreSQL"
            f" {est['postgres_ms']:.2f}, all of the benchmark on this machine"
            f" {est['box_ms']:.2f}. CPU ceilings ({CORES} cores a machine): this machine as"
            f" the benchmark runs it {est['ceiling_this_machine']:,.0f} req/s; workers and"
            f" PostgreSQL alone on it {est['ceiling_shared_machine']:,.0f}; PostgreSQL alone"
            f" {est['ceiling_postgres_alone']:,.0f}; a machine of workers alone"
            f" {est['ceiling_third_machine_workers']:,.0f}; this machine (PostgreSQL + its"
            f" workers) plus a third machine of workers {est['with_third_machine']:,.0f}"
            " (CPU only: the commits serialised on the head row are not in it, see"
            " --activity)."
        )
        if "best_ratio_here" in est:
            print(
                f"A second worker costs {est['extra_worker_ms']:+.2f} worker CPU-ms and"
                f" {est['extra_postgres_ms']:+.2f} PostgreSQL CPU-ms a request more than one"
                " (each worker follows the other's commits and audit entries); at 100% of"
                f" this machine's CPU 2 workers could reach {est['best_ratio_here']:.2f}x the"
                " measured one worker."
            )
    if any("activity" in r for got in runs.values() for r in got):
        results["head_row"] = print_activity(runs)
    target = 1.5
    met = pg_2_1 >= target
    print(
        f"\ntarget 2 workers ≥ {target}x one worker on PostgreSQL:"
        f" {'met' if met else 'NOT met'} ({pg_2_1:.2f}x)"
    )
    results |= {
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rounds": args.rounds,
        "summary": s,
        "ratio_pg2_pg1": pg_2_1,
        "ratio_pg1_sqlite1": pg_sqlite,
        "estimate": est,
        "target": target,
        "target_met": met,
        "runs": runs,
    }
    print("written:", write_json("api_workers", results))


def held_ms(got: list[dict[str, Any]]) -> float:
    """Milliseconds the head row was held per commit (one commit per API write)."""
    return med([1000 * r["activity"]["head_held"] / r["per_s"] for r in got if r.get("activity")])


def print_activity(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The --activity tables; the head row's hold per commit of each configuration."""
    holds: dict[str, dict[str, float]] = {}
    for name, got in runs.items():
        tally: collections.Counter[tuple[str, str, str]] = collections.Counter()
        samples = 0
        for r in got:
            act = r.get("activity")
            if not act:
                continue
            samples += act["samples"]
            for state, wait, query, n in act["tally"]:
                tally[(state, wait, query)] += n
        if not samples:
            continue
        print_table(
            f"{name}: backends busy per sample of pg_stat_activity ({samples:,} samples;"
            " 1.00 = one backend all the time)",
            ["backends", "state", "wait", "statement"],
            [[n / samples, *key] for key, n in tally.most_common(12)],
        )
        held = med([r["activity"]["head_held"] for r in got if r.get("activity")])
        hold = held_ms(got)
        holds[name] = {"held_share": held, "hold_ms": hold}
        if hold > 0:
            print(
                f"  {name}: some commit held the head row {held:.0%} of the time, {hold:.2f} ms"
                f" a commit: at most {1000 / hold:,.0f} commits/s (one per API write)"
            )
    out: dict[str, Any] = {"configs": holds}
    least = min((h["hold_ms"] for h in holds.values() if h["hold_ms"] > 0), default=0.0)
    if least > 0:
        # a worker on another machine holds the row over 4-5 more network round trips
        lan = [1000 / (least + trips * rtt) for trips, rtt in ((5, 0.5), (4, 0.3))]
        out |= {"least_hold_ms": least, "lan_commits_per_s": lan}
        print(
            f"\nThe least hold measured, {least:.2f} ms a commit, plus 4-5 round trips of"
            f" 0.3-0.5 ms under the row lock for a worker on another machine of the LAN:"
            f" {lan[0]:,.0f}-{lan[1]:,.0f} commits/s for the whole node, whatever the workers."
        )
    return out


if __name__ == "__main__":
    main()
