"""Label authority: who may change a record's label, how far, and how far a child may reach.

**Changing a label.** A label change *widens* in each dimension where the new label
reaches further than the old one:

* ``classification``: a lower classification;
* ``release``: a nation the old label did not reach (a nation or group added to REL TO,
  NOFORN dropped, REL TO dropped from an UNCLASSIFIED label), groups expanded with the
  node's definitions;
* ``originator``: another nation's policy (and with it the authority to relabel);
* ``exercise``: the EXERCISE marking dropped (exercise data would pass for real).

Only the originator may widen: on the node that originated the record, a user of the
label's originating nation holding a classification role (:data:`CLASSIFIER_ROLES`).
Anyone else who may change the record may restrict its label (raise the classification,
release to fewer nations, add NOFORN or EXERCISE) or leave it as it is.
:func:`decide_relabel` is the pure rule; :func:`authorize_relabel` refuses (403, counted
and audited) and :func:`audit_relabel` records every change with before and after.

**Children.** A record inside another (a comment or attachment of a request, and what
later domains add) never reaches further than its parent: its effective label is the
restriction of its own and its parent's (:func:`bounded`), both when it is written
(:func:`child_label_for_write`, so the stored event federation judges carries the bound)
and when it is read (the parent's label may have narrowed since).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from kizuna.core.catalog import Message
from kizuna.core.errors import Forbidden
from kizuna.core.label_math import restrict
from kizuna.core.labels import COUNTRIES, DEFAULT_GROUPS, GroupRegistry, Label
from kizuna.kernel.access import MESSAGES, label_for_write
from kizuna.kernel.context import Caller, NodeContext

# "classifier" is the role for this; "admin" holds it too until every node's users
# have been given the new role.
CLASSIFIER_ROLES = frozenset({"classifier", "admin"})

CLASSIFICATION = "classification"
RELEASE = "release"
ORIGINATOR = "originator"
EXERCISE = "exercise"


def reach(label: Label, registry: GroupRegistry = DEFAULT_GROUPS) -> frozenset[str] | None:
    """The nations ``label`` releases to, its originator included; None: every nation.

    A group the registry does not know reaches nobody (release fails closed on it too)."""
    if label.noforn:
        return frozenset({label.originator})
    if not label.rel_to:
        return None if label.classification == 0 else frozenset({label.originator})
    nations = {label.originator}
    for code in label.rel_to:
        if code in COUNTRIES:
            nations.add(code)
        elif code in registry:
            nations |= registry.members(code)
    return frozenset(nations)


def widenings(
    before: Label, after: Label, registry: GroupRegistry = DEFAULT_GROUPS
) -> tuple[str, ...]:
    """The dimensions in which ``after`` reaches further than ``before`` (empty: nowhere)."""
    wider = []
    if after.classification < before.classification:
        wider.append(CLASSIFICATION)
    old, new = reach(before, registry), reach(after, registry)
    if old is not None and (new is None or not new <= old):
        wider.append(RELEASE)
    if after.originator != before.originator:
        wider.append(ORIGINATOR)
    if before.exercise and not after.exercise:
        wider.append(EXERCISE)
    return tuple(wider)


class LabelDecision(msgspec.Struct, frozen=True, kw_only=True):
    """A decided label change: ``refusal`` is None when it may be made."""

    before: Label
    after: Label
    widened: tuple[str, ...] = ()
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def changed(self) -> bool:
        return self.after != self.before


def decide_relabel(
    before: Label,
    after: Label,
    *,
    record_origin: str,
    node_id: str,
    nation: str,
    roles: Iterable[str],
    registry: GroupRegistry = DEFAULT_GROUPS,
) -> LabelDecision:
    """May a user of ``nation`` with ``roles``, on node ``node_id``, relabel a record that
    node ``record_origin`` originated from ``before`` to ``after``? (Pure.)"""
    widened = widenings(before, after, registry)
    message = _refusal(before, after, widened, record_origin, node_id, nation, roles)
    refusal = None if message is None else str(message)
    return LabelDecision(before=before, after=after, widened=widened, refusal=refusal)


def _refusal(
    before: Label,
    after: Label,
    widened: tuple[str, ...],
    record_origin: str,
    node_id: str,
    nation: str,
    roles: Iterable[str],
) -> Message | None:
    """Why :func:`decide_relabel` refuses, as a catalog message (None: it does not)."""
    if not widened:
        return None
    head = {"before": before.render(), "after": after.render(), "widened": ", ".join(widened)}
    if record_origin != node_id:
        return MESSAGES.msg("error.relabel.other-node", origin=record_origin, **head)
    if nation != before.originator:
        return MESSAGES.msg("error.relabel.other-nation", originator=before.originator, **head)
    if not CLASSIFIER_ROLES & set(roles):
        return MESSAGES.msg(
            "error.relabel.not-classifier",
            originator=before.originator,
            roles=", ".join(sorted(CLASSIFIER_ROLES)),
            **head,
        )
    return None


def authorize_relabel(
    ctx: NodeContext,
    caller: Caller,
    record_type: str,
    record_id: str,
    record_origin: str,
    before: Label,
    after: Label,
) -> LabelDecision:
    """The decision for this caller on this node; a refusal is counted, audited and
    raised as :class:`~kizuna.core.errors.Forbidden` (403)."""
    decision = decide_relabel(
        before,
        after,
        record_origin=record_origin,
        node_id=ctx.node_id,
        nation=caller.principal.nation,
        roles=caller.user.roles,
        registry=ctx.groups,
    )
    if decision.refusal is not None:
        ctx.refuse(
            "relabel",
            caller.name,
            record_type=record_type,
            record_id=record_id,
            before=before.render(),
            after=after.render(),
            widened=list(decision.widened),
        )
        message = _refusal(
            before,
            after,
            decision.widened,
            record_origin,
            ctx.node_id,
            caller.principal.nation,
            caller.user.roles,
        )
        raise Forbidden(message or decision.refusal, widened=list(decision.widened))
    return decision


def audit_relabel(
    ctx: NodeContext, caller: Caller, record_type: str, record_id: str, decision: LabelDecision
) -> None:
    """Record a label change that was made (nothing if the label stayed the same)."""
    if decision.changed:
        ctx.audit.append(
            "label.change",
            caller.name,
            "ok",
            record_type=record_type,
            record_id=record_id,
            before=decision.before.render(),
            after=decision.after.render(),
            widened=list(decision.widened),
        )


def bounded(child: Label, parent: Label, registry: GroupRegistry = DEFAULT_GROUPS) -> Label:
    """A child's effective label: releasable only where both it and its parent are."""
    return restrict(child, parent, registry)


def child_label_for_write(ctx: NodeContext, caller: Caller, marking: str, parent: Label) -> Label:
    """The label a child written by ``caller`` is stored with: the marking given (checked
    as any write is), bounded by its parent's label."""
    return bounded(label_for_write(ctx, caller, marking), parent, ctx.groups)
