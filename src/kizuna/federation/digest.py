"""Convergence proof: a digest over the events two nodes should share.

The shared set is our events the agreement releases to the peer, plus the
peer's events we accepted. Both sides compute it from their own logs; once
links heal and queues drain the two digests are equal.
"""

from __future__ import annotations

import hashlib

import msgspec

from kizuna.core.catalog import Catalog
from kizuna.core.errors import NotFound
from kizuna.federation.peers import FederatedNode, load_peers
from kizuna.federation.rules import Peer, event_envelope, send_refusal
from kizuna.store.base import Outbox

CATALOG = Catalog("kizuna.federation")


class Digest(msgspec.Struct, kw_only=True):
    node: str
    peer: str
    count: int
    digest: str


def digest(outbox: Outbox, node_id: str, peer: Peer) -> Digest:
    events = outbox.events_from((node_id, peer.id))
    keys = sorted(
        (e.origin, e.seq, e.hlc)
        for e in events
        if e.origin == peer.id
        or send_refusal(peer, e.record_type, event_envelope(e, node_id)) is None
    )
    h = hashlib.sha256()
    for origin, seq, hlc in keys:
        h.update(f"{origin}:{seq}:{hlc}\n".encode())
    return Digest(node=node_id, peer=peer.id, count=len(keys), digest=h.hexdigest())


def peer_digest(node: FederatedNode, peer_id: str, peers: dict[str, Peer] | None = None) -> Digest:
    """The digest of an opened node towards one of its peers (NotFound: no such peer)."""
    peers = load_peers(node) if peers is None else peers
    peer = peers.get(peer_id)
    if peer is None:
        raise NotFound(CATALOG.msg("digest.no-peer", peer=peer_id, node=node.context.node_id))
    return digest(node.backend.outbox, node.context.node_id, peer)
