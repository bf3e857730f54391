"""Federation USFJ → JJOC over NATS JetStream against HTTPS, in one run (issue 11, part 3).

Two real node processes on loopback per transport, the same load on each:

* **streamed**: ``--events`` reports (default 20,000, every one releasable to JJOC) written at
  USFJ in batches of ``--batch`` (POST /api/v1/reports/batch) as fast as the API takes them,
  the link up. Events/s = events / (first write → JJOC holds the last one). Lag of each
  event = the moment JJOC has applied it − its ``created_at`` at USFJ (its HLC stamp, taken
  before its batch commits, so the lag counts the commit too). JJOC applies one sender's
  events in USFJ's commit order (one precedence here, so HLC order), so the *k*-th event is
  visible once JJOC's ``kizuna_federation_received_total{peer="usfj"}`` (events applied,
  duplicates not counted) reaches *k*; a thread samples that counter every ``--poll``
  seconds, and an event's time is the end of the first sample that counts it (late by at
  most one sample: lag is overstated, never understated). p50/p99/max over all events.
* **backlog**: the link cut (a fault proxy), the same number of reports written (their
  local commit rate is the reference, as in ``bench/federation.py``), the link healed;
  drain rate = events / (first applied → last applied) and the time from heal.

HTTPS: USFJ's federation client reaches JJOC's listener through a fault proxy (mutual TLS
end to end). NATS: USFJ's NATS client reaches the server through a fault proxy, JJOC's is
direct (the server at ``$KIZUNA_NATS_URL``, default ``nats://127.0.0.1:4222``, JetStream on;
a subject prefix of this run, its streams deleted at the end). The proxy is in the path in
both phases for both transports, so it costs both alike. Transports alternate order over
``--rounds``; medians are reported. Targets (issue 11): NATS ≥ 10,000 events/s, p99 < 1 s.
Results go to ``bench/results/federation_nats.json``.

    .venv/bin/python bench/federation_nats.py
    .venv/bin/python bench/federation_nats.py --events 20000 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.cluster import Cluster  # noqa: E402
from tests.nodes import peer_one_way  # noqa: E402
from tests.support.faultproxy import FaultProxyClient, FaultProxyProcess  # noqa: E402

from _common import print_table, write_json  # noqa: E402
from kizuna.core.time import parse_iso  # noqa: E402

NATS_URL = os.environ.get("KIZUNA_NATS_URL", "nats://127.0.0.1:4222")
LABELS = ["S//REL TO USA, JPN", "C//REL TO USA, JPN", "U"]  # all releasable to JJOC
RECEIVED = 'kizuna_federation_received_total{peer="usfj"}'


def reports(n: int, tag: str) -> list[dict[str, object]]:
    return [
        {
            "label": LABELS[i % len(LABELS)],
            "title": {"en": f"{tag} {i}", "ja": "報告"},
            "body": {"en": "x" * 60, "ja": ""},
        }
        for i in range(n)
    ]


def applied(client: httpx.Client) -> int:
    """Events JJOC has applied from USFJ."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(RECEIVED):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def write(client: httpx.Client, n: int, size: int, tag: str) -> list[float]:
    """Write ``n`` reports in batches; their ``created_at`` (unix seconds)."""
    stamps: list[float] = []
    for i in range(0, n, size):
        r = client.post("/api/v1/reports/batch", json=reports(min(size, n - i), f"{tag}-{i}"))
        r.raise_for_status()
        stamps += [parse_iso(x["created_at"]) for x in r.json()]
    return stamps


class Sampler(threading.Thread):
    """JJOC's applied count, sampled: (wall time at the end of the sample, count) on change."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        last = -1
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.done.is_set():
                count = applied(client)
                now = time.time()
                if count != last:
                    self.samples.append((now, count))
                    last = count
                time.sleep(self.interval)

    @property
    def count(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def when(self, count: int) -> float:
        """The first sample that had reached ``count`` (counts only grow)."""
        samples = list(self.samples)
        i = bisect.bisect_left([n for _, n in samples], count)
        if i == len(samples):
            raise LookupError(count)
        return samples[i][0]

    def wait(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: JJOC applied {self.count} of {count}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.done.set()
        self.join()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def nats_available(url: str) -> str | None:
    """None if a NATS server with JetStream answers at ``url``, else why not."""

    async def probe() -> None:
        import nats

        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()

    try:
        asyncio.run(asyncio.wait_for(probe(), 5))
    except Exception as exc:
        return f"no NATS server with JetStream at {url}: {exc!r}"
    return None


def delete_streams(url: str, prefix: str) -> None:
    async def run() -> None:
        import nats

        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            js = nc.jetstream()
            for info in await js.streams_info():
                if info.config.name and info.config.name.startswith(f"{prefix}-"):
                    await js.delete_stream(info.config.name)
        finally:
            await nc.close()

    asyncio.run(run())


def link(cluster: Cluster, transport: str, prefix: str) -> FaultProxyClient:
    """Link USFJ and JJOC over ``transport``; the proxy that can cut USFJ's side."""
    us, jp = cluster.nodes["usfj"], cluster.nodes["jjoc"]
    if transport == "https":
        cluster.link("usfj", "jjoc", proxied=True)
        return cluster.proxy("usfj", "jjoc")
    target = urlsplit(NATS_URL)
    proc = FaultProxyProcess(target.hostname or "127.0.0.1", target.port or 4222)
    proxy = proc.start()
    cluster.proxies[("usfj", "nats")] = (proc, proxy)  # stopped with the cluster
    via = f"nats://127.0.0.1:{proc.listen_port}?prefix={prefix}"
    peer_one_way(us.dir, jp.dir, url=via, transport="nats")
    peer_one_way(jp.dir, us.dir, url=f"{NATS_URL}?prefix={prefix}", transport="nats")
    return proxy


def measure(transport: str, events: int, size: int, poll: float) -> dict[str, Any]:
    prefix = f"kzb{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(Path(tmp))
        cluster.node("usfj", "USA")
        cluster.node("jjoc", "JPN")
        proxy = link(cluster, transport, prefix)
        cluster.start()
        sampler: Sampler | None = None
        try:
            us = cluster.nodes["usfj"].user("writer", "USA", "SECRET")
            jp_url = cluster.nodes["jjoc"].url
            sampler = Sampler(jp_url, poll)
            sampler.start()
            write(us, 10, size, "warm-up")
            sampler.wait(10, 120)

            # Streamed: written as fast as the API takes them, the link up.
            base = sampler.count
            start = time.time()
            stamps = write(us, events, size, "streamed")
            written = time.time()
            sampler.wait(base + events, 600)
            held = sampler.when(base + events)
            stamps.sort()
            samples = list(sampler.samples)
            counts = [n for _, n in samples]
            lags = [
                samples[bisect.bisect_left(counts, base + i + 1)][0] - t
                for i, t in enumerate(stamps)
            ]

            # Backlog: written while cut, drained after heal.
            proxy.cut()
            time.sleep(0.5)
            before = sampler.count
            cut_start = time.time()
            write(us, events, size, "backlog")
            local_s = time.time() - cut_start
            time.sleep(1.0)
            assert sampler.count == before, "events crossed the cut link"
            proxy.heal()
            healed = time.time()
            sampler.wait(before + events, 600)
            first = sampler.when(before + 1)
            last = sampler.when(before + events)
        finally:
            if sampler is not None:
                sampler.stop()
            cluster.stop()
            if transport == "nats":
                delete_streams(NATS_URL, prefix)
    return {
        "streamed_per_s": events / (held - start),
        "write_per_s": events / (written - start),
        "lag_p50_ms": pct(lags, 0.50) * 1000,
        "lag_p99_ms": pct(lags, 0.99) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "local_commit_per_s": events / local_s,
        "drain_per_s": events / (last - first) if last > first else float("inf"),
        "heal_to_first_s": first - healed,
        "heal_to_all_s": last - healed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000, help="reports per POST")
    parser.add_argument("--rounds", type=int, default=1, help="transports alternate order")
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between samples")
    args = parser.parse_args()

    transports = ["https", "nats"]
    why = nats_available(NATS_URL)
    if why is not None:
        if os.environ.get("CI"):
            raise SystemExit(f"{why} (CI is set: NATS with JetStream must be running)")
        print(f"NATS skipped: {why}")
        transports = ["https"]
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in transports}
    for r in range(args.rounds):
        order = transports if r % 2 == 0 else transports[::-1]
        for transport in order:
            print(f"round {r + 1}: {transport} …", flush=True)
            runs[transport].append(measure(transport, args.events, args.batch, args.poll))
    result = {
        t: {k: statistics.median(run[k] for run in runs[t]) for k in runs[t][0]} for t in transports
    }

    rows_spec = [
        ("streamed: write → peer holds all", "streamed_per_s", "ev/s"),
        ("streamed: the API took the writes at", "write_per_s", "ev/s"),
        ("lag commit → applied p50", "lag_p50_ms", "ms"),
        ("lag commit → applied p99", "lag_p99_ms", "ms"),
        ("lag commit → applied max", "lag_max_ms", "ms"),
        ("backlog: local commit (reference)", "local_commit_per_s", "ev/s"),
        ("backlog: drain first → last", "drain_per_s", "ev/s"),
        ("backlog: heal → first applied", "heal_to_first_s", "s"),
        ("backlog: heal → all applied", "heal_to_all_s", "s"),
    ]
    headers = ["measure", *(t.upper() for t in transports), "unit"]
    if "nats" in result:
        headers.insert(-1, "NATS/HTTPS")
    rows: list[list[Any]] = []
    for label, key, unit in rows_spec:
        row: list[Any] = [label, *(f"{result[t][key]:,.1f}" for t in transports)]
        if "nats" in result:
            row.append(f"{result['nats'][key] / result['https'][key]:.2f}x")
        rows.append([*row, unit])
    print_table(
        f"Federation USFJ → JJOC, {args.events:,} events in batches of {args.batch:,} "
        f"(median of {args.rounds} round{'s' if args.rounds > 1 else ''})",
        headers,
        rows,
    )
    if "nats" in result:
        nats = result["nats"]
        print(
            f"\ntargets (NATS): ≥ 10,000 ev/s streamed: "
            f"{'met' if nats['streamed_per_s'] >= 10_000 else 'NOT met'} "
            f"({nats['streamed_per_s']:,.0f}); p99 lag < 1 s: "
            f"{'met' if nats['lag_p99_ms'] < 1000 else 'NOT met'} ({nats['lag_p99_ms']:,.0f} ms)"
        )
    path = write_json(
        "federation_nats",
        {
            "events": args.events,
            "batch": args.batch,
            "rounds": args.rounds,
            "nats_url": NATS_URL if "nats" in result else None,
            "median": result,
            "runs": runs,
            "nats_over_https": {k: result["nats"][k] / result["https"][k] for k in result["https"]}
            if "nats" in result
            else None,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
