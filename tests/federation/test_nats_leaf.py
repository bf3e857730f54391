"""Each nation its own NATS server, joined by a leaf-node connection (issue 11, part 3; ADR 0010).

The test starts its own servers on free loopback ports (never the shared one): a hub for JJOC's
side (Japan's server, account ``JPN``) and a leaf for USFJ's side (America's server) whose
leaf-node connection reaches the hub through a fault proxy. Each server has JetStream in a
domain of its own (``jpn``, ``usa``), so the JetStream API never crosses the leaf connection:
every node creates its streams on its own nation's server, and batches and acknowledgements
cross as plain subjects (ADR 0010, Deployment). The hub lets the leaf connection publish and
receive only the subjects of the USFJ–JJOC link (and reply inboxes).

Without the ``nats-server`` binary (or nats-py) the tests skip, or fail when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import Cluster
from tests.federation.test_federation import (
    NATIONS,
    digests_equal,
    titles,
    wait_until,
    write_reports,
)
from tests.nodes import free_port, metric, peer_one_way
from tests.support.faultproxy import FaultProxyClient, FaultProxyProcess

PREFIX = "kizuna"  # the transport's default subject prefix
RECEIVED = "kizuna_federation_received_total"
ROUTINE = 10_000
BATCH = 1_000  # reports per POST /api/v1/reports/batch
THIN = 64_000  # bits per second once the link returns


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: nats-server must be installed)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def nats_binary() -> str:
    try:
        import nats  # noqa: F401
    except ImportError:
        _unavailable("nats-py is not installed")
    binary = shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).exists()), None
    )
    if binary is None:
        _unavailable("no nats-server binary on PATH (or in /usr/sbin)")
    if "nats" not in {ep.name for ep in entry_points(group="kizuna.transports")}:
        pytest.fail("no `nats` entry point in kizuna.transports: reinstall the package")
    return str(binary)


class NatsServer:
    """One nats-server process of the test, configured from a file in its directory."""

    def __init__(self, binary: str, root: Path, name: str, domain: str, extra: str) -> None:
        self.binary = binary
        self.root = root
        self.name = name
        self.port = free_port(1)
        self.http_port = free_port(1)
        root.mkdir(parents=True)
        self.config = root / "nats.conf"
        self.config.write_text(
            f'server_name: "{name}"\n'
            f'listen: "127.0.0.1:{self.port}"\n'
            f'http: "127.0.0.1:{self.http_port}"\n'
            f'jetstream {{ store_dir: "{root / "jetstream"}", domain: "{domain}" }}\n'
            f"{extra}\n"
        )
        self.log = root / "nats.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=fh, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if self.monitor("healthz").get("status") == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not come up: {self.log.read_text()[-2000:]}")

    def monitor(self, endpoint: str) -> dict[str, Any]:
        r = httpx.get(f"http://127.0.0.1:{self.http_port}/{endpoint}", timeout=2)
        return dict(r.json())

    def leafs(self) -> int:
        """Leaf-node connections this server holds now."""
        return len(self.monitor("leafz").get("leafs") or [])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Nations:
    """Japan's hub and America's leaf, the leaf connection through a fault proxy."""

    def __init__(self, binary: str, root: Path) -> None:
        self.jjoc_password = secrets.token_hex(8)
        leaf_password = secrets.token_hex(8)
        leaf_port = free_port(1)
        # Between the nations, a link that can be cut and thinned.
        self.proxy_proc = FaultProxyProcess("127.0.0.1", leaf_port)
        self.proxy: FaultProxyClient = self.proxy_proc.start()
        through = f"127.0.0.1:{self.proxy_proc.listen_port}"
        # What the leaf connection may carry: the USFJ-JJOC link's subjects (batches, acks,
        # questions, either way) and reply inboxes; JetStream's API stays in each domain.
        self.hub = NatsServer(
            binary,
            root / "hub",
            "jpn-hub",
            "jpn",
            f"""
accounts {{
  JPN {{
    jetstream: enabled
    users: [
      {{ user: "jjoc", password: "{self.jjoc_password}" }}
      {{ user: "usa-leaf", password: "{leaf_password}", permissions: {{
          publish: ["{PREFIX}.*.jjoc.usfj.>", "_INBOX.>"]
          subscribe: ["{PREFIX}.*.usfj.jjoc.>", "_INBOX.>"] }} }}
    ]
  }}
}}
# The hub's INFO names the address leaves reconnect to: the proxy's, or a leaf would go
# round a cut straight to this listener (no_advertise does not drop it from leafnode_urls).
leafnodes {{ listen: "127.0.0.1:{leaf_port}", advertise: "{through}" }}
""",
        )
        self.hub.start()
        hub_side = f"usa-leaf:{leaf_password}@{through}"
        self.leaf = NatsServer(
            binary,
            root / "leaf",
            "usa-leaf",
            "usa",
            f'leafnodes {{ reconnect: 1, remotes: [ {{ url: "nats-leaf://{hub_side}" }} ] }}',
        )
        self.leaf.start()
        wait_until(lambda: self.hub.leafs() == 1, 15, "the leaf connection")

    @property
    def hub_url(self) -> str:
        """JJOC's server, as JJOC's node.toml names it."""
        return f"nats://jjoc:{self.jjoc_password}@127.0.0.1:{self.hub.port}"

    @property
    def leaf_url(self) -> str:
        """USFJ's server, as USFJ's node.toml names it."""
        return f"nats://127.0.0.1:{self.leaf.port}"

    def stop(self) -> None:
        self.leaf.stop()
        self.proxy_proc.stop()
        self.hub.stop()


@pytest.fixture
def nations(nats_binary: str, tmp_path: Path) -> Iterator[Nations]:
    servers = Nations(nats_binary, tmp_path / "nats")
    yield servers
    servers.stop()


@pytest.fixture
def leaf_cluster(cluster: Cluster, nations: Nations) -> Iterator[Cluster]:
    """The nodes, stopped before their NATS servers."""
    yield cluster
    cluster.stop()


async def _session(url: str, call: Any) -> Any:
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        return await call(nc)
    finally:
        await nc.close()


def streams(url: str) -> dict[str, int]:
    """Stream name to messages stored, on the server at ``url`` (its own domain)."""

    async def call(nc: Any) -> dict[str, int]:
        infos = await nc.jetstream().streams_info()
        return {i.config.name: int(i.state.messages) for i in infos if i.config.name}

    return dict(asyncio.run(_session(url, call)))


def received(node: Any, peer: str) -> int:
    with httpx.Client(base_url=node.url, timeout=30) as c:
        return int(metric(c, RECEIVED, peer=peer))


def _names(me: str, peer: str) -> Any:
    from kizuna.federation.nats_wire import Names

    return Names(PREFIX, me, peer)


# -- the leaf connection itself --------------------------------------------------------------


def test_the_leaf_connection_carries_only_the_links_subjects(nations: Nations) -> None:
    """A subject of another pair never crosses between the nations' servers, either way."""

    async def exchange() -> tuple[list[str], list[str]]:
        import nats

        hub = await nats.connect(nations.hub_url, connect_timeout=2)
        leaf = await nats.connect(nations.leaf_url, connect_timeout=2)
        at_hub: list[str] = []
        at_leaf: list[str] = []

        async def on_hub(msg: Any) -> None:
            at_hub.append(msg.subject)

        async def on_leaf(msg: Any) -> None:
            at_leaf.append(msg.subject)

        try:
            for subject in (f"{PREFIX}.probe.jjoc.usfj.x", f"{PREFIX}.probe.jjoc.aus.x"):
                await hub.subscribe(subject, cb=on_hub)
            for subject in (f"{PREFIX}.probe.usfj.jjoc.x", f"{PREFIX}.probe.aus.jjoc.x"):
                await leaf.subscribe(subject, cb=on_leaf)
            await asyncio.sleep(1.0)  # interest crosses the leaf connection
            for subject in (f"{PREFIX}.probe.jjoc.usfj.x", f"{PREFIX}.probe.jjoc.aus.x"):
                await leaf.publish(subject, b"from the leaf")
            for subject in (f"{PREFIX}.probe.usfj.jjoc.x", f"{PREFIX}.probe.aus.jjoc.x"):
                await hub.publish(subject, b"from the hub")
            await leaf.flush()
            await hub.flush()
            await asyncio.sleep(1.0)
        finally:
            await hub.close()
            await leaf.close()
        return at_hub, at_leaf

    at_hub, at_leaf = asyncio.run(exchange())
    assert at_hub == [f"{PREFIX}.probe.jjoc.usfj.x"]
    assert at_leaf == [f"{PREFIX}.probe.usfj.jjoc.x"]


# -- three real nodes ---------------------------------------------------------------------------


def test_leaf_link_cut_for_a_backlog_then_flash_first_at_64_kbits(
    leaf_cluster: Cluster, nations: Nations
) -> None:
    """USFJ–JJOC over NATS (leaf to hub), AUS over HTTPS to both. The leaf connection is cut
    while 10,000 ROUTINE reports queue at USFJ; a FLASH written last arrives first once the
    link returns at 64 kbit/s; then everything arrives once, and every pair's digests match."""
    cluster = leaf_cluster
    for node_id, nation in NATIONS.items():
        cluster.node(node_id, nation)
    us_node, jp_node, au_node = (cluster.nodes[n] for n in ("usfj", "jjoc", "aus"))
    # Each node names its own nation's server for the link.
    peer_one_way(us_node.dir, jp_node.dir, url=nations.leaf_url, transport="nats")
    peer_one_way(jp_node.dir, us_node.dir, url=nations.hub_url, transport="nats")
    cluster.link("usfj", "aus")
    cluster.link("jjoc", "aus")
    cluster.start()
    us = us_node.user("alice", "USA", "SECRET")
    jp = jp_node.user("kenji", "JPN", "SECRET")
    au = au_node.user("bruce", "AUS", "SECRET")

    write_reports(us, ["S//REL TO USA, AUS, JPN"] * 3, "us warm-up")
    write_reports(jp, ["S//REL TO USA, AUS, JPN"] * 3, "jp warm-up")
    wait_until(lambda: len(titles(jp)) == 6, 60, "usfj -> jjoc over the leaf")
    wait_until(lambda: len(titles(us)) == 6, 60, "jjoc -> usfj over the leaf")
    wait_until(lambda: len(titles(au)) == 6, 60, "aus over HTTPS")
    # What each node has received from its peer by now: the warm-up and, before it, the
    # records every node writes when it first starts (its access arrangements, …).
    jp_base, us_base = received(jp_node, "usfj"), received(us_node, "jjoc")
    au_base = received(au_node, "usfj")
    assert jp_base >= 3 and us_base >= 3 and au_base >= 3

    # Each node's streams are on its own nation's server, none on the other's.
    at_hub, at_leaf = streams(nations.hub_url), streams(nations.leaf_url)
    jp_names, us_names = _names("jjoc", "usfj"), _names("usfj", "jjoc")
    assert set(at_hub) == {jp_names.inbound_stream, jp_names.ack_stream}
    assert set(at_leaf) == {us_names.inbound_stream, us_names.ack_stream}

    # The leaf connection is cut; the nodes keep their own servers.
    proxy = nations.proxy
    proxy.cut()
    wait_until(lambda: nations.hub.leafs() == 0, 15, "the leaf connection cut")
    labels = ["S//REL TO USA, JPN", "S//REL TO USA, AUS, JPN"]
    for k in range(ROUTINE // BATCH):
        body = [
            {"label": labels[i % 2], "title": {"en": f"routine-{k} {i}", "ja": f"定常-{k} {i}"}}
            for i in range(BATCH)
        ]
        r = us.post("/api/v1/reports/batch", json=body)
        assert r.status_code == 201, r.text
    back = [
        {"label": "S//REL TO USA, JPN", "title": {"en": f"jp-cut {i}", "ja": f"遮断 {i}"}}
        for i in range(200)
    ]
    r = jp.post("/api/v1/reports/batch", json=back)
    assert r.status_code == 201, r.text
    r = us.post(
        "/api/v1/reports",
        json={"label": "S//REL TO USA, JPN", "precedence": "FLASH", "title": {"en": "FLASH"}},
    )
    assert r.status_code == 201, r.text
    flash = r.json()["id"]
    # The HTTPS links carry on meanwhile: AUS gets its half of the backlog.
    wait_until(
        lambda: received(au_node, "usfj") == au_base + ROUTINE // 2,
        60,
        "usfj -> aus during the cut",
    )
    time.sleep(2)  # the NATS link fails a few more sends (no responders behind the cut)
    assert received(jp_node, "usfj") == jp_base, "something crossed the cut leaf connection"
    assert nations.hub.leafs() == 0

    # The link returns thin: the FLASH arrives ahead of the backlog queued before it.
    proxy.throttle(THIN)
    proxy.heal()
    healed = time.monotonic()
    # Sampled until the FLASH is visible: each sample reads JJOC's count of events applied
    # from USFJ, then whether the FLASH is there. A count above the warm-up while the FLASH
    # is still absent would be ROUTINE delivered ahead of it.
    ahead = samples = 0
    while jp.get(f"/api/v1/reports/{flash}").status_code != 200:
        assert time.monotonic() - healed < 45, "the FLASH was not delivered"
        count = received(jp_node, "usfj") - jp_base
        if jp.get(f"/api/v1/reports/{flash}").status_code == 200:
            break
        ahead, samples = max(ahead, count), samples + 1
        time.sleep(0.05)
    took = time.monotonic() - healed
    with_it = received(jp_node, "usfj") - jp_base - 1
    stats = proxy.stats
    assert nations.hub.leafs() == 1 and stats.throttle_bps == THIN
    assert ahead == 0, f"{ahead} ROUTINE reports were applied before the FLASH"
    # Its batch (sized down while the link failed) and the next few thin ones, by the time
    # it is seen: a sliver of the backlog.
    assert with_it < 300, f"{with_it} ROUTINE reports arrived with the FLASH"
    assert took < 30, f"the FLASH took {took:.1f} s after the link returned"
    print(
        f"\nFLASH at JJOC {took:.1f} s after the leaf link returned at {THIN // 1000} kbit/s; "
        f"none of the {ROUTINE:,} ROUTINE before it, {with_it} applied by the time it was seen "
        f"({samples} samples before; {stats.bytes_up + stats.bytes_down:,} bytes through the proxy)"
    )

    # Full speed again: the backlogs drain both ways, each event applied once.
    proxy.throttle(None)
    wait_until(
        lambda: received(jp_node, "usfj") == jp_base + ROUTINE + 1, 90, "the backlog at jjoc"
    )
    wait_until(lambda: received(us_node, "jjoc") == us_base + 200, 60, "jjoc's backlog at usfj")
    auditors = {
        nid: cluster.nodes[nid].user(f"a-{nid}", NATIONS[nid], "TOP SECRET") for nid in NATIONS
    }

    def agree(a: str, b: str) -> bool:
        return digests_equal(auditors[a], auditors[b], a, b)

    for a, b in (("usfj", "jjoc"), ("usfj", "aus"), ("jjoc", "aus")):
        wait_until(partial(agree, a, b), 30, f"{a}/{b} digests")
    held = {nid: titles(client) for nid, client in auditors.items()}
    for nid, got in held.items():
        assert len(got) == len(set(got)), f"{nid} holds duplicates"
    everything = 3 + 3 + ROUTINE + 1 + 200
    assert len(held["usfj"]) == len(held["jjoc"]) == everything
    assert len(held["aus"]) == 3 + 3 + ROUTINE // 2
    assert "FLASH" in held["jjoc"] and "FLASH" not in held["aus"]
    # The work-queue streams are empty: every batch was applied and acknowledged.
    wait_until(lambda: streams(nations.hub_url)[jp_names.inbound_stream] == 0, 30, "hub drained")
    wait_until(lambda: streams(nations.leaf_url)[us_names.inbound_stream] == 0, 30, "leaf drained")
