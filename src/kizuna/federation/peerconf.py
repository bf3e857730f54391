"""Changing a node's peers while it runs: locked, atomic edits of ``node.toml`` and ``peers/``.

The CLI (`kizuna peer add|set|revoke|join`) and a running node's enrolment endpoint both
edit the peers. Each edit holds an exclusive lock on ``.peers.lock`` in the node directory
and replaces files whole (write aside, then rename), so a running node that watches them
(:meth:`kizuna.federation.service.Federation.watch`) never reads half a file, and two
edits never lose each other's change (ADR 0019).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
from cryptography import x509

from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig, to_toml
from kizuna.kernel.pki import fingerprint

LOCK = ".peers.lock"


class PeerEditError(ValueError):
    """An edit that cannot be made (a peer that exists, or does not)."""


@contextlib.contextmanager
def locked(nd: NodeDir) -> Iterator[None]:
    """Hold the node directory's peer-edit lock (across processes)."""
    with (nd.root / LOCK).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)


def save_config(nd: NodeDir, config: NodeConfig) -> None:
    """``NodeDir.save``, but whole or not at all."""
    data = msgspec.to_builtins(config)
    plugins = data.pop("plugins", {})
    write_atomic(nd.config, to_toml({**data, **plugins}).encode("utf-8"))


def edit_peers(nd: NodeDir, change: Callable[[list[PeerConfig]], list[PeerConfig]]) -> NodeConfig:
    """Load the config, let ``change`` give the new peer list, save it (under the lock)."""
    with locked(nd):
        return edit_peers_unlocked(nd, change)


def edit_peers_unlocked(
    nd: NodeDir, change: Callable[[list[PeerConfig]], list[PeerConfig]]
) -> NodeConfig:
    config = nd.load()
    config.peers = change(list(config.peers))
    save_config(nd, config)
    return config


def leaf_of(pem: bytes) -> x509.Certificate:
    """The first certificate of a PEM bundle (a node certificate, then its CA)."""
    return x509.load_pem_x509_certificate(pem)


def pin(nd: NodeDir, peer_id: str, pem: bytes) -> str:
    """Pin a peer's certificate (``peers/<id>.pem``); its fingerprint."""
    nd.peers.mkdir(exist_ok=True)
    leaf = leaf_of(pem)
    write_atomic(nd.peers / f"{peer_id}.pem", pem)
    return fingerprint(leaf)


def unpin(nd: NodeDir, peer_id: str) -> None:
    """Move a peer's pinned certificate out of ``peers/`` (kept under ``peers/revoked/``)."""
    path = nd.peers / f"{peer_id}.pem"
    if not path.exists():
        return
    revoked = nd.peers / "revoked"
    revoked.mkdir(exist_ok=True)
    os.replace(path, revoked / f"{peer_id}-{int(time.time())}.pem")


def add_peer(nd: NodeDir, peer: PeerConfig, pem: bytes) -> NodeConfig:
    """Pin ``pem`` and record ``peer`` with its agreement, unless the peer exists."""

    def change(peers: list[PeerConfig]) -> list[PeerConfig]:
        if any(p.peer_id == peer.peer_id for p in peers):
            raise PeerEditError(f"peer {peer.peer_id!r} exists")
        pin(nd, peer.peer_id, pem)
        return [*peers, peer]

    return edit_peers(nd, change)


def remove_peer(nd: NodeDir, peer_id: str) -> PeerConfig:
    """Forget a peer: its agreement and its pinned certificate. The removed agreement."""
    removed: list[PeerConfig] = []

    def change(peers: list[PeerConfig]) -> list[PeerConfig]:
        removed.extend(p for p in peers if p.peer_id == peer_id)
        if not removed:
            raise PeerEditError(f"no peer {peer_id!r}")
        return [p for p in peers if p.peer_id != peer_id]

    with locked(nd):  # the agreement goes first: a watching node never lacks a pinned cert
        edit_peers_unlocked(nd, change)
        unpin(nd, peer_id)
    return removed[0]


def update_peer(nd: NodeDir, peer_id: str, **changes: object) -> PeerConfig:
    """Change fields of a peer's agreement (``types``, ``max_classification``, …)."""
    updated: list[PeerConfig] = []

    def change(peers: list[PeerConfig]) -> list[PeerConfig]:
        out = []
        for p in peers:
            if p.peer_id == peer_id:
                p = msgspec.structs.replace(p, **changes)
                updated.append(p)
            out.append(p)
        if not updated:
            raise PeerEditError(f"no peer {peer_id!r}")
        return out

    edit_peers(nd, change)
    return updated[0]
