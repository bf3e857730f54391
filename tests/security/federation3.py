"""Three federated node processes (usfj USA, jjoc JPN, aus AUS) with TAK TLS listeners,
users and TAK client certificates, set up as an operator would (``kizuna init``,
``kizuna peer add``), in parallel where the nodes are independent."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kizuna.core.labels import Classification
from tests.nodes import NodeProcess, free_port, kizuna
from tests.security.oracle import AGREEMENTS, NODES, Who, group_specs


def init_node(root: Path, node_id: str, nation: str) -> NodeProcess:
    directory = root / node_id
    groups = [arg for spec in group_specs(node_id) for arg in ("--group", spec)]
    kizuna(
        "init",
        "--dir",
        str(directory),
        "--node-id",
        node_id,
        "--nation",
        nation,
        "--port",
        str(free_port(2)),
        "--cot-port",
        "0",
        "--cot-tls-port",
        str(free_port(1)),
        *groups,
    )
    return NodeProcess(directory)


def tls_port(node: NodeProcess) -> int:
    return int(tomllib.loads((node.dir / "node.toml").read_text())["cot"]["tls_port"])


def peer_all(nodes: dict[str, NodeProcess]) -> None:
    """Every pair peered both ways under its agreement."""
    infos: dict[str, dict[str, Any]] = {}

    def export(node_id: str) -> None:
        import json

        directory = nodes[node_id].dir
        infos[node_id] = json.loads(kizuna("node", "info", "--dir", str(directory)).stdout)
        (directory / "exported-cert.pem").write_text(
            kizuna("node", "cert", "--dir", str(directory)).stdout
        )

    def add_peers(node_id: str) -> None:
        for other in nodes:
            if other == node_id:
                continue
            level = AGREEMENTS[frozenset((node_id, other))]
            kizuna(
                "peer",
                "add",
                "--dir",
                str(nodes[node_id].dir),
                "--peer-id",
                other,
                "--nation",
                NODES[other],
                "--url",
                infos[other]["federation_url"],
                "--cert",
                str(nodes[other].dir / "exported-cert.pem"),
                "--max-classification",
                level.name,
            )

    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(export, nodes))
        list(pool.map(add_peers, nodes))


def add_users(node: NodeProcess, users: Iterable[Who], roles: dict[str, list[str]]) -> None:
    """Users through the same code as `kizuna user add`, in this process (one CLI start
    per user would cost most of the test's time budget)."""
    from kizuna.node.runtime import Node
    from kizuna.node.users import make_user

    n = Node(node.dir, domains=[])
    try:
        for who in users:
            user, token = make_user(
                who.name,
                who.nation,
                who.clearance.marking,
                list(who.claims),
                roles.get(who.name, []),
                n.groups,
            )
            n.backend.users.add_user(user)
            n.audit.append("user.add", "test", "ok", name=user.name, nation=user.nation)
            who.token = token
    finally:
        n.close()


def tak_certs(node: NodeProcess, who: Who, out: Path) -> dict[str, Path]:
    """A TAK client certificate from the node's CA: `kizuna tak client-cert`."""
    groups = [arg for g in who.claims for arg in ("--group", g)]
    directory = out / who.name
    kizuna(
        "tak",
        "client-cert",
        "--dir",
        str(node.dir),
        "--name",
        who.name,
        "--nation",
        who.nation,
        "--clearance",
        who.clearance.marking,
        "--out",
        str(directory),
        *groups,
    )
    return {
        "cert": directory / f"{who.name}.pem",
        "key": directory / f"{who.name}.key",
        "ca": directory / "ca.pem",
    }


def start_all(nodes: dict[str, NodeProcess]) -> None:
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda n: n.start(), nodes.values()))


def stop_all(nodes: dict[str, NodeProcess]) -> None:
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda n: n.stop(), nodes.values()))


CLEARANCES = list(Classification)
