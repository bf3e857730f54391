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
* **group_label**: a node-defined group (ACM, …) never crosses a link: our own items
  leave with each such group expanded to the nations we define it with
  (:func:`~kizuna.kernel.contract.expand_groups`, ADR 0007), so a label with one is
  refused on receipt, and not relayed;
* **label**: :func:`kizuna.core.release.may_release` to the peer node (send) or
  to this node (receipt).

Past these, the receiver judges each event by its record type's ownership rule
(:class:`~kizuna.kernel.contract.RecordType` ``owner``), and a stream by its own
``refusal`` if it has one (:mod:`kizuna.federation.service`).

``relayed_from`` is relative to whoever holds the item: on send, the peer that
delivered it to us (None: ours); on receipt, the node that delivered it to the
sender (None: the sender's own).
"""

from __future__ import annotations

from kizuna.core.labels import Classification, GroupRegistry
from kizuna.core.records import Event
from kizuna.core.release import Principal, make_principal, may_release
from kizuna.kernel.config import PeerConfig
from kizuna.kernel.contract import node_groups
from kizuna.kernel.streams import Envelope

MAX_HOPS = 3
EVENTS = "events"  # the event log's stream; its kinds are the record types


class Peer:
    """A configured peer with its agreement, as the release check sees it."""

    def __init__(self, config: PeerConfig, registry: GroupRegistry, fingerprint: str) -> None:
        self.config = config
        self.id = config.peer_id
        self.fingerprint = fingerprint
        self.registry = registry  # ours: what our node-defined groups expand to
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
    groups = node_groups(env.label)
    if groups and (env.relayed_from is not None or any(g not in peer.registry for g in groups)):
        # Ours go out expanded; one we hold from elsewhere (or cannot expand) cannot.
        return "group_label"
    if not may_release(env.label, peer.principal):
        return "label"
    return None


def wire_refusal(env: Envelope) -> str | None:
    """Why an item, prepared for the wire, may still not go: a node-defined group left in
    its label (a stream that does not expand them fails closed)."""
    return "group_label" if node_groups(env.label) else None


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
    if node_groups(env.label):
        return "group_label"  # the sender's definition is not ours to guess (ADR 0007)
    if not may_release(env.label, me):
        return "label"
    return None
