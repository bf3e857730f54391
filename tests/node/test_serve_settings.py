"""`kizuna serve --set TABLE.KEY=VALUE`: a worker's own plugin settings (its CoT port)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from kizuna.core.time import iso
from tests.nodes import NodeProcess, free_port, kizuna, make_node_dir


def _cot(uid: str) -> bytes:
    now = time.time()
    return (
        f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" time="{iso(now)}" '
        f'start="{iso(now)}" stale="{iso(now + 300)}"><point lat="35.45" lon="139.64" '
        f'hae="0" ce="10" le="10"/><detail><contact callsign="{uid}"/></detail></event>'
    ).encode()


def test_a_worker_listens_for_tak_clients_on_the_port_it_is_given(tmp_path: Path) -> None:
    configured, own = free_port(1), free_port(1)
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA", cot_port=configured)
    worker = NodeProcess(directory)
    worker.serve_args += ["--set", f"cot.tcp_port={own}"]
    worker.start()
    try:
        watch = worker.user("watch", "USA", "SECRET")
        with socket.create_connection(("127.0.0.1", own), timeout=5) as conn:
            conn.sendall(_cot("WORKER-2"))
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                ids = {t["id"] for t in watch.get("/api/v1/tracks").json()}
                if any("WORKER-2" in i for i in ids):
                    break
                time.sleep(0.2)
            else:
                raise AssertionError("the CoT track sent to the worker's own port never arrived")
        # The configured port is left to the other worker.
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", configured)) != 0
    finally:
        worker.stop()


def test_a_bad_setting_ends_with_one_clear_line(tmp_path: Path) -> None:
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    for bad, says in (
        ("cot_tcp_port=1", "expected TABLE.KEY=VALUE"),
        ("cot.tcp_port=high", "[cot] settings"),
    ):
        out = kizuna("serve", "--dir", str(directory), "--set", bad, check=False)
        assert out.returncode != 0
        assert says in out.stderr and "Traceback" not in out.stderr
