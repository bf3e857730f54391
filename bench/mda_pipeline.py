"""AIS pipeline with MDA detection on vs off, sustained rate, and memory for 200,000 vessels.

Pipeline, both ways: NMEA lines → ``AisIngestor.feed_lines`` (the real
``kizuna.sources.ais`` framing, checksum, tag-block time, decode, Track mapping) → a sink:
``--sink picture`` (default) the node's picture service (memory, SQLite, history; as
``bench/ais_ingest.py``), ``--sink none`` nothing (decode only, the hardest ratio).
*Off*: just that sink. *On*: the sink also turns each Track into a
:class:`~kizuna.mda.detect.base.Fix` (``fix_from_track``, as the domain does) and feeds
:class:`~kizuna.mda.detect.pipeline.Pipeline` (cleaning, segmentation, gap, loitering,
encounter, spoofing, zone; Solent ports). Same corpus, same run, rounds interleaved
(off, on, off, on, …); best, median and the paired median of on/off are reported.

Corpus: the Solent hour (18,623 positions) encoded to type 1 sentences with ``c:`` tag
blocks (``bench/ais_ingest.py``'s encoder), repeated to ``--lines`` (default 500,000):
repeat k is shifted by k × the hour's span and played backwards for odd k, so tracks stay
continuous and the data's clock runs forward (~27 h of traffic for 500,000 lines).

Sustained: lines/s through the *on* pipeline on one core (this process, one thread).

Memory: ``--vessels`` (default 200,000) distinct valid MMSIs, each with ``--per-vessel``
fixes (default 8, one a minute, 2 kn, spread over a 20° × 20° box), fed to a fresh
Pipeline; resident set size (VmRSS) after ``gc.collect()``, before and after, and the
vessels held by each detector.
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json
from ais_ingest import DATA, LABEL, PictureSink, solent_corpus
from kizuna.mda.detect.base import Fix
from kizuna.mda.detect.pipeline import Pipeline, fix_from_track
from kizuna.mda.detect.ports import parse_ports_csv
from kizuna.sources.ais import AisIngestor
from kizuna.sources.ais.nmea import checksum

PORTS_CSV = DATA.parent / "reference" / "ports.csv"


def long_corpus(target: int) -> tuple[list[bytes], float]:
    """The Solent lines ping-ponged in time to ``target`` lines; (lines, hours covered)."""
    hour = solent_corpus()
    stamped = []
    for raw in hour:
        tag_end = raw.index(b"\\", 1)
        t = int(raw[3 : raw.index(b"*")])
        stamped.append((t, raw[tag_end + 1 :]))
    t0, t1 = stamped[0][0], stamped[-1][0]
    span = t1 - t0 + 1
    out: list[bytes] = []
    k = 0
    while len(out) < target:
        seq = stamped if k % 2 == 0 else reversed(stamped)
        for t, body in seq:
            off = t - t0 if k % 2 == 0 else t1 - t
            tag = b"c:%d" % (t0 + k * span + off)
            out.append(b"\\%s*%02X\\%s" % (tag, checksum(tag), body))
            if len(out) >= target:
                break
        k += 1
    return out, k * span / 3600.0


def run(
    lines: list[bytes], detect: bool, ports: list[tuple[float, float]], sink_kind: str
) -> dict[str, float]:
    emitted = 0
    with tempfile.TemporaryDirectory() as tmp:
        picture = PictureSink(Path(tmp) / "ais.db") if sink_kind == "picture" else None
        base = picture.ingest if picture is not None else (lambda tracks: None)
        if detect:
            pipe = Pipeline(None, ports)
            feed = pipe.feed_many

            def sink(tracks: list) -> None:
                nonlocal emitted
                base(tracks)
                emitted += len(feed([fix_from_track(t) for t in tracks]))
        else:
            sink = base
        ing = AisIngestor(sink, LABEL, batch_size=1000)
        gc.collect()
        start = time.perf_counter()
        ing.feed_lines(lines, time.time())
        ing.close()
        if picture is not None:
            picture.commit()
        elapsed = time.perf_counter() - start
        if picture is not None:
            picture.close()
    assert ing.stats.accepted == len(lines), ing.stats.as_dict()
    return {"seconds": elapsed, "per_s": len(lines) / elapsed, "emissions": emitted}


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def memory(vessels: int, per_vessel: int, ports: list[tuple[float, float]]) -> dict[str, object]:
    rng = random.Random(200_000)
    mids = list(range(201, 776))
    mmsis = sorted(
        {
            rng.choice(mids) * 1_000_000 + rng.randrange(1, 999_999)
            for _ in range(int(vessels * 1.1))
        }
    )
    mmsis = mmsis[:vessels]
    assert len(mmsis) == vessels
    starts = [(rng.uniform(40.0, 60.0), rng.uniform(-20.0, 0.0)) for _ in mmsis]
    gc.collect()
    before = rss_mb()
    pipe = Pipeline(None, ports)
    t0 = 1_452_600_000.0
    step = 2.0 * 1852.0 / 3600.0 * 60.0 / 111_195.0  # 2 kn north for one minute, in degrees
    started = time.perf_counter()
    n = 0
    for i in range(per_vessel):
        batch = [
            Fix(
                mmsi=m,
                t=t0 + i * 60.0 + (j % 60),
                lat=lat + i * step,
                lon=lon,
                sog=2.0,
                label=LABEL,
            )
            for j, (m, (lat, lon)) in enumerate(zip(mmsis, starts, strict=True))
        ]
        n += len(batch)
        pipe.feed_many(batch)
        del batch
    elapsed = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    return {
        "vessels": vessels,
        "fixes": n,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_mb": after,
        "detector_state_mb": after - before,
        "fixes_per_s": n / elapsed,
        "stats": pipe.stats(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--vessels", type=int, default=200_000)
    parser.add_argument("--per-vessel", type=int, default=8)
    parser.add_argument(
        "--sink",
        choices=("none", "picture"),
        default="picture",
        help="what the Tracks go to: the node's picture service (default) or nowhere",
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    ports = parse_ports_csv(PORTS_CSV.read_text())

    mem = memory(args.vessels, args.per_vessel, ports)  # first: a clean heap to measure
    lines, hours = long_corpus(args.lines)
    rounds: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(args.repeats):
        rounds["off"].append(run(lines, False, ports, args.sink))
        rounds["on"].append(run(lines, True, ports, args.sink))
    off = [r["per_s"] for r in rounds["off"]]
    on = [r["per_s"] for r in rounds["on"]]
    paired = statistics.median(a / b for a, b in zip(on, off, strict=True))
    print_table(
        f"AIS pipeline (NMEA → Tracks → {args.sink}) with MDA detection on vs off, {len(lines):,} lines "
        f"(~{hours:.1f} h of Solent traffic), best and median of {args.repeats}",
        ["pipeline", "best lines/s", "median lines/s", "× off (best)", "× off (paired median)"],
        [
            ["detection off", max(off), statistics.median(off), 1.0, 1.0],
            ["detection on", max(on), statistics.median(on), max(on) / max(off), paired],
        ],
    )
    print_table(
        "Targets",
        ["measure", "figure", "target", "met"],
        [
            ["on / off (paired median)", paired, "≥ 0.8", paired >= 0.8],
            [
                "sustained lines/s, detection on, one core",
                statistics.median(on),
                "≥ 20,000",
                statistics.median(on) >= 20_000,
            ],
            [
                f"RSS with {mem['vessels']:,} vessels (MB)",
                mem["rss_after_mb"],
                "< 1024",
                mem["rss_after_mb"] < 1024,
            ],
            ["  of which detector state (MB)", mem["detector_state_mb"], "", ""],
        ],
    )
    print(
        f"\nemissions per run (detection on): {rounds['on'][0]['emissions']:,}; memory run: {mem['stats']}"
    )
    path = write_json(
        f"mda_pipeline_{args.sink}",
        {
            "lines": len(lines),
            "hours": hours,
            "repeats": args.repeats,
            "sink": args.sink,
            "off": rounds["off"],
            "on": rounds["on"],
            "ratio_best": max(on) / max(off),
            "ratio_paired_median": paired,
            "sustained_per_s_median": statistics.median(on),
            "memory": mem,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
