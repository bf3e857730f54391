"""Access to labelled records: the write check (the ingress rule) and the read filter."""

from __future__ import annotations

from collections.abc import Iterable

from kizuna.core.catalog import Catalog, Message
from kizuna.core.errors import BadLabel, Forbidden, NotFound
from kizuna.core.labels import Label, LabelError
from kizuna.core.records import RecordState
from kizuna.core.release import Principal, may_release
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.ingress import IngressRule, Refusal, rule

MESSAGES = Catalog("kizuna.kernel")


def label_error(exc: LabelError) -> Message:
    """A marking the parser refused, as the problem detail of a write."""
    return MESSAGES.msg("error.bad-label", reason=str(exc), reason_ja=label_reason(exc, "ja"))


def label_reason(exc: LabelError, language: str) -> str:
    """Why a marking or principal was refused, in ``language`` where the refusal has a
    catalog message (its English text otherwise)."""
    return exc.message.render(language) if exc.message is not None else str(exc)


def refusal_message(
    ingress: IngressRule, label: Label, writer: Principal, refusal: Refusal
) -> Message | str:
    """The ingress rule's refusal in the reader's language: the catalog's English is the
    rule's ``message`` itself; a reason the catalog does not know, or a rule whose text has
    changed since, keeps the rule's own message."""
    values = {
        "marking": label.render(),
        "originator": ingress.originator,
        "label_originator": label.originator,
        "clearance": writer.clearance.marking,
        "nation": writer.nation,
    }
    key = f"error.write.{refusal.reason}"
    if not MESSAGES.has(key):
        return refusal.message
    message = MESSAGES.msg(key, **values)
    return message if str(message) == refusal.message else refusal.message


def label_for_write(node: NodeContext, caller: Caller, marking: str) -> Label:
    """Parse a marking and check the caller may write it (the ingress rule, ADR 0006).

    The host node's nation originates it; refusals are counted and audited.
    """
    ingress = rule(node.nation, node.groups)
    try:
        label = ingress.parse(marking)
    except LabelError as exc:
        raise BadLabel(label_error(exc)) from None
    refusal = ingress.refusal(label, caller.principal)
    if refusal is not None:
        node.refuse("write_label", caller.name, label=label.render(), why=refusal.reason)
        raise Forbidden(refusal_message(ingress, label, caller.principal, refusal))
    return label


def visible(
    node: NodeContext, caller: Caller, state: RecordState | None, path: str = "api"
) -> bool:
    if state is None or state.deleted:
        return False
    if node.quarantine.hides(state.record_type, state.record_id):
        return False
    if may_release(state.label, caller.principal):
        return True
    node.metrics.released_denied.labels(path).inc()
    return False


def get_visible(node: NodeContext, caller: Caller, record_type: str, record_id: str) -> RecordState:
    """The record if the caller may see it; otherwise 404 (existence is not disclosed)."""
    state = node.events.get(record_type, record_id)
    if not visible(node, caller, state):
        if state is not None and not state.deleted:
            node.refuse("read_label", caller.name, record_type=record_type, record_id=record_id)
        raise NotFound(
            MESSAGES.msg("error.not-found", record_type=record_type, record_id=record_id)
        )
    assert state is not None
    return state


def filter_visible(
    node: NodeContext, caller: Caller, states: Iterable[RecordState]
) -> list[RecordState]:
    return [s for s in states if visible(node, caller, s)]
