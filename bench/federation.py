"""Federation USFJ → JJOC over real node processes on loopback.

Measures, in one run:
- sustained replication rate (events/s) with label filtering (a quarter of the
  events are NOFORN and must not cross), against the reference: the rate at which
  the sending node commits the same batches locally;
- lag from commit on USFJ to visible through JJOC's API (p50/p99 of probes
  written during the sustained load);
- time to drain a backlog (default 100,000 events) after a cut link heals.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.cluster import Cluster  # noqa: E402

from _common import print_table, write_json  # noqa: E402

LABELS = ["S//REL TO USA, JPN", "C//REL TO USA, JPN", "U", "S//NOFORN"]


def batch(n: int, tag: str) -> list[dict[str, object]]:
    return [
        {
            "label": LABELS[i % 4],
            "title": {"en": f"{tag} {i}", "ja": "報告"},
            "body": {"en": "x" * 60, "ja": ""},
        }
        for i in range(n)
    ]


def received(client: httpx.Client) -> float:
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("kizuna_federation_received_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def write(client: httpx.Client, n: int, tag: str, size: int = 1000) -> float:
    start = time.perf_counter()
    for i in range(0, n, size):
        r = client.post("/api/v1/reports/batch", json=batch(min(size, n - i), f"{tag}-{i}"))
        r.raise_for_status()
    return time.perf_counter() - start


def wait_received(client: httpx.Client, target: float, timeout: float) -> float:
    start = time.perf_counter()
    while received(client) < target:
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"timed out: {received(client)} of {target} received")
        time.sleep(0.05)
    return time.perf_counter() - start


def probe_lag(us: httpx.Client, jp: httpx.Client, stop: threading.Event, lags: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        r = us.post(
            "/api/v1/reports",
            json={"label": "S//REL TO USA, JPN", "title": {"en": "probe", "ja": "probe"}},
        )
        rid = r.json()["id"]
        committed = time.perf_counter()
        while jp.get(f"/api/v1/reports/{rid}").status_code != 200:
            if time.perf_counter() - committed > 30:
                break
            time.sleep(0.005)
        lags.append(time.perf_counter() - committed)
        del t0
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000, help="sustained-phase events")
    parser.add_argument("--backlog", type=int, default=100_000)
    args = parser.parse_args()
    shareable = 3 / 4  # NOFORN quarter stays home
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(Path(tmp))
        cluster.node("usfj", "USA")
        cluster.node("jjoc", "JPN")
        cluster.link("usfj", "jjoc", proxied=True)
        cluster.start()
        try:
            us = cluster.nodes["usfj"].user("writer", "USA", "SECRET")
            jp = cluster.nodes["jjoc"].user("reader", "JPN", "SECRET")
            jp_admin = httpx.Client(base_url=cluster.nodes["jjoc"].url, timeout=30)

            # Reference: local commit rate of the same batches with the link cut.
            proxy = cluster.proxy("usfj", "jjoc")
            proxy.cut()
            local_s = write(us, args.events, "ref")
            local_rate = args.events / local_s
            proxy.heal()
            base = args.events * shareable
            wait_received(jp_admin, base, 600)

            # Sustained replication with lag probes.
            lags: list[float] = []
            stop = threading.Event()
            prober = threading.Thread(target=probe_lag, args=(us, jp, stop, lags))
            start = time.perf_counter()
            prober.start()
            write(us, args.events, "sus")
            wait_received(jp_admin, base + args.events * shareable, 600)
            elapsed = time.perf_counter() - start
            stop.set()
            prober.join()
            rep_rate = args.events / elapsed
            got = received(jp_admin)

            # Backlog drain after heal.
            proxy.cut()
            write(us, args.backlog, "backlog")
            before = received(jp_admin)
            proxy.heal()
            drain = wait_received(jp_admin, before + args.backlog * shareable, 1200)
        finally:
            cluster.stop()
    lags.sort()
    p50 = statistics.median(lags) * 1000
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000
    rows = [
        ["local commit via API (reference)", f"{local_rate:,.0f} ev/s", ""],
        [
            "replicated USFJ→JJOC (sustained)",
            f"{rep_rate:,.0f} ev/s",
            f"{rep_rate / local_rate:.2f}x of reference",
        ],
        ["lag commit→visible p50", f"{p50:.0f} ms", f"{len(lags)} probes"],
        ["lag commit→visible p99", f"{p99:.0f} ms", ""],
        [
            f"drain {args.backlog:,} backlog after heal",
            f"{drain:.1f} s",
            f"{args.backlog / drain:,.0f} ev/s",
        ],
    ]
    print_table(
        "Federation over loopback (events written; 1/4 NOFORN filtered)",
        ["measure", "value", "note"],
        rows,
    )
    print(
        f"\ntargets: ≥ 5,000 ev/s sustained: {'met' if rep_rate >= 5000 else 'NOT met'}; "
        f"p99 lag < 1 s: {'met' if p99 < 1000 else 'NOT met'}"
    )
    write_json(
        "federation",
        {
            "events": args.events,
            "backlog": args.backlog,
            "local_commit_per_s": local_rate,
            "replicated_per_s": rep_rate,
            "ratio": rep_rate / local_rate,
            "lag_p50_ms": p50,
            "lag_p99_ms": p99,
            "drain_seconds": drain,
            "drain_per_s": args.backlog / drain,
            "received_total": got,
            "probes": len(lags),
        },
    )


if __name__ == "__main__":
    main()
