"""Abusive WebSocket sessions against a real node process on loopback (issue 17).

Rounds of sessions that subscribe and then send bad messages until the server ends them
(MAX_BAD_MESSAGES), with per-message compression as clients negotiate by default. After
each round: the node's resident memory, idle CPU over a second, open sessions and sockets.
At the end: the time from SIGTERM to the end of the process.

    .venv/bin/python bench/ws_abuse.py --rounds 20 --per-round 100
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.e2e.test_abuse import (  # noqa: E402
    abuse,
    cpu_seconds,
    rss_kib,
    sockets_open,
    ws_sessions,
)
from tests.nodes import NodeProcess, add_user, make_node_dir  # noqa: E402

from _common import print_table, write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kizuna-ws-abuse-") as tmp:
        directory = make_node_dir(Path(tmp) / "usfj", "usfj", "USA")
        token = add_user(directory, "alice", "USA", "SECRET")
        node = NodeProcess(directory)
        node.start()
        assert node.proc is not None
        pid = node.proc.pid
        url = f"ws://127.0.0.1:{node.port}/api/v1/ws?token={token}"
        rows = []
        try:
            for n in range(args.rounds):
                started = time.monotonic()
                outcomes = asyncio.run(abuse(url, args.per_round))
                took = time.monotonic() - started
                time.sleep(0.5)
                cpu = cpu_seconds(pid)
                time.sleep(1)
                idle = cpu_seconds(pid) - cpu
                rows.append(
                    [
                        (n + 1) * args.per_round,
                        round(took, 2),
                        rss_kib(pid),
                        round(idle, 3),
                        ws_sessions(node),
                        sockets_open(pid),
                        ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())),
                    ]
                )
        finally:
            start = time.monotonic()
            node.proc.send_signal(signal.SIGTERM)
            node.proc.wait(timeout=30)
            stop = time.monotonic() - start
    headers = ["sessions", "round s", "RSS KiB", "idle CPU s/s", "open", "sockets", "outcomes"]
    print_table("Abusive WebSocket sessions", headers, rows)
    print(f"\nSIGTERM to exit: {stop:.2f} s (exit status {node.proc.returncode})")
    path = write_json(
        "ws_abuse",
        {
            "rounds": [dict(zip(headers, row, strict=True)) for row in rows],
            "sigterm_seconds": stop,
            "exit_status": node.proc.returncode,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
