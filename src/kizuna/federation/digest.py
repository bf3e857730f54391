"""Convergence proof: a digest over the events two nodes should share.

The shared set is our events the agreement releases to the peer, plus the
peer's events we accepted. Both sides compute it from their own logs; once
links heal and queues drain the two digests are equal.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kizuna.core.errors import NotFound
from kizuna.federation.agreements import outbound_refusal
from kizuna.federation.peers import load_peers
from kizuna.node.runtime import Node
from kizuna.store.outbox import Outbox


def digest(node: Node, peer_id: str) -> dict[str, Any]:
    peers = load_peers(node)
    peer = peers.get(peer_id)
    if peer is None:
        raise NotFound(f"no peer {peer_id!r} configured on node {node.node_id}")
    events = Outbox(node.store).events_from((node.node_id, peer_id))
    keys = sorted(
        (e.origin, e.seq, e.hlc)
        for e in events
        if e.origin == peer_id or outbound_refusal(node.node_id, peer, e) is None
    )
    h = hashlib.sha256()
    for origin, seq, hlc in keys:
        h.update(f"{origin}:{seq}:{hlc}\n".encode())
    return {"node": node.node_id, "peer": peer_id, "count": len(keys), "digest": h.hexdigest()}
