"""Sharing agreements: what may flow to a peer and what a peer may send us.

Every decision goes through :func:`kizuna.core.release.may_release` with the
peer node as the principal (its nation, and the agreement's highest
classification as its clearance).
"""

from __future__ import annotations

from kizuna.core.labels import Classification, GroupRegistry
from kizuna.core.records import Event
from kizuna.core.release import Principal, make_principal, may_release
from kizuna.node.config import PeerConfig

MAX_HOPS = 3


class Peer:
    """A configured peer with its agreement, as the release check sees it."""

    def __init__(self, config: PeerConfig, registry: GroupRegistry, fingerprint: str) -> None:
        self.config = config
        self.id = config.peer_id
        self.fingerprint = fingerprint
        self.types = frozenset(config.types)
        self.principal: Principal = make_principal(
            config.nation,
            Classification.parse(config.max_classification),
            [g for g in config.groups if g in registry],
            name=f"node:{config.peer_id}",
            registry=registry,
        )


def outbound_refusal(node_id: str, peer: Peer, event: Event) -> str | None:
    """Why ``event`` may not go to ``peer`` (None: it may)."""
    if event.origin == peer.id:
        return "echo"
    if event.record_type not in peer.types:
        return "type"
    if event.origin != node_id:
        if not peer.config.relay:
            return "relay"
        if event.hops + 1 >= MAX_HOPS:
            return "hops"
    if not may_release(event.label, peer.principal):
        return "label"
    return None


def inbound_refusal(node_id: str, me: Principal, peer: Peer, event: Event) -> str | None:
    """Why an event received from ``peer`` must be refused (None: accept).

    ``me`` is this node as a principal: what the sender may release to us.
    """
    if event.origin == node_id:
        return "own"
    if event.record_type not in peer.types:
        return "type"
    if event.origin != peer.id and not peer.config.relay:
        return "relay"
    if event.hops >= MAX_HOPS:
        return "hops"
    if event.label.classification > peer.principal.clearance:
        return "above_agreement"
    if not may_release(event.label, me):
        return "label"
    return None
