"""The one ingress rule: who originates what is written on a node, and what a writer may label.

Every path that writes labelled content on a node asks this module (ADR 0006): the API
(through :func:`kizuna.kernel.access.label_for_write`), CoT from TAK clients, AIS and other
feeds for their default label, imports.

1. **The originator is the host node's nation.** Whoever writes — a user, a TAK client, a
   feed — writes under the policy of the node it writes on. A PHL TAK client on a JPN node
   is a *writer* of JPN-originated information, never an originator of its own.
2. **A write is refused** unless its label is releasable to the writer (its principal, built
   with the node's groups) and to the host node's nation, and is not above the writer's
   clearance. A writer therefore can never lock itself out of what it wrote, nor mark it
   for a nation that then holds it while the writer's own nation does not.

Federation is not ingress: a received record keeps its origin's label and is decided by
``federation/rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from kizuna.core.labels import Classification, GroupRegistry, Label, make_label, parse_label
from kizuna.core.release import Principal, make_principal, may_release


class Refusal:
    """Why a write was refused: a short ``reason`` (metrics, audit) and an English message."""

    __slots__ = ("message", "reason")

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"Refusal({self.reason!r}, {self.message!r})"


class IngressRefused(Exception):
    """A write the ingress rule refuses; ``reason`` as in :class:`Refusal`."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.reason = refusal.reason
        self.refusal = refusal


class IngressRule:
    """The rule for one node: its nation originates, its groups are the ones known.

    Get one with :func:`rule` (built once per nation and registry).
    """

    def __init__(self, nation: str, groups: GroupRegistry) -> None:
        self.groups = groups
        self.host = make_principal(
            nation, Classification.TOP_SECRET, registry=groups, name=f"nation:{nation}"
        )
        self.originator = self.host.nation

    # -- building labels and principals ------------------------------------------------

    def parse(self, marking: str) -> Label:
        """A marking written on this node (raises ``LabelError``); a marking that names
        another originator is refused by the parser."""
        return parse_label(marking, originator=self.originator, groups=self.groups)

    def label(
        self,
        classification: Classification,
        *,
        rel_to: Iterable[str] = (),
        noforn: bool = False,
        exercise: bool = False,
    ) -> Label:
        """A label from its parts (a CoT event's attributes, say), originated by this node."""
        return make_label(
            classification,
            rel_to=rel_to,
            noforn=noforn,
            exercise=exercise,
            originator=self.originator,
            groups=self.groups,
        )

    def principal(
        self,
        nation: str,
        clearance: Classification,
        groups: Iterable[str] = (),
        *,
        name: str = "",
    ) -> Principal:
        """A writer or reader as this node knows it: groups validated against the node's."""
        return make_principal(nation, clearance, groups, name=name, registry=self.groups)

    # -- the decision -----------------------------------------------------------------

    def refusal(self, label: Label, writer: Principal) -> Refusal | None:
        """None if ``writer`` may write ``label`` on this node; else why not."""
        marking = label.render()
        if label.originator != self.originator:
            return Refusal(
                "originator",
                f"you may not write {marking}: what is written on this node is originated "
                f"by {self.originator}, not {label.originator}",
            )
        if label.classification > writer.clearance:
            return Refusal(
                "clearance",
                f"you may not write {marking}: it is above your clearance "
                f"({writer.clearance.marking})",
            )
        if not may_release(label, writer):
            return Refusal(
                "not_releasable_to_writer",
                f"you may not write {marking}: it is not releasable to you ({writer.nation}), "
                "and a writer may not label what it could not read",
            )
        if not may_release(label, self.host):
            return Refusal(
                "not_releasable_to_node",
                f"you may not write {marking}: it is not releasable to this node's nation "
                f"({self.originator})",
            )
        return None

    def check(self, label: Label, writer: Principal) -> Label:
        """``label`` if ``writer`` may write it; else :class:`IngressRefused`."""
        refusal = self.refusal(label, writer)
        if refusal is not None:
            raise IngressRefused(refusal)
        return label


@lru_cache(maxsize=64)
def rule(nation: str, groups: GroupRegistry) -> IngressRule:
    """The ingress rule of a node of ``nation`` with ``groups`` (one object per pair)."""
    return IngressRule(nation, groups)
