"""Configured peers of a node, loaded with their pinned certificates."""

from __future__ import annotations

from pathlib import Path

from kizuna.core.labels import Classification
from kizuna.core.release import Principal, make_principal
from kizuna.federation.agreements import Peer
from kizuna.federation.tls import leaf_fingerprint
from kizuna.node.runtime import Node


def peer_file(node: Node, peer_id: str) -> Path:
    return node.dir.peers / f"{peer_id}.pem"


def load_peers(node: Node) -> dict[str, Peer]:
    peers = {}
    for cfg in node.config.peers:
        path = peer_file(node, cfg.peer_id)
        peers[cfg.peer_id] = Peer(cfg, node.groups, leaf_fingerprint(path))
    return peers


def self_principal(node: Node) -> Principal:
    """This node as a recipient: its nation, any classification."""
    return make_principal(
        node.nation, Classification.TOP_SECRET, registry=node.groups, name=f"node:{node.node_id}"
    )
