"""Federations of real node processes on loopback, optionally behind fault proxies."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.nodes import NodeProcess, kizuna, make_node_dir, node_info, peer_one_way
from tests.support.faultproxy import FaultProxyClient, FaultProxyProcess


class Cluster:
    """Nodes, their links and the fault proxies in between."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: dict[str, NodeProcess] = {}
        self.proxies: dict[tuple[str, str], tuple[FaultProxyProcess, FaultProxyClient]] = {}

    def node(self, node_id: str, nation: str, **options: Any) -> NodeProcess:
        """A node initialised with `kizuna init` ``options`` (``group="ACM=USA,JPN,KOR"``)."""
        directory = make_node_dir(self.root / node_id, node_id, nation, **options)
        self.nodes[node_id] = NodeProcess(directory)
        return self.nodes[node_id]

    def link(
        self,
        a: str,
        b: str,
        *,
        proxied: bool = False,
        transport: str | None = None,
        url: str | None = None,
        **agreement: Any,
    ) -> None:
        """Peer a and b both ways; with ``proxied`` a's traffic to b goes through a fault proxy.
        ``transport`` and ``url`` (both ways) select another transport (``"nats"``)."""
        for src, dst in ((a, b), (b, a)):
            peer_url = url
            if proxied:
                port = int(node_info(self.nodes[dst].dir)["federation_url"].rsplit(":", 1)[1])
                proc = FaultProxyProcess("127.0.0.1", port)
                client = proc.start()
                self.proxies[(src, dst)] = (proc, client)
                peer_url = f"https://127.0.0.1:{proc.listen_port}"
            peer_one_way(
                self.nodes[src].dir,
                self.nodes[dst].dir,
                url=peer_url,
                transport=transport,
                **agreement,
            )

    def invite(self, inviter: str, peer_id: str, nation: str, **options: Any) -> str:
        """`kizuna peer invite` on ``inviter``: the one-time token (options: ``types``,
        ``max_classification``, ``expires``)."""
        args = ["peer", "invite", "--dir", str(self.nodes[inviter].dir)]
        args += ["--peer-id", peer_id, "--nation", nation]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        return kizuna(*args).stdout.strip().splitlines()[-1]

    def join(
        self, joiner: str | Path, token: str, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`kizuna peer join` on ``joiner`` (a node of the cluster, or a node directory)."""
        directory = self.nodes[joiner].dir if isinstance(joiner, str) else joiner
        return kizuna("peer", "join", "--dir", str(directory), token, check=check)

    def proxy(self, src: str, dst: str) -> FaultProxyClient:
        return self.proxies[(src, dst)][1]

    def start(self) -> None:
        for node in self.nodes.values():
            node.start()

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        for proc, _ in self.proxies.values():
            proc.stop()
