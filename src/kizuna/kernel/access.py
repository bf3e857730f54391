"""Access to labelled records: the write check and the read filter, both via may_release."""

from __future__ import annotations

from collections.abc import Iterable

from kizuna.core.errors import BadLabel, Forbidden, NotFound
from kizuna.core.labels import Label, LabelError
from kizuna.core.records import RecordState
from kizuna.core.release import may_release, may_write
from kizuna.kernel.context import Caller, NodeContext


def label_for_write(node: NodeContext, caller: Caller, marking: str) -> Label:
    """Parse a marking and check the caller may write it; refusals are audited."""
    try:
        label = node.parse_label(marking)
    except LabelError as exc:
        raise BadLabel(f"bad security label: {exc}") from None
    if not may_write(label, caller.principal):
        node.refuse("write_label", caller.name, label=label.render())
        raise Forbidden(
            f"you may not write {label.render()}: it is above your clearance "
            f"({caller.principal.clearance.marking}) or not releasable to {caller.principal.nation}"
        )
    return label


def visible(
    node: NodeContext, caller: Caller, state: RecordState | None, path: str = "api"
) -> bool:
    if state is None or state.deleted:
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
        raise NotFound(f"no {record_type} {record_id}")
    assert state is not None
    return state


def filter_visible(
    node: NodeContext, caller: Caller, states: Iterable[RecordState]
) -> list[RecordState]:
    return [s for s in states if visible(node, caller, s)]
