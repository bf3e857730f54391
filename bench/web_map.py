"""The live map at 10,000 tracks: this web build against a baseline build, in the same run.

The measurement is the Playwright spec ``web/tests/perf.spec.ts`` (a real node, 10,000
tracks through its CoT TCP ingest, 1,000 updates/s; headless Debian Chromium, software
WebGL). It runs once per build, each time against a fresh node serving that build
(``KIZUNA_WEB_DIST``), with the spec of the working tree, so both builds meet the same load:

  * ``baseline``: the web app of ``--baseline REF`` (default ``HEAD``, i.e. before the
    uncommitted change), taken with ``git archive REF web src`` into a temporary directory
    beside a symlink to ``web/node_modules`` and built there, served by a node running that
    ref's ``src/`` (the same interpreter and libraries, ``PYTHONPATH``; ``KIZUNA_BIN``);
  * ``current``: the working tree's ``web/`` (built with ``npm run build``) and node.

Prints first render (navigation start to all tracks drawn, the median of ``--reloads`` page
loads and the slowest of them; beside it when the basemap (land and borders) was first drawn:
the tracks come first, ADR 0024), frame times idle and while
updating (requestAnimationFrame deltas) and fps, for the node phase (CoT -> node ->
WebSocket -> map) and the client phase (the same messages generated in the page), and
writes ``bench/results/web_map.json``. Targets (issue 18): updating p95 < 50 ms, first
render < 1.5 s.

    .venv/bin/python bench/web_map.py [--baseline REF] [--tracks 10000] [--rate 1000] [--seconds 10]
                                      [--reloads 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_json

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
TARGET_P95_MS = 50.0
TARGET_FIRST_RENDER_S = 1.5


def build(web: Path) -> None:
    done = subprocess.run(
        ["npm", "run", "build"], cwd=web, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"npm run build in {web} failed:\n{done.stdout}\n{done.stderr}")


def baseline_web(ref: str, tmp: Path) -> Path:
    """The ``web/`` folder of ``ref``, built in ``tmp`` (no checkout, no worktree)."""
    archive = subprocess.run(
        ["git", "archive", ref, "web", "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    web = tmp / "web"
    (web / "node_modules").symlink_to(WEB / "node_modules", target_is_directory=True)
    build(web)
    return web


def baseline_node(tmp: Path) -> Path:
    """A ``kizuna`` command running the baseline's ``src/`` with this interpreter."""
    command = tmp / "kizuna"
    command.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{tmp / "src"}" exec "{sys.executable}" -c '
        "'import sys; from kizuna.cli import main; sys.argv[0] = \"kizuna\"; sys.exit(main())' "
        '"$@"\n'
    )
    command.chmod(0o755)
    return command


def measure(
    name: str, dist: Path, out: Path, args: argparse.Namespace, kizuna: Path | None = None
) -> dict[str, Any]:
    env = {
        **os.environ,
        **({"KIZUNA_BIN": str(kizuna)} if kizuna is not None else {}),
        "KIZUNA_WEB_DIST": str(dist),
        "PERF_OUT": str(out),
        "PERF_TRACKS": str(args.tracks),
        "PERF_RATE": str(args.rate),
        "PERF_SECONDS": str(args.seconds),
        "PERF_RELOADS": str(args.reloads),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    print(f"\n[{name}] {dist}", flush=True)
    t = time.monotonic()
    # Artifacts under our temporary directory: another Playwright run in web/ clears web/test-results.
    cmd = [
        "npx",
        "playwright",
        "test",
        "--grep",
        "@perf",
        "--output",
        str(out.parent / f"{name}-results"),
    ]
    done = subprocess.run(cmd, cwd=WEB, env=env, check=False)
    print(f"[{name}] {time.monotonic() - t:.0f} s, exit {done.returncode}", flush=True)
    if not out.exists():
        raise SystemExit(f"{name}: the perf spec wrote no result ({out})")
    result: dict[str, Any] = json.loads(out.read_text())
    result["spec_exit_code"] = done.returncode
    return result


def figures(phase: dict[str, Any]) -> dict[str, float]:
    if "time_to_first_render_ms" not in phase:
        return {}
    timeline = phase.get("first_render_timeline", {})
    loaded_ms = phase.get("map_style_loaded_median_ms", timeline.get("map_style_loaded_ms"))
    reloads = len(phase.get("first_render_samples_ms", []))
    slowest = phase.get("first_render_max_ms")
    return {
        f"first render s{f' (median of {reloads})' if reloads else ''}": phase[
            "time_to_first_render_ms"
        ]
        / 1000,
        **({f"first render s (slowest of {reloads})": slowest / 1000} if slowest else {}),
        **({"basemap loaded s (median)": loaded_ms / 1000} if loaded_ms is not None else {}),
        "idle p95 ms": phase["frame_time_idle"]["p95_ms"],
        "updating p50 ms": phase["frame_time_updating"]["p50_ms"],
        "updating p95 ms": phase["frame_time_updating"]["p95_ms"],
        "updating fps": phase["frame_time_updating"]["fps"],
        "updates received /s": phase["updates_received_per_s"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--baseline", default="HEAD", help="git ref of the web app to compare against")
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--rate", type=int, default=1_000, help="track updates per second")
    ap.add_argument("--seconds", type=int, default=10, help="seconds per frame-time measurement")
    ap.add_argument("--reloads", type=int, default=5, help="page loads measured for first render")
    args = ap.parse_args()
    base_rev = subprocess.run(
        ["git", "rev-parse", "--short", args.baseline],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--", "web", "src"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    with tempfile.TemporaryDirectory(prefix="kizuna-web-map-") as tmp_s:
        tmp = Path(tmp_s)
        print(f"building baseline {args.baseline} ({base_rev}) and the working tree", flush=True)
        base_web = baseline_web(args.baseline, tmp)
        build(WEB)
        runs = {
            "baseline": measure(
                "baseline", base_web / "dist", tmp / "baseline.json", args, baseline_node(tmp)
            ),
            "current": measure("current", WEB / "dist", tmp / "current.json", args),
        }
    rows: list[list[Any]] = []
    for phase in ("node", "client"):
        b, c = figures(runs["baseline"][phase]), figures(runs["current"][phase])
        for key in list(dict.fromkeys([*b, *c])):
            rows.append([f"{phase}: {key}", b.get(key, "-"), c.get(key, "-")])
    print_table(
        f"web_map: {args.tracks:,} tracks, {args.rate:,} updates/s, {args.seconds} s per measurement; "
        f"baseline {args.baseline} ({base_rev}), current = working tree{' (uncommitted changes)' if dirty else ''}",
        ["figure", f"baseline {base_rev}", "current"],
        rows,
    )
    cur = figures(runs["current"]["node"])
    met = {
        "updating_p95_below_50_ms": bool(cur) and cur["updating p95 ms"] < TARGET_P95_MS,
        "first_render_below_1_5_s": bool(cur)
        and runs["current"]["node"]["time_to_first_render_ms"] / 1000 < TARGET_FIRST_RENDER_S,
    }
    print(
        f"\ntargets (node phase, current): updating p95 < {TARGET_P95_MS:g} ms "
        f"{'met' if met['updating_p95_below_50_ms'] else 'NOT met'}; first render < {TARGET_FIRST_RENDER_S:g} s "
        f"{'met' if met['first_render_below_1_5_s'] else 'NOT met'}"
    )
    out = write_json(
        "web_map",
        {
            "tracks": args.tracks,
            "update_rate_per_s": args.rate,
            "seconds_per_measurement": args.seconds,
            "first_render_reloads": args.reloads,
            "baseline_ref": args.baseline,
            "baseline_rev": base_rev,
            "current": "working tree"
            + (" (uncommitted changes under web/ or src/)" if dirty else ""),
            "targets": {
                "updating_p95_ms": TARGET_P95_MS,
                "first_render_s": TARGET_FIRST_RENDER_S,
                "met": met,
            },
            "baseline": runs["baseline"],
            "current_run": runs["current"],
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
