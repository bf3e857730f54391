"""Real node processes for tests: init through the CLI, serve on loopback, talk HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

KIZUNA = [sys.executable, "-m", "kizuna.cli"]


# Ports for the nodes that tests start. A port taken from Linux's ephemeral range
# (32768-60999) can be taken by any outgoing connection between the moment it is picked
# and the moment the node binds it: CI once saw "federation port … already in use". These
# come from 10000-20999 instead, which no outgoing connection uses and the browser tests
# (21000-31000, web/playwright.config.ts) leave alone; each pytest-xdist worker has a block
# of its own, handed out in turn, so that two workers never pick the same port.
_PORTS_FROM, _PORTS_TO = 10_000, 21_000


def _worker_ports() -> range:
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % count
    size = (_PORTS_TO - _PORTS_FROM) // count
    return range(_PORTS_FROM + index * size, _PORTS_FROM + (index + 1) * size)


_BLOCK = _worker_ports()
_next = _BLOCK.start


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(span: int = 2) -> int:
    """A port p such that p .. p+span-1 are free on 127.0.0.1 now, from this worker's block
    and after those handed out before (nodes are often initialised before any of them binds)."""
    global _next
    for _ in range(len(_BLOCK)):
        port = _next
        if port + span > _BLOCK.stop:
            port = _BLOCK.start
        _next = port + span
        if all(_bindable(p) for p in range(port, port + span)):
            return port
    raise RuntimeError(f"no {span} free ports in {_BLOCK.start}-{_BLOCK.stop - 1}")


def kizuna(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*KIZUNA, *args], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"kizuna {' '.join(args)} failed: {proc.stderr}\n{proc.stdout}")
    return proc


def make_node_dir(directory: Path, node_id: str, nation: str, **options: Any) -> Path:
    port = options.pop("port", None) or free_port(2)
    args = [
        "init",
        "--dir",
        str(directory),
        "--node-id",
        node_id,
        "--nation",
        nation,
        "--port",
        str(port),
    ]
    # `kizuna init` turns CoT on at 8087/8089 by default; test nodes serve TAK clients only
    # when asked to, on the ports given (0 for the listener not given).
    if "cot_port" in options or "cot_tls_port" in options:
        options.setdefault("cot_port", 0)
        options.setdefault("cot_tls_port", 0)
    else:
        args.append("--no-cot")
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    kizuna(*args)
    return directory


def add_user(directory: Path, name: str, nation: str, clearance: str, *extra: str) -> str:
    out = kizuna(
        "user",
        "add",
        "--dir",
        str(directory),
        "--name",
        name,
        "--nation",
        nation,
        "--clearance",
        clearance,
        *extra,
    )
    return out.stdout.strip().splitlines()[-1]


class NodeProcess:
    def __init__(
        self, directory: Path, *, port: int | None = None, federation_port: int | None = None
    ) -> None:
        """A `kizuna serve` of ``directory``; with ``port`` (and ``federation_port``) one
        more worker of the same node on ports of its own (`serve --port --federation-port`)."""
        self.dir = directory
        self.proc: subprocess.Popen[bytes] | None = None
        text = (directory / "node.toml").read_text()
        self.port = port or int(
            next(ln.split("=")[1] for ln in text.splitlines() if ln.startswith("port "))
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.node_id = next(
            ln.split("=")[1].strip().strip('"')
            for ln in text.splitlines()
            if ln.startswith("node_id")
        )
        self.serve_args: list[str] = []
        if port is not None:
            self.serve_args += ["--port", str(port)]
        if federation_port is not None:
            self.serve_args += ["--federation-port", str(federation_port)]
        self.log = directory / ("node.log" if port is None else f"node-{port}.log")

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [*KIZUNA, "serve", "--dir", str(self.dir), *self.serve_args],
                stdout=fh,
                stderr=fh,
                env=env,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"node exited: {self.log.read_text()[-2000:]}")
            try:
                health = httpx.get(f"{self.url}/healthz", timeout=1)
                # The node id proves it is this node answering, not another on the port.
                if health.status_code == 200 and health.json()["node_id"] == self.node_id:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"node did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def user(self, name: str, nation: str, clearance: str, *extra: str) -> httpx.Client:
        token = add_user(self.dir, name, nation, clearance, *extra)
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


def node_info(directory: Path) -> dict[str, Any]:
    return dict(json.loads(kizuna("node", "info", "--dir", str(directory)).stdout))


def peer_one_way(
    a: Path, b: Path, *, url: str | None = None, transport: str | None = None, **agreement: Any
) -> None:
    """Tell node ``a`` about node ``b`` (url defaults to b's federation URL), over
    ``transport`` (`kizuna peer add --transport`; https by default)."""
    info = node_info(b)
    cert = b / "exported-cert.pem"
    cert.write_text(kizuna("node", "cert", "--dir", str(b)).stdout)
    args = [
        "peer",
        "add",
        "--dir",
        str(a),
        "--peer-id",
        info["node_id"],
        "--nation",
        info["nation"],
        "--url",
        url or info["federation_url"],
        "--cert",
        str(cert),
        *(["--transport", transport] if transport else []),
    ]
    for key, value in agreement.items():
        if value is True:
            args.append(f"--{key.replace('_', '-')}")
        else:
            args += [f"--{key.replace('_', '-')}", str(value)]
    kizuna(*args)


def peer_both(a: Path, b: Path, **agreement: Any) -> None:
    peer_one_way(a, b, **agreement)
    peer_one_way(b, a, **agreement)


def peer_client(directory: Path, peer: Path) -> httpx.Client:
    """Node ``directory``'s end of its mutual-TLS link to node ``peer`` (``peer_one_way``
    from ``directory`` to ``peer`` first): for hand-built batches, as a peer would send."""
    from kizuna.federation.tls import client_context
    from kizuna.kernel.config import NodeDir

    info = node_info(peer)
    nd = NodeDir(directory)
    ctx = client_context(nd, nd.peers / f"{info['node_id']}.pem")
    return httpx.Client(verify=ctx, base_url=info["federation_url"], timeout=30)


def post_batch(client: httpx.Client, stream: str, items: list[Any]) -> dict[str, Any]:
    """Post one batch of ``stream`` (Events, Tracks, …) in the federation wire format."""
    from kizuna.kernel.streams import BatchCodec

    body = BatchCodec(type(items[0])).encode(items)
    r = client.post(f"/federation/v1/{stream}", content=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    """One sample of the node's /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0
