"""Generic merge: per-field last-writer-wins by (hlc, origin, seq).

Commutative, associative and idempotent, so any order of the same events
(with duplicates) reaches the same state. Record types with richer rules
(tracks, coordination requests) register their own merge function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kizuna.core.records import Event, RecordState

Merge = Callable[[RecordState | None, Event], RecordState]
Order = tuple[int, str, int]

LABEL = "__label"
DELETED = "__deleted"
GENESIS = "__created"


def new_state(event: Event) -> RecordState:
    """A state made by ``event``; ``event`` wrote its envelope (label, genesis)."""
    return RecordState(
        record_type=event.record_type,
        record_id=event.record_id,
        origin=event.origin,
        label=event.label,
        precedence=event.precedence,
        fields={},
        clocks={} if event.op == "create" else {GENESIS: _genesis_key(event)},
        base=event.order,
        created_hlc=event.hlc,
        updated_hlc=event.hlc,
        created_by=event.author,
        updated_by=event.author,
    )


def _genesis_key(event: Event) -> Order:
    """Creates name the record's origin; without one, the earliest event does, provisionally."""
    if event.op == "create":
        return event.order
    return (event.hlc + _PROVISIONAL, event.origin, event.seq)


_PROVISIONAL = 1 << 62


def clock_of(state: RecordState, key: str) -> Order | None:
    """When ``key`` was last written, or None if never."""
    clock = state.clocks.get(key)
    if clock is not None:
        return (clock[0], clock[1], clock[2])
    if key in state.fields or key in (LABEL, GENESIS):
        return state.base
    return None


def _stamp(state: RecordState, key: str, order: Order) -> None:
    if order == state.base:
        state.clocks.pop(key, None)
    else:
        state.clocks[key] = order


def newer(state: RecordState, key: str, order: Order) -> bool:
    current = clock_of(state, key)
    return current is None or current < order


def set_field(state: RecordState, key: str, value: Any, order: Order) -> bool:
    """Write ``value`` if ``order`` is newer than the field's last write."""
    if newer(state, key, order):
        state.fields[key] = value
        _stamp(state, key, order)
        return True
    return False


def merge_envelope(state: RecordState | None, event: Event) -> RecordState:
    """Merge what every record has: creator, label, precedence, tombstone, times."""
    if state is None:
        state = new_state(event)
        if event.op == "tombstone":
            state.deleted = True
            _stamp(state, DELETED, event.order)
        return state
    order = event.order
    genesis = clock_of(state, GENESIS)
    candidate = _genesis_key(event)
    if genesis is None or candidate < genesis:
        # The earliest create (or, lacking one, the earliest event) names origin and creator.
        _stamp(state, GENESIS, candidate)
        state.origin = event.origin
        state.created_by = event.author
        state.created_hlc = event.hlc
    if newer(state, LABEL, order):
        _stamp(state, LABEL, order)
        state.label = event.label
        state.precedence = event.precedence
        state.updated_by = event.author
    state.updated_hlc = max(state.updated_hlc, event.hlc)
    if event.op == "tombstone" and newer(state, DELETED, order):
        _stamp(state, DELETED, order)
        state.deleted = True
    return state


def lww_merge(state: RecordState | None, event: Event) -> RecordState:
    """Per-field last-writer-wins for the payload."""
    if state is None:
        # Every field of the first event carries the base clock: nothing to compare.
        state = merge_envelope(None, event)
        state.fields.update(event.payload)
        return state
    state = merge_envelope(state, event)
    order = event.order
    for key, value in event.payload.items():
        set_field(state, key, value, order)
    return state
