"""Sharing agreements: what may flow to a peer and what a peer may send us.

Every decision goes through :func:`kizuna.core.release.may_release` with the
peer node as the principal (its nation, and the agreement's highest
classification as its clearance).
"""

from __future__ import annotations

from kizuna.core.labels import Classification, GroupRegistry
from kizuna.core.records import Event
from kizuna.core.release import Principal, make_principal, may_release
from kizuna.kernel.config import PeerConfig
from kizuna.picture.models import Track

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


FEDERATED = "federation:"


def relayed_from(track: Track) -> str | None:
    """The peer a track observation came from, if it arrived by federation."""
    for prov in track.sources[:1]:
        if prov.connection.startswith(FEDERATED):
            return prov.connection[len(FEDERATED) :]
    return None


def outbound_track_refusal(peer: Peer, track: Track) -> str | None:
    """Why a track observation may not go to ``peer`` (None: it may)."""
    if "track" not in peer.types:
        return "type"
    came_from = relayed_from(track)
    if came_from is not None and (came_from == peer.id or not peer.config.relay):
        return "relay"
    if not may_release(track.label, peer.principal):
        return "label"
    return None


def inbound_track_refusal(me: Principal, peer: Peer, track: Track) -> str | None:
    if "track" not in peer.types:
        return "type"
    if relayed_from(track) is not None and not peer.config.relay:
        return "relay"
    if track.label.classification > peer.principal.clearance:
        return "above_agreement"
    if not may_release(track.label, me):
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
