"""Sustained live AIS feed through a running node's UDP listener, MDA detection on vs off.

A real node (``kizuna init --ais-udp-port P --no-cot``, then ``kizuna serve``) pinned to
one core (``--node-core``, default 1, by ``sched_setaffinity``: its event loop, the UDP
listener, the picture and the MDA worker thread all share that core); the sender is a
separate process on ``--sender-core`` (default 0), and so is this process, which polls.
Loopback only.

Traffic: the Solent hour encoded as type 1 sentences with ``c:`` tag blocks, ping-ponged
in time (``bench/mda_pipeline.py``'s ``long_corpus``), **one sentence per datagram** (as
AIS-catcher / rtl-ais style forwarders send, and the hardest case for the listener;
``--per-datagram N`` packs N lines per datagram instead), at stepped rates (``--rates``,
default 5k, 10k, 15k, 20k, 30k, 40k lines/s, ``--step`` 8 s each, 1.5 s pause between
steps). Every 0.1 s the sender also slips in one *probe* sentence: a vessel not in the
corpus (MMSI 235999999) whose latitude encodes a sequence number and whose ``c:`` time
is the corpus clock at that point (so detection sees one consistent data clock).

Measured per step:

* **accepted/s**: the node exports no AIS accepted-lines counter, so accepted = sent −
  kernel drops of the listener's socket (``/proc/net/udp`` ``drops`` column, i.e. the
  node did not read fast enough) − ``kizuna_bad_input_total{source="ais"}``. With
  detection on it is cross-checked with ``/api/v1/mda/status`` ``fixes + dropped``.
* **MDA drops**: ``kizuna_mda_dropped_total`` (detection queue over ``queue_max``).
* **picture latency**: poll ``/api/v1/tracks/ais-235999999`` every 0.25 s; the probe seen
  gives its sequence number; latency = poll time − send time of the *oldest probe not yet
  visible* (0 when every probe sent is visible). Includes the ingestor's batching (a batch
  is flushed at 1,000 lines or every 0.5 s).
* **detection latency** (on only): ``/api/v1/mda/status`` ``data_clock`` (newest
  observation detection has processed) → the oldest corpus line sent with a later ``c:``
  time; latency = poll time − its send time. This is the send → detected lag; it grows
  when the detection worker falls behind even while the picture keeps up.

Latency is *flat* when p95 of both latencies ≤ ``--max-lag`` (default 1.5 s) and the
second half's median is not above the first half's by more than 0.25 s. A step holds
strictly when it is flat and nothing was dropped (socket, rejects, MDA); and holds when it
is flat and at most ``--max-loss`` (default 1 %) of the lines were lost: the listener
socket has the kernel's default receive buffer (``net.core.rmem_default``, 208 KiB, a
few hundred datagrams: tens of ms at these rates), so any stall of the node's event loop
that long (a group commit, a sweep, a /metrics scrape) drops datagrams even at 5k/s.
Reported: the highest rate up to which every step held, both ways, and the peak
accepted rate, on and off
(``[mda] enabled = false`` for off), in the same run. ``[picture] grace`` is raised so
the 2016 corpus stays in the picture as a live feed's fresh tracks would (otherwise every
observation expires on arrival and the probe is never visible).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pyais
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json
from kizuna.sources.ais.nmea import checksum
from mda_pipeline import long_corpus

KIZUNA = [sys.executable, "-m", "kizuna.cli"]
PROBE_MMSI = 235999999
PROBE_EVERY = 0.1  # seconds
PAUSE = 1.5  # seconds between steps


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe_line(seq: int, t: int) -> bytes:
    sentence = pyais.encode_dict(
        {"type": 1, "mmsi": PROBE_MMSI, "lat": 50.60 + seq * 1e-4, "lon": -1.0, "speed": 0.5},
        talker_id="AI",
        sentence_type="VDM",
    )[0]
    tag = b"c:%d" % t
    return b"\\%s*%02X\\%s\r\n" % (tag, checksum(tag), sentence.encode())


def tag_time(line: bytes) -> int:
    return int(line[3 : line.index(b"*")])


# -- the sender (its own process, its own core) ----------------------------------------


def sender(
    port: int,
    lines: list[bytes],
    schedule: list[tuple[int, float]],
    per_datagram: int,
    core: int,
    conn: Any,
) -> None:
    os.sched_setaffinity(0, {core})
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.connect(("127.0.0.1", port))
    send = sock.send
    clock = time.monotonic
    dgrams = [b"".join(lines[i : i + per_datagram]) for i in range(0, len(lines), per_datagram)]
    i = 0  # next datagram
    seq = 0
    for rate, seconds in schedule:
        conn.recv()  # go
        drate = rate / per_datagram
        total = int(drate * seconds)
        marks: list[tuple[int, float]] = []  # (first line index of a burst, send time)
        probes: list[tuple[int, float]] = []  # (seq, send time)
        first = i
        start = clock()
        next_probe = start
        sent = 0
        while sent < total:
            now = clock()
            due = min(int(drate * (now - start)), total) - sent
            if due > 0:
                marks.append((i * per_datagram, now))
                for d in dgrams[i : i + due]:
                    send(d)
                i += due
                sent += due
            if now >= next_probe and i:
                t = tag_time(lines[min(i * per_datagram, len(lines)) - 1])
                probes.append((seq, clock()))
                send(probe_line(seq, t))
                seq += 1
                next_probe += PROBE_EVERY
            time.sleep(0.0003)
        elapsed = clock() - start
        conn.send(
            {
                "lines": (i - first) * per_datagram,
                "datagrams": i - first,
                "probes": len(probes),
                "seconds": elapsed,
                "marks": marks,
                "probe_sent": probes,
            }
        )
    sock.close()


# -- the node ---------------------------------------------------------------------------


def kizuna(*args: str) -> str:
    out = subprocess.run([*KIZUNA, *args], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"kizuna {' '.join(args)}: {out.stderr}")
    return out.stdout


class Node:
    def __init__(self, root: Path, detect: bool, core: int) -> None:
        self.dir = root / ("on" if detect else "off")
        self.port, self.udp = free_port(), free_udp_port()
        kizuna(
            "init",
            "--dir",
            str(self.dir),
            "--node-id",
            "bench",
            "--nation",
            "USA",
            "--port",
            str(self.port),
            "--no-cot",
            "--ais-udp-port",
            str(self.udp),
        )
        with (self.dir / "node.toml").open("a") as fh:
            fh.write("\n[picture]\ngrace = 1e9\n")
            if not detect:
                fh.write("\n[mda]\nenabled = false\n")
        token = kizuna(
            "user",
            "add",
            "--dir",
            str(self.dir),
            "--name",
            "bench.watch",
            "--nation",
            "USA",
            "--clearance",
            "SECRET",
        )
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {token.strip().splitlines()[-1]}"},
            timeout=10,
        )
        self.log = (self.dir / "node.log").open("ab")
        self.proc = subprocess.Popen(
            [*KIZUNA, "serve", "--dir", str(self.dir)],
            stdout=self.log,
            stderr=self.log,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            preexec_fn=lambda: os.sched_setaffinity(0, {core}),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited: {(self.dir / 'node.log').read_text()[-2000:]}")
            try:
                if self.http.get("/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("node did not come up")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.http.close()
        self.log.close()

    def socket_drops(self) -> int:
        """The listener socket's receive drops (``/proc/net/udp``, last column)."""
        want = f"0100007F:{self.udp:04X}"
        with open("/proc/net/udp") as fh:
            for row in fh.readlines()[1:]:
                cols = row.split()
                if cols[1] == want:
                    return int(cols[-1])
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time of the node process, all its threads (``/proc/PID/stat``)."""
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metrics(self) -> dict[str, float]:
        out = {"rejected": 0.0, "mda_dropped": 0.0, "reports": 0.0}
        for family in text_string_to_metric_families(self.http.get("/metrics").text):
            for s in family.samples:
                if s.name == "kizuna_bad_input_total" and s.labels.get("source") == "ais":
                    out["rejected"] += s.value
                elif s.name == "kizuna_mda_dropped_total":
                    out["mda_dropped"] = s.value
                elif s.name == "kizuna_ais_reports_total":
                    out["reports"] = s.value
        return out

    def probe_seq(self) -> int:
        r = self.http.get(f"/api/v1/tracks/ais-{PROBE_MMSI}")
        if r.status_code != 200:
            return -1
        return round((r.json()["lat"] - 50.60) / 1e-4)

    def mda(self) -> dict[str, Any]:
        return dict(self.http.get("/api/v1/mda/status").json())


def epoch(iso: str | None) -> float | None:
    if iso is None:
        return None
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# -- one mode ---------------------------------------------------------------------------


def halves(samples: list[tuple[float, float]]) -> tuple[float, float]:
    n = len(samples)
    if n < 2:
        v = samples[0][1] if samples else 0.0
        return v, v
    a = [v for _, v in samples[: n // 2]]
    b = [v for _, v in samples[n // 2 :]]
    return statistics.median(a), statistics.median(b)


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(0.95 * len(s)))]


def run_mode(
    detect: bool, lines: list[bytes], times: list[int], args: argparse.Namespace, root: Path
) -> list[dict[str, Any]]:
    schedule = [(r, args.step) for r in args.rates]
    node = Node(root, detect, args.node_core)
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(
        target=sender,
        args=(node.udp, lines, schedule, args.per_datagram, args.sender_core, child),
    )
    proc.start()
    steps: list[dict[str, Any]] = []
    sent_lines = 0  # lines sent before this step
    all_idx: list[int] = []  # every burst of the run: first global line index, send time
    all_t: list[float] = []
    probe_sent: dict[int, float] = {}
    try:
        time.sleep(0.5)
        m0, d0, c0 = node.metrics(), node.socket_drops(), node.cpu_seconds()
        for rate, seconds in schedule:
            parent.send("go")
            polls: list[tuple[float, int, float | None]] = []
            t_end = time.monotonic() + seconds
            while not parent.poll(0.25):
                t = time.monotonic()
                seq = node.probe_seq()
                clock = epoch(node.mda().get("data_clock")) if detect else None
                polls.append((t, seq, clock))
                if t > t_end + 5:
                    break
            sent = parent.recv()
            time.sleep(PAUSE)  # the last batch flushed, the socket read
            m1, d1, c1 = node.metrics(), node.socket_drops(), node.cpu_seconds()
            status = node.mda()
            # latencies
            probe_sent.update(sent["probe_sent"])
            for idx, ts in sent["marks"]:
                all_idx.append(idx)
                all_t.append(ts)
            pic: list[tuple[float, float]] = []
            det: list[tuple[float, float]] = []
            for t, seq, clock in polls:
                # the oldest probe not visible yet, if it was sent before this poll
                ts = probe_sent.get(seq + 1)
                pic.append((t, t - ts if ts is not None and ts < t else 0.0))
                if detect:
                    # the oldest corpus line detection has not processed yet
                    j = 0 if clock is None else bisect.bisect_right(times, int(clock))
                    k = bisect.bisect_right(all_idx, j) - 1
                    if k >= 0 and j < sent_lines + sent["lines"] and all_t[k] < t:
                        det.append((t, t - all_t[k]))
                    else:
                        det.append((t, 0.0))
            sock_drops = d1 - d0
            rejected = m1["rejected"] - m0["rejected"]
            mda_dropped = m1["mda_dropped"] - m0["mda_dropped"]
            offered = sent["lines"] + sent["probes"]
            accepted = offered - sock_drops * args.per_datagram - rejected
            pic_h, det_h = halves(pic), halves(det)
            pic_p95, det_p95 = p95([v for _, v in pic]), p95([v for _, v in det])
            flat = (
                pic_p95 <= args.max_lag
                and det_p95 <= args.max_lag
                and pic_h[1] <= pic_h[0] + 0.25
                and det_h[1] <= det_h[0] + 0.25
            )
            cpu = c1 - c0
            steps.append(
                {
                    "rate": rate,
                    "node_cpu_s": cpu,
                    "node_cpu_share": cpu / (sent["seconds"] + PAUSE),
                    "reports": m1["reports"] - m0["reports"],
                    # what one core would sustain: accepted lines per second of node CPU
                    "lines_per_cpu_s": accepted / cpu if cpu > 0 else 0.0,
                    "sent_per_s": sent["lines"] / sent["seconds"],
                    "offered": offered,
                    "datagrams": sent["datagrams"],
                    "accepted": accepted,
                    "accepted_per_s": accepted / sent["seconds"],
                    "socket_drops": sock_drops,
                    "rejected": rejected,
                    "mda_dropped": mda_dropped,
                    "mda_fixes": status.get("fixes"),
                    "mda_dropped_total": status.get("dropped"),
                    "picture_lag_p50": statistics.median(v for _, v in pic) if pic else 0.0,
                    "picture_lag_p95": pic_p95,
                    "picture_lag_halves": pic_h,
                    "detect_lag_p50": statistics.median(v for _, v in det) if det else None,
                    "detect_lag_p95": det_p95 if det else None,
                    "detect_lag_halves": det_h if det else None,
                    "polls": len(polls),
                    "loss": (offered - accepted + mda_dropped) / offered,
                    "flat": flat,
                    "holds_strict": sock_drops == 0 and mda_dropped == 0 and rejected == 0 and flat,
                    "holds": (offered - accepted + mda_dropped) / offered <= args.max_loss and flat,
                }
            )
            sent_lines += sent["lines"]
            m0, d0, c0 = m1, d1, c1
    finally:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
        node.stop()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[5000, 10000, 15000, 20000, 30000, 40000],
    )
    parser.add_argument("--step", type=float, default=8.0, help="seconds per rate")
    parser.add_argument("--per-datagram", type=int, default=1, help="lines per datagram")
    parser.add_argument("--node-core", type=int, default=1)
    parser.add_argument("--sender-core", type=int, default=0)
    parser.add_argument("--max-lag", type=float, default=1.5, help="seconds (p95)")
    parser.add_argument(
        "--max-loss", type=float, default=0.01, help="fraction of lines lost a step may have"
    )
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.sender_core})
    need = int(sum(r * args.step for r in args.rates) * 1.02) + 1000
    raw, hours = long_corpus(need)
    lines = [r + b"\r\n" for r in raw]
    times = [tag_time(r) for r in raw]
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, detect in (("off", False), ("on", True)):
            results[mode] = run_mode(detect, lines, times, args, Path(tmp))
    rows = []
    for mode in ("off", "on"):
        for s in results[mode]:
            rows.append(
                [
                    f"detection {mode}",
                    s["rate"],
                    s["sent_per_s"],
                    s["accepted_per_s"],
                    s["node_cpu_share"],
                    s["lines_per_cpu_s"],
                    s["socket_drops"] * args.per_datagram,
                    s["mda_dropped"],
                    f"{100 * s['loss']:.2f}",
                    s["picture_lag_p50"],
                    s["picture_lag_p95"],
                    "-" if s["detect_lag_p50"] is None else s["detect_lag_p50"],
                    "-" if s["detect_lag_p95"] is None else s["detect_lag_p95"],
                    s["holds_strict"],
                    s["holds"],
                ]
            )
    print_table(
        f"Live AIS over UDP into `kizuna serve` on core {args.node_core} (sender on core "
        f"{args.sender_core}), {args.per_datagram} line(s)/datagram, {args.step:g} s per step",
        [
            "pipeline",
            "target/s",
            "sent/s",
            "accepted/s",
            "node CPU share",
            "lines per CPU-s",
            "socket drops",
            "MDA drops",
            "loss %",
            "picture lag p50 s",
            "p95 s",
            "detect lag p50 s",
            "p95 s",
            "0 drops+flat",
            f"≤{100 * args.max_loss:g}% loss+flat",
        ],
        rows,
    )

    def best(mode: str, key: str = "holds") -> int:
        """The highest rate up to which every step held (0: none did)."""
        top = 0
        for s in results[mode]:
            if not s[key]:
                break
            top = s["rate"]
        return top

    on, off = best("on"), best("off")
    on0, off0 = best("on", "holds_strict"), best("off", "holds_strict")

    def capacity(mode: str) -> float:
        """Lines per node CPU-second at the steps that held (a loaded machine's other work
        takes wall time, not the node's CPU time): what one whole core sustains."""
        held = [s["lines_per_cpu_s"] for s in results[mode] if s["holds"] and s["rate"] >= 10_000]
        return statistics.median(held) if held else 0.0

    cap_on, cap_off = capacity("on"), capacity("off")
    peak_on = max(s["accepted_per_s"] for s in results["on"])
    peak_off = max(s["accepted_per_s"] for s in results["off"])
    print_table(
        "Targets",
        ["measure", "figure", "target", "met"],
        [
            [
                f"sustained lines/s, detection on, one core (≤{100 * args.max_loss:g}% loss, flat)",
                on,
                "≥ 20,000",
                on >= 20_000,
            ],
            ["  reference: detection off", off, "", ""],
            [
                "lines per node CPU-second, detection on (one core's capacity)",
                cap_on,
                "≥ 20,000",
                cap_on >= 20_000,
            ],
            ["  reference: detection off", cap_off, "", ""],
            ["same, nothing dropped: detection on", on0, "≥ 20,000", on0 >= 20_000],
            ["  reference: detection off", off0, "", ""],
            ["peak accepted lines/s, detection on", peak_on, "", ""],
            ["  reference: detection off", peak_off, "", ""],
            ["  on / off (peak)", peak_on / peak_off, "", ""],
        ],
    )
    path = write_json(
        "mda_udp",
        {
            "rates": args.rates,
            "step_seconds": args.step,
            "per_datagram": args.per_datagram,
            "node_core": args.node_core,
            "sender_core": args.sender_core,
            "corpus_hours": hours,
            "off": results["off"],
            "on": results["on"],
            "max_loss": args.max_loss,
            "sustained_on": on,
            "sustained_off": off,
            "sustained_on_no_drops": on0,
            "sustained_off_no_drops": off0,
            "peak_accepted_on": peak_on,
            "peak_accepted_off": peak_off,
            "lines_per_cpu_s_on": cap_on,
            "lines_per_cpu_s_off": cap_off,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
