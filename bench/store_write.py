"""Events/s committed to the SQLite event log, single and batched, against raw sqlite3.

The reference inserts the same rows (same columns, same encoded bodies, same
indexes) with bare ``sqlite3`` in the same run, so the ratio shows what our
store adds: event construction, HLC, encoding and the projection update.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json
from kizuna.core.ids import new_id
from kizuna.core.labels import parse_label
from kizuna.store.base import Draft
from kizuna.store.sqlite import _SCHEMA, SqliteStore, _event_enc, connect

LABEL = parse_label("SECRET//REL TO USA, JPN")


def drafts(n: int) -> list[Draft]:
    return [
        Draft(
            "report",
            new_id(),
            "create",
            LABEL,
            {"title": {"en": f"Report {i}", "ja": f"報告 {i}"}, "body": {"en": "x" * 80, "ja": ""}},
            new_record=True,  # as the services do: they mint the id
        )
        for i in range(n)
    ]


def ours(path: Path, n: int, batch: int) -> float:
    store = SqliteStore(path, "usfj")
    work = drafts(n)
    start = time.perf_counter()
    for i in range(0, n, batch):
        store.append(work[i : i + batch])
    elapsed = time.perf_counter() - start
    store.close()
    return n / elapsed


def raw(path: Path, n: int, batch: int) -> float:
    """Bare sqlite3: the same rows into the same schema, bodies pre-encoded."""
    conn = connect(path)
    conn.executescript(_SCHEMA)
    store = SqliteStore(path.with_suffix(".enc"), "usfj")
    rows = [
        (
            e.origin,
            e.seq,
            e.hlc,
            e.record_type,
            e.record_id,
            int(e.precedence),
            _event_enc.encode(e),
        )
        for e in store.append(drafts(n))
    ]
    store.close()
    sql = (
        "INSERT INTO events (origin, seq, hlc, record_type, record_id, precedence, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    start = time.perf_counter()
    for i in range(0, n, batch):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[i : i + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for mode, n, batch in (("single", args.single, 1), ("batched", args.events, args.batch)):
            # Interleave rounds so machine noise hits both sides alike; report medians.
            refs, gots = [], []
            for r in range(args.rounds):
                refs.append(raw(d / f"raw-{mode}-{r}.db", n, batch))
                gots.append(ours(d / f"ours-{mode}-{r}.db", n, batch))
            ref, got = statistics.median(refs), statistics.median(gots)
            ratio = statistics.median(g / f for g, f in zip(gots, refs, strict=True))
            rows.append([mode, batch, n, got, ref, f"{ratio:.2f}x"])
            results[mode] = {
                "events": n,
                "batch": batch,
                "ours_per_s": got,
                "raw_per_s": ref,
                "ratio": ratio,
            }
    print_table(
        "Event log commits (SQLite WAL, synchronous=NORMAL)",
        ["mode", "batch", "events", "kizuna ev/s", "raw sqlite3 rows/s", "ratio"],
        rows,
    )
    target = 0.5
    ok = results["batched"]["ratio"] >= target
    print(f"\nbatched target ≥ {target:.0%} of raw: {'met' if ok else 'NOT met'}")
    results["target_batched_ratio"] = target
    results["target_met"] = ok
    print("written:", write_json("store_write", results))


if __name__ == "__main__":
    main()
