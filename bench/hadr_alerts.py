"""HADR alerts: ingest rate, and the time from a bulletin in the feed to a partner's screen.

Measures, in one run, over the shared JMA bulletins (``../shared/data/jma``, 72 documents):
- ingest: bulletins/s into a fresh SQLite node (parse, bulletin into its incident, commit),
  against the reference: a bare ``defusedxml`` parse of the same documents;
- alert to partner: JJOC pulls a JMA-style Atom feed (a local HTTP server that publishes the
  bulletins one at a time, in the order JMA issued them); the time from an entry appearing in
  the feed to the incident's push on a WebSocket client of the Australian node, which holds
  the incident by federation. Target p99 < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.cluster import Cluster  # noqa: E402
from tests.nodes import add_user, kizuna, make_node_dir  # noqa: E402

from _common import print_table, write_json  # noqa: E402

SHARED = Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT.parent / "shared" / "data"))
TYPES = "report,track,request,audit_head,incident"


def bulletins() -> list[Path]:
    """The shared JMA documents in the order JMA issued them (the names start with it)."""
    files = sorted((SHARED / "jma").glob("*.xml"), key=lambda p: p.name)
    if not files:
        raise SystemExit(f"no JMA documents in {SHARED / 'jma'} (set KIZUNA_SHARED_DATA)")
    return files


# -- ingest ---------------------------------------------------------------------------


def ingest_rate(files: list[Path], rounds: int) -> dict[str, float]:
    from kizuna.node.runtime import Node

    docs = [p.read_bytes() for p in files]
    bare, ours = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in docs:
            DET.fromstring(raw, forbid_dtd=True)
        bare.append(len(docs) / (time.perf_counter() - start))
        with tempfile.TemporaryDirectory() as tmp:
            node = Node(make_node_dir(Path(tmp) / "jjoc", "jjoc", "JPN"))
            try:
                alerts = node.service("alerts")
                start = time.perf_counter()
                for n, raw in enumerate(docs):
                    outcome = alerts.ingest_bytes(raw, name=files[n].name)
                    assert outcome.outcome in ("new", "updated"), (files[n].name, outcome)
                ours.append(len(docs) / (time.perf_counter() - start))
            finally:
                node.close()
    return {"defusedxml": statistics.median(bare), "kizuna": statistics.median(ours)}


# -- alert to partner -----------------------------------------------------------------


class Feed:
    """A JMA-style Atom feed on loopback that publishes one more document at a time."""

    def __init__(self, docs: list[Path]) -> None:
        self.docs = docs
        self.published = 0
        self.lock = threading.Lock()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/doc/"):
                    n = int(self.path.split("/")[2].split(".")[0])
                    body = feed.docs[n].read_bytes()
                    kind = "application/xml"
                else:
                    body = feed.atom().encode()
                    kind = "application/atom+xml"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def atom(self) -> str:
        with self.lock:
            n = self.published
        entries = "".join(
            f"<entry><id>urn:bench:{i}</id><title>{i}</title><updated>2026-12-01T00:00:00Z"
            f'</updated><link type="application/xml" href="/doc/{i}.xml"/></entry>'
            for i in reversed(range(n))
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>urn:bench</id><title>bench</title><updated>2026-12-01T00:00:00Z</updated>"
            f"{entries}</feed>"
        )

    def publish(self) -> None:
        with self.lock:
            self.published += 1

    def close(self) -> None:
        self.server.shutdown()


async def watch(url: str, counts: dict[str, int], seen: asyncio.Queue[tuple[str, float]]) -> None:
    """Each push of an incident whose timeline grew: (incident id, when it arrived)."""
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        async for message in ws:
            for item in _items(json.loads(message)):
                n = len(item.get("timeline", []))
                if n > counts.get(item["id"], 0):
                    counts[item["id"]] = n
                    await seen.put((item["id"], time.perf_counter()))


def _items(message: Any) -> list[dict[str, Any]]:
    batch = message if isinstance(message, list) else [message]
    return [m["item"] for m in batch if isinstance(m, dict) and m.get("type") == "incident"]


async def alert_to_partner(root: Path, files: list[Path], poll: float) -> list[float]:
    feed = Feed(files)
    cluster = Cluster(root)
    cluster.node("jjoc", "JPN")
    cluster.node("aus", "AUS")
    with (cluster.nodes["jjoc"].dir / "node.toml").open("a") as fh:
        fh.write(f'\n[alerts]\nfeed_url = "{feed.url}"\nfeed_interval = {poll}\n')
    cluster.link("jjoc", "aus", types=TYPES)
    cluster.start()
    try:
        token = add_user(cluster.nodes["aus"].dir, "watch", "AUS", "SECRET")
        ws_url = f"ws://127.0.0.1:{cluster.nodes['aus'].port}/api/v1/ws?token={token}"
        seen: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
        counts: dict[str, int] = {}
        task = asyncio.create_task(watch(ws_url, counts, seen))
        await asyncio.sleep(1.0)
        lags = []
        for n in range(len(files)):
            start = time.perf_counter()
            feed.publish()
            try:
                _, at = await asyncio.wait_for(seen.get(), timeout=30)
            except TimeoutError:
                raise SystemExit(f"bulletin {files[n].name} never reached the partner") from None
            lags.append(at - start)
        task.cancel()
        return lags
    finally:
        cluster.stop()
        feed.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--poll", type=float, default=0.25, help="feed poll interval (s)")
    args = ap.parse_args()
    kizuna("--help")  # the CLI imports (fail early)
    files = bulletins()
    rates = ingest_rate(files, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        lags = asyncio.run(alert_to_partner(Path(tmp), files, args.poll))
    q = statistics.quantiles(lags, n=100)
    p50, p99 = statistics.median(lags), q[98]
    print_table(
        f"Alert ingest, {len(files)} JMA bulletins (median of {args.rounds})",
        ["path", "bulletins/s", "vs defusedxml"],
        [
            ["defusedxml parse only (reference)", rates["defusedxml"], 1.0],
            [
                "kizuna ingest (parse, incident, commit)",
                rates["kizuna"],
                rates["kizuna"] / rates["defusedxml"],
            ],
        ],
    )
    print_table(
        f"Alert to partner: feed entry → incident pushed on AUS (poll {args.poll} s)",
        ["bulletins", "p50 s", "p99 s", "max s", "target p99"],
        [[len(lags), p50, p99, max(lags), "< 2 s " + ("✓" if p99 < 2 else "✗")]],
    )
    path = write_json(
        "hadr_alerts",
        {
            "bulletins": len(files),
            "ingest_per_s": rates["kizuna"],
            "defusedxml_per_s": rates["defusedxml"],
            "ratio": rates["kizuna"] / rates["defusedxml"],
            "poll_s": args.poll,
            "alert_to_partner": {"p50_s": p50, "p99_s": p99, "max_s": max(lags), "n": len(lags)},
            "target_met": p99 < 2,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
