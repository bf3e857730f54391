"""Bounding-box queries over many tracks: the PostGIS spatial index beside SQLite's R*Tree.

Run it with the project's interpreter (PostgreSQL + PostGIS must be reachable)::

    .venv/bin/python bench/track_query_pg.py                   # 1,000,000 tracks, ~2 min
    .venv/bin/python bench/track_query_pg.py --tracks 100000   # a quick look
    .venv/bin/python bench/track_query_pg.py --server postgresql://postgres@db:5432/postgres

The server defaults to ``$KIZUNA_TEST_PG`` or ``postgresql://postgres@127.0.0.1:5432/postgres``;
the benchmark creates a fresh database there and drops it when it ends.

Builds ``--tracks`` synthetic AIS tracks spread uniformly over the western Pacific
(100..180 E, 0..60 N) and loads the very same entries into both backends through their
spatial index port's bulk path, ``SpatialIndex.write`` (``--batch`` entries per
transaction): ``open_postgres(...).spatial_index(Track)`` (the ``tracks`` and
``track_boxes`` tables, GiST on the box) and ``open_sqlite(...).spatial_index(Track)``
(``TrackStore``, R*Tree). The PostgreSQL tables are then ``VACUUM ANALYZE``d, as
autovacuum would do after a bulk load (``--no-analyze`` skips it).

It then times ``query_bbox`` through each port for ``--queries`` random ``--size``-degree
boxes over the populated area, interleaved (PostGIS, SQLite, PostGIS, …) so machine noise
hits both alike, after ``--warmup`` untimed queries each. For diagnosis a third row runs
the PostGIS port's own SQL on one held psycopg connection, without the pool (on boxes
of its own, so that neither finds the other's pages in shared buffers). Every box's
hits are checked to agree between the backends, but for entries within float32 rounding
of the box's edge (both keep boxes as 32-bit floats rounded outwards).

Target: PostGIS p99 < 10 ms. Results go to ``bench/results/track_query_pg.json``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json
from kizuna.core.labels import parse_label
from kizuna.picture import rules
from kizuna.picture.models import Track
from kizuna.store.base import EntryRow
from kizuna.store.postgres_backend import open_postgres
from kizuna.store.postgres_migrations import search_path
from kizuna.store.sqlite_backend import open_sqlite
from store_write_pg import SERVER, fresh_database, source_state, store_url

LABEL = parse_label("U")
AREA = (100.0, 0.0, 180.0, 60.0)  # minlon, minlat, maxlon, maxlat
NODE = "usfj"
SCHEMA = "bench"
# The statement PgSpatialIndex.query_bbox sends for one box.
PORT_SQL = "SELECT id FROM track_boxes WHERE box && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"

Box = tuple[float, float, float, float]
EDGE = 1e-4  # degrees; a float32 ulp at 180 is 1.5e-5


def entries(
    lo: int, hi: int, rnd: random.Random, now: float, where: array[float]
) -> list[EntryRow]:
    """Entries ``ais-lo`` … ``ais-(hi-1)``; their positions go to ``where`` (lon, lat, …)."""
    rows = []
    for i in range(lo, hi):
        lat, lon = rnd.uniform(AREA[1], AREA[3]), rnd.uniform(AREA[0], AREA[2])
        where.extend((lon, lat))
        t = Track(
            id=f"ais-{i}",
            source="ais",
            source_id=str(i),
            lat=lat,
            lon=lon,
            observed_at=now,
            stale_at=now + 600,
            label=LABEL,
            sidc="1" * 20,
        )
        obs = (rules.normalise(t),)
        rows.append(EntryRow(t.id, obs, rules.box_of(obs), i + 1))
    return rows


def load(
    pg: Any, lite: Any, n: int, batch: int, rnd: random.Random, where: array[float]
) -> tuple[float, float]:
    """Write the same entries to both indexes; seconds spent in each."""
    pg_s = lite_s = 0.0
    now = time.time()
    for lo in range(0, n, batch):
        rows = entries(lo, min(n, lo + batch), rnd, now, where)
        t = time.perf_counter()
        pg.write(rows)
        pg_s += time.perf_counter() - t
        t = time.perf_counter()
        lite.write(rows)
        lite_s += time.perf_counter() - t
        print(
            f"\r  loaded {min(n, lo + batch):,}/{n:,}"
            f" (PostGIS {pg_s:.0f} s, SQLite {lite_s:.0f} s)",
            end="",
            flush=True,
        )
    print()
    return pg_s, lite_s


def on_edge(tid: str, box: Box, where: array[float]) -> bool:
    """Whether an entry lies within float32 rounding of ``box``'s edge: both indexes keep
    boxes as 32-bit floats rounded outwards, so either may return it."""
    i = int(tid.removeprefix("ais-"))
    lon, lat = where[2 * i], where[2 * i + 1]
    x0, y0, x1, y1 = box
    return min(abs(lon - x0), abs(lon - x1), abs(lat - y0), abs(lat - y1)) < EDGE


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(ms), "p99": pct(ms, 99), "max": max(ms)}


def timed(query: Callable[[Box], list[str]], box: Box) -> tuple[float, list[str]]:
    t = time.perf_counter()
    got = query(box)
    return (time.perf_counter() - t) * 1000, got


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--server", default=SERVER, help="libpq URL of a database on the server")
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000, help="entries per write (transaction)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50, help="untimed queries per backend first")
    ap.add_argument("--size", type=float, default=1.0, help="box edge in degrees")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-analyze", action="store_true", help="skip VACUUM ANALYZE after load")
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    def random_boxes(n: int) -> list[Box]:
        boxes: list[Box] = []
        for _ in range(n):
            x = rnd.uniform(AREA[0], AREA[2] - args.size)
            y = rnd.uniform(AREA[1], AREA[3] - args.size)
            boxes.append((x, y, x + args.size, y + args.size))
        return boxes

    warm, boxes = random_boxes(args.warmup), random_boxes(args.queries)
    # The held-connection row gets boxes of its own: on the same boxes it would find the
    # pages the port's query had just brought into PostgreSQL's shared buffers.
    raw_boxes = random_boxes(args.queries)
    times: dict[str, list[float]] = {"pg": [], "sqlite": [], "pg_raw": []}
    counts: list[int] = []
    differ = 0  # hits one backend returned and the other did not, all on a box's edge
    where: array[float] = array("d")  # lon, lat of ais-0, ais-1, …
    with fresh_database(args.server) as database, tempfile.TemporaryDirectory() as tmp:
        url = store_url(database, SCHEMA, pool_max=2)
        pg_backend = open_postgres(url, Path(tmp), NODE)
        lite_backend = open_sqlite("sqlite", Path(tmp), NODE)
        try:
            pg = pg_backend.spatial_index(Track)
            lite = lite_backend.spatial_index(Track)
            pg_load, lite_load = load(pg, lite, args.tracks, args.batch, rnd, where)
            analyze = 0.0
            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute(search_path(SCHEMA, "public"))
                if not args.no_analyze:
                    t = time.perf_counter()
                    conn.execute("VACUUM (ANALYZE) tracks, track_boxes")
                    analyze = time.perf_counter() - t
                (size,) = conn.execute(
                    "SELECT pg_size_pretty(pg_total_relation_size('tracks')"
                    " + pg_total_relation_size('track_boxes'))"
                ).fetchone() or ("?",)
                (plan,) = conn.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + PORT_SQL, boxes[0]
                ).fetchone() or ([],)
            with psycopg.connect(database, autocommit=True) as raw:
                raw.execute(search_path(SCHEMA, "public"))

                def pg_raw(box: Box) -> list[str]:
                    return [r[0] for r in raw.execute(PORT_SQL, box).fetchall()]

                def pg_port(box: Box) -> list[str]:
                    return pg.query_bbox([box])

                def lite_port(box: Box) -> list[str]:
                    return lite.query_bbox([box])

                for box in warm:
                    pg_port(box)
                    lite_port(box)
                    pg_raw(box)
                for box, other in zip(boxes, raw_boxes, strict=True):
                    ms, got = timed(pg_port, box)
                    times["pg"].append(ms)
                    ms, expected = timed(lite_port, box)
                    times["sqlite"].append(ms)
                    ms, _ = timed(pg_raw, other)
                    times["pg_raw"].append(ms)
                    odd = set(got) ^ set(expected)
                    assert all(on_edge(tid, box, where) for tid in odd), (
                        f"the backends disagree on {box}: {sorted(odd)[:5]}"
                    )
                    assert len(got) == len(set(got)), "PostGIS returned an id twice"
                    counts.append(len(got))
                    differ += len(odd)
        finally:
            pg_backend.close()
            lite_backend.close()
    stats = {k: summary(v) for k, v in times.items()}
    rows = [
        ["PostGIS GiST (PgSpatialIndex.query_bbox)", *stats["pg"].values()],
        ["SQLite R*Tree (TrackStore.query_bbox)", *stats["sqlite"].values()],
        ["PostGIS, same SQL on a held connection", *stats["pg_raw"].values()],
    ]
    print_table(
        f"{args.queries} random {args.size:g}° boxes over {args.tracks:,} tracks"
        f" (median {statistics.median(counts):.0f} tracks per box;"
        f" load PostGIS {pg_load:.0f} s + VACUUM ANALYZE {analyze:.0f} s, {size};"
        f" SQLite {lite_load:.0f} s)",
        ["query", "p50 ms", "p99 ms", "max ms"],
        rows,
    )
    node = plan[0]["Plan"] if plan else {}
    shape = []
    while node:
        shape.append(node.get("Node Type", "?"))
        node = (node.get("Plans") or [None])[0]
    print("\nPostGIS plan (first box):", " > ".join(shape))
    print(f"hits that only one backend returned (all within {EDGE:g}° of the box edge): {differ}")
    p99 = stats["pg"]["p99"]
    print(
        f"PostGIS vs SQLite R*Tree: p50 {stats['pg']['p50'] / stats['sqlite']['p50']:.1f}x,"
        f" p99 {p99 / stats['sqlite']['p99']:.1f}x the time;"
        f" target PostGIS p99 < 10 ms: {'met' if p99 < 10 else 'NOT met'}"
    )
    out = write_json(
        "track_query_pg",
        {
            "server": urlsplit(args.server).hostname,
            "source": source_state(),
            "tracks": args.tracks,
            "queries": args.queries,
            "box_degrees": args.size,
            "load_seconds": {"postgis": pg_load, "sqlite": lite_load, "vacuum_analyze": analyze},
            "postgis_size": size,
            "median_hits": statistics.median(counts),
            "edge_disagreements": differ,
            "postgis_ms": stats["pg"],
            "sqlite_rtree_ms": stats["sqlite"],
            "postgis_held_connection_ms": stats["pg_raw"],
            "postgis_plan": shape,
            "target_p99_ms": 10,
            "target_met": p99 < 10,
        },
    )
    print(f"written: {out}")


if __name__ == "__main__":
    main()
