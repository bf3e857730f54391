"""The node as federation sees it, and its configured peers with their pinned certificates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from kizuna.federation.rules import Peer
from kizuna.federation.tls import leaf_fingerprint
from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import RecordType
from kizuna.kernel.metrics import Metrics
from kizuna.kernel.streams import FederatedStream, PeerEndpoint
from kizuna.store.audit import AuditLog
from kizuna.store.base import Backend


class FederatedNode(Protocol):
    """What federation needs of an assembled node (``kizuna.node.runtime.Node`` is one)."""

    context: NodeContext
    config: NodeConfig
    dir: NodeDir
    backend: Backend
    metrics: Metrics
    audit: AuditLog
    record_types: dict[str, RecordType]  # with their ownership rules, judged at receipt

    def streams(self) -> Sequence[FederatedStream[Any]]: ...

    def refuse(self, reason: str, actor: str, **details: object) -> None: ...


def peer_file(node_dir: NodeDir, peer_id: str) -> Path:
    path: Path = node_dir.peers / f"{peer_id}.pem"
    return path


def load_peers(node: FederatedNode, configs: Sequence[PeerConfig] | None = None) -> dict[str, Peer]:
    """The node's peers (or those of ``configs``) with their pinned fingerprints."""
    peers = {}
    for cfg in node.config.peers if configs is None else configs:
        path = peer_file(node.dir, cfg.peer_id)
        peers[cfg.peer_id] = Peer(cfg, node.context.groups, leaf_fingerprint(path))
    return peers


def endpoint(node_dir: NodeDir, peer: Peer) -> PeerEndpoint:
    """The peer as a transport needs it."""
    return PeerEndpoint(
        peer_id=peer.id,
        url=peer.config.url,
        cert_path=str(peer_file(node_dir, peer.id)),
        fingerprint=peer.fingerprint,
    )
