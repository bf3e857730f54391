"""Resident memory of a node holding many live tracks.

Starts a real ``kizuna serve`` process, pushes ``--n`` tracks (default
100,000) through ``POST /api/v1/tracks`` in batches, checks they are all
visible, and reads the process's resident set size from /proc. The
reference is the same process's RSS after start-up, before any ingest.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from tests.nodes import NodeProcess, add_user, make_node_dir  # noqa: E402

from _common import print_table, write_json  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=2500)
    args = ap.parse_args()
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        node = NodeProcess(make_node_dir(Path(tmp) / "usfj", "usfj", "USA"))
        token = add_user(node.dir, "bench", "USA", "SECRET")
        node.start()
        try:
            assert node.proc is not None
            client = httpx.Client(
                base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            )
            client.get("/api/v1/tracks")  # warm the picture (opens its store)
            before = rss_mb(node.proc.pid)
            labels = ["U", "S//REL TO USA, JPN", "SECRET//NOFORN"]
            start = time.perf_counter()
            for lo in range(0, args.n, args.batch):
                items = [
                    {
                        "label": labels[i % 3],
                        "id": f"ais-{431000000 + i}",
                        "source": "ais",
                        "lat": rnd.uniform(0, 60),
                        "lon": rnd.uniform(100, 180),
                        "callsign": f"JA{i:06d}",
                        "name": f"MARU {i}",
                        "cot_type": "a-n-S-C",
                        "course": rnd.uniform(0, 359),
                        "speed": rnd.uniform(0, 12),
                        "mmsi": 431000000 + i,
                        "ship_type": 70,
                    }
                    for i in range(lo, min(args.n, lo + args.batch))
                ]
                r = client.post("/api/v1/tracks", json=items)
                r.raise_for_status()
                print(f"\r  posted {min(args.n, lo + args.batch):,}/{args.n:,}", end="", flush=True)
            print()
            ingest_s = time.perf_counter() - start
            held = len(client.get("/api/v1/tracks").json())
            after = rss_mb(node.proc.pid)
        finally:
            node.stop()
    per_track = (after - before) * 1024 * 1024 / max(held, 1)
    print_table(
        f"kizuna serve holding {held:,} live tracks (ingest {args.n / ingest_s:,.0f} tracks/s "
        "through POST /api/v1/tracks)",
        ["state", "RSS MB"],
        [["after start-up (reference)", before], [f"{held:,} tracks", after]],
    )
    print(
        f"\n{per_track:,.0f} bytes per track; ratio x{after / before:.1f}; "
        f"target < 1024 MB: {'met' if after < 1024 else 'NOT met'}"
    )
    out = write_json(
        "track_memory",
        {
            "tracks": held,
            "rss_before_mb": before,
            "rss_after_mb": after,
            "bytes_per_track": per_track,
            "ratio": after / before,
            "ingest_tracks_per_s": args.n / ingest_s,
            "target_mb": 1024,
            "target_met": after < 1024,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
