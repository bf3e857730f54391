"""CoT fan-out benchmark: N TCP clients each sending at R Hz, all receiving.

Every event should reach the N-1 other clients. Reports the delivered
fraction and p50/p99 latency (send time rides in ``<remarks>``), and the
server process's CPU time. Without ``--host`` it runs two servers in
subprocesses on loopback, one after the other, with the same load:
  * ``reference``: bare asyncio broadcast of the same bytes, no parsing;
  * ``kizuna``: :class:`CotServer` (strict parse, label, release check, track).
Results go to ``bench/results/cot_fanout.json``.

    python bench/cot_fanout.py --clients 100 --rate 10 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "cot_fanout.json"
_MARK = re.compile(rb"<remarks>b (\d+) (\d+) (\d+)</remarks>")


# --------------------------------------------------------------------------- servers


async def _reference_server(port: int) -> None:
    """Bare broadcast: split on ``</event>``, forward bytes; writes batched per loop turn."""
    loop = asyncio.get_running_loop()
    pending: dict[asyncio.StreamWriter, list[bytes]] = {}

    def flush() -> None:
        for w, parts in pending.items():
            if parts:
                w.transport.writelines(parts)
                parts.clear()
        scheduled[0] = False

    scheduled = [False]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending[writer] = []
        buf = b""
        try:
            while data := await reader.read(65536):
                buf += data
                cut = buf.rfind(b"</event>")
                if cut < 0:
                    continue
                out, buf = buf[: cut + 8], buf[cut + 8 :]
                for other, parts in pending.items():
                    if other is not writer:
                        parts.append(out)
                if not scheduled[0]:
                    scheduled[0] = True
                    loop.call_soon(flush)
        finally:
            pending.pop(writer, None)
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()


async def _kizuna_server(port: int) -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from kizuna.sources.cot.server import CotServer

    tracks = 0

    def sink(batch: list[object]) -> None:
        nonlocal tracks
        tracks += len(batch)

    srv = CotServer(on_tracks=sink, tcp_port=port, tls_port=None)
    await srv.start()
    assert srv.tcp_address is not None
    print(srv.tcp_address[1], flush=True)
    await asyncio.Event().wait()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- clients


def _event(i: int, seq: int) -> bytes:
    now = time.time()
    t = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    s = dt.datetime.fromtimestamp(now + 60, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid="bench-{i}"'
        f' type="a-f-G-U-C" how="m-g" time="{t}" start="{t}" stale="{s}" access="UNCLASSIFIED">'
        f'<point lat="{35 + i / 1000:.4f}" lon="139.7" hae="10" ce="5" le="5"/>'
        f'<detail><contact callsign="BENCH-{i}"/><__group name="Cyan" role="Team Member"/>'
        f'<track course="90" speed="1.5"/><remarks>b {i} {seq} {time.time_ns()}</remarks>'
        f"</detail></event>"
    ).encode()


async def run_load(host: str, port: int, n: int, rate: float, seconds: float) -> dict[str, float]:
    conns = [await asyncio.open_connection(host, port, limit=1 << 20) for _ in range(n)]
    received = [0] * n
    latencies: list[float] = []
    sent = [0] * n
    stop = asyncio.Event()

    async def reader_loop(k: int, reader: asyncio.StreamReader) -> None:
        tail = b""
        while data := await reader.read(1 << 20):
            now = time.time_ns()
            chunk = tail + data
            last = 0
            for m in _MARK.finditer(chunk):
                received[k] += 1
                latencies.append((now - int(m.group(3))) / 1e6)
                last = m.end()
            tail = chunk[last:][-4096:]

    async def sender_loop(k: int, writer: asyncio.StreamWriter) -> None:
        period = 1.0 / rate
        await asyncio.sleep(period * k / n)  # stagger
        start = time.monotonic()
        seq = 0
        while not stop.is_set():
            writer.write(_event(k, seq))
            sent[k] += 1
            seq += 1
            delay = start + seq * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    readers = [asyncio.create_task(reader_loop(k, r)) for k, (r, _) in enumerate(conns)]
    await asyncio.sleep(0.5)  # let every connection settle
    senders = [asyncio.create_task(sender_loop(k, w)) for k, (_, w) in enumerate(conns)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*senders)
    expected = sum(sent) * (n - 1)
    deadline = time.monotonic() + 5.0
    while sum(received) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for t in readers:
        t.cancel()
    for _, w in conns:
        w.close()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    return {
        "sent": sum(sent),
        "expected": expected,
        "delivered": sum(received),
        "delivered_fraction": sum(received) / expected if expected else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else 0.0,
    }


def _measure(kind: str, args: argparse.Namespace) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        cpu0 = _cpu_seconds(proc.pid)
        t0 = time.monotonic()
        result = asyncio.run(run_load("127.0.0.1", port, args.clients, args.rate, args.seconds))
        result["server_cpu_s"] = _cpu_seconds(proc.pid) - cpu0
        result["wall_s"] = time.monotonic() - t0
        return result
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host")
    ap.add_argument("--port", type=int, default=8087)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--serve", choices=["kizuna", "reference"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        server = _kizuna_server if args.serve == "kizuna" else _reference_server
        asyncio.run(server(0))
        return
    if args.host:
        runs = {
            "target": asyncio.run(
                run_load(args.host, args.port, args.clients, args.rate, args.seconds)
            )
        }
    else:
        runs = {kind: _measure(kind, args) for kind in ("reference", "kizuna")}
    cols = ["delivered_fraction", "p50_ms", "p99_ms", "mean_ms", "server_cpu_s"]
    print(f"clients={args.clients} rate={args.rate}Hz seconds={args.seconds}")
    print(f"{'server':<10}" + "".join(f"{c:>20}" for c in cols))
    for kind, r in runs.items():
        print(f"{kind:<10}" + "".join(f"{r.get(c, float('nan')):>20.4f}" for c in cols))
    report: dict[str, object] = {
        "params": {"clients": args.clients, "rate_hz": args.rate, "seconds": args.seconds},
        "runs": runs,
    }
    if "reference" in runs and "kizuna" in runs:
        ref, ours = runs["reference"], runs["kizuna"]
        ratios = {
            "p99_ratio": ours["p99_ms"] / ref["p99_ms"] if ref["p99_ms"] else None,
            "cpu_ratio": ours["server_cpu_s"] / ref["server_cpu_s"]
            if ref["server_cpu_s"]
            else None,
        }
        report["ratios"] = ratios
        print("kizuna/reference:", {k: round(v, 2) if v else v for k, v in ratios.items()})
        report["target_met"] = ours["delivered_fraction"] >= 0.9999 and ours["p99_ms"] < 100
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
