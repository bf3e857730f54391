"""Bounding-box queries over many tracks: our R*Tree store against a B-tree range scan.

Builds ``--n`` synthetic tracks (default 1,000,000) spread over the western
Pacific (100..180 E, 0..60 N) in ``TrackStore`` (one transaction per batch),
then times ``query_bbox`` for random 1-degree boxes. The reference, in the
same run and the same database file, is a plain table with the same ids and
positions and a B-tree index on (lat, lon), queried with a range predicate.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json
from kizuna.core.labels import parse_label
from kizuna.picture import rules
from kizuna.picture.models import Track
from kizuna.store.sqlite import connect
from kizuna.store.tracks import EntryRow, TrackStore

LABEL = parse_label("U")
AREA = (100.0, 0.0, 180.0, 60.0)  # minlon, minlat, maxlon, maxlat


def build(store: TrackStore, path: Path, n: int, batch: int, rnd: random.Random) -> float:
    plain = connect(path)
    plain.executescript(
        "CREATE TABLE plain (rid INTEGER PRIMARY KEY, id TEXT NOT NULL, lat REAL, lon REAL);"
        "CREATE INDEX plain_ll ON plain (lat, lon);"
    )
    start = time.perf_counter()
    now = time.time()
    for lo in range(0, n, batch):
        rows, flat = [], []
        for i in range(lo, min(n, lo + batch)):
            lat, lon = rnd.uniform(AREA[1], AREA[3]), rnd.uniform(AREA[0], AREA[2])
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
            flat.append((i + 1, t.id, lat, lon))
        store.write(rows)
        plain.execute("BEGIN")
        plain.executemany("INSERT INTO plain VALUES (?, ?, ?, ?)", flat)
        plain.execute("COMMIT")
        print(f"\r  built {min(n, lo + batch):,}/{n:,}", end="", flush=True)
    print()
    plain.close()
    return time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--size", type=float, default=1.0, help="box edge in degrees")
    args = ap.parse_args()
    rnd = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kizuna.db"
        store = TrackStore(path, item_type=Track)
        build_s = build(store, path, args.n, args.batch, rnd)
        plain = connect(path)
        boxes = []
        for _ in range(args.queries):
            x = rnd.uniform(AREA[0], AREA[2] - args.size)
            y = rnd.uniform(AREA[1], AREA[3] - args.size)
            boxes.append((x, y, x + args.size, y + args.size))
        ours: list[float] = []
        ref: list[float] = []
        counts: list[int] = []
        for x0, y0, x1, y1 in boxes:  # warm both paths once, then interleave
            store.query_bbox([(x0, y0, x1, y1)])
            break
        for x0, y0, x1, y1 in boxes:
            t = time.perf_counter()
            got = store.query_bbox([(x0, y0, x1, y1)])
            ours.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            expected = plain.execute(
                "SELECT id FROM plain WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
                (y0, y1, x0, x1),
            ).fetchall()
            ref.append((time.perf_counter() - t) * 1000)
            counts.append(len(expected))
            assert len(got) >= len(expected)
        plain.close()
        store.close()
    rows = [
        ["R*Tree (TrackStore.query_bbox)", statistics.median(ours), pct(ours, 99), max(ours)],
        ["B-tree (lat, lon) range scan", statistics.median(ref), pct(ref, 99), max(ref)],
    ]
    ratio_p50 = statistics.median(ref) / statistics.median(ours)
    ratio_p99 = pct(ref, 99) / pct(ours, 99)
    print_table(
        f"{args.queries} random {args.size:g}° boxes over {args.n:,} tracks "
        f"(median {statistics.median(counts):.0f} tracks per box; build {build_s:.1f} s)",
        ["query", "p50 ms", "p99 ms", "max ms"],
        rows,
    )
    print(
        f"\nspeed-up vs B-tree: p50 x{ratio_p50:.1f}, p99 x{ratio_p99:.1f}; "
        f"target p99 < 10 ms: {'met' if pct(ours, 99) < 10 else 'NOT met'}"
    )
    out = write_json(
        "track_query",
        {
            "tracks": args.n,
            "queries": args.queries,
            "box_degrees": args.size,
            "build_seconds": build_s,
            "median_hits": statistics.median(counts),
            "rtree_ms": {"p50": statistics.median(ours), "p99": pct(ours, 99), "max": max(ours)},
            "btree_ms": {"p50": statistics.median(ref), "p99": pct(ref, 99), "max": max(ref)},
            "speedup_p50": ratio_p50,
            "speedup_p99": ratio_p99,
            "target_p99_ms": 10,
            "target_met": pct(ours, 99) < 10,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
