"""Sharing agreements and the refusal rules: one set for every federated stream.

An item (an event of the log, a track, any domain's record) is judged by its
:class:`~kizuna.kernel.streams.Envelope` and the *kind* the agreement lists
(the record type of an event, the name of any other stream). The same rules
run when we send and when we receive:

* **type**: the kind must be in the peer's agreement;
* **echo** / **own**: nothing goes back where it came from;
* **relay**: an item that arrived from elsewhere moves on only under ``relay``;
* **hops**: nothing crosses more than :data:`MAX_HOPS` links;
* **above_agreement** (receipt): nothing above the agreement's classification;
* **label**: :func:`kizuna.core.release.may_release` to the peer node (send) or
  to this node (receipt).

``relayed_from`` is relative to whoever holds the item: on send, the peer that
delivered it to us (None: ours); on receipt, the node that delivered it to the
sender (None: the sender's own).
"""

from __future__ import annotations

from kizuna.core.labels import Classification, GroupRegistry
from kizuna.core.records import Event
from kizuna.core.release import Principal, make_principal, may_release
from kizuna.kernel.config import PeerConfig
from kizuna.kernel.streams import Envelope

MAX_HOPS = 3
EVENTS = "events"  # the event log's stream; its kinds are the record types


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


def event_envelope(event: Event, holder: str) -> Envelope:
    """An event as the rules see it in the log of ``holder``: this node when we send it,
    the sending peer when we receive it. An event not originated by its holder was relayed."""
    origin = event.origin
    return Envelope(
        label=event.label,
        origin=origin,
        relayed_from=None if origin == holder else origin,
        hops=event.hops,
    )


def send_refusal(peer: Peer, kind: str, env: Envelope) -> str | None:
    """Why an item of ``kind`` may not go from this node to ``peer`` (None: it may)."""
    if env.origin == peer.id or env.relayed_from == peer.id:
        return "echo"
    if kind not in peer.types:
        return "type"
    if env.relayed_from is not None:
        if not peer.config.relay:
            return "relay"
        if env.hops + 1 >= MAX_HOPS:
            return "hops"
    if not may_release(env.label, peer.principal):
        return "label"
    return None


def receipt_refusal(
    node_id: str, me: Principal, peer: Peer, kind: str, env: Envelope
) -> str | None:
    """Why an item of ``kind`` received from ``peer`` must be refused (None: accept).

    ``me`` is this node as a principal: what the sender may release to us.
    """
    if env.origin == node_id or env.relayed_from == node_id:
        return "own"
    if kind not in peer.types:
        return "type"
    if env.relayed_from is not None and not peer.config.relay:
        return "relay"
    if env.hops >= MAX_HOPS:
        return "hops"
    if env.label.classification > peer.principal.clearance:
        return "above_agreement"
    if not may_release(env.label, me):
        return "label"
    return None
