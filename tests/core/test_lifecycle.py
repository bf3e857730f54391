"""The generic lifecycle piece: its merge converges whatever the order (with duplicates),
the status lattice keeps the furthest move, and writes count only from their owning side."""

from __future__ import annotations

from functools import reduce
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core import lifecycle as lc
from kizuna.core.errors import Conflict, Forbidden, Invalid
from kizuna.core.labels import parse_label
from kizuna.core.lifecycle import Lifecycle
from kizuna.core.records import Event, Precedence, RecordState

OWNER, OTHER = "owner", "other"
SPEC = Lifecycle(
    noun="thing",
    ranks={"NEW": 0, "SENT": 1, "TAKEN": 2, "REFUSED": 3, "DROPPED": 4, "DONE": 5},
    initial="NEW",
    terminal=frozenset({"REFUSED", "DROPPED", "DONE"}),
    transitions={
        ("NEW", "SENT"): OWNER,
        ("SENT", "TAKEN"): OTHER,
        ("SENT", "REFUSED"): OTHER,
        ("TAKEN", "DONE"): OTHER,
        ("NEW", "DROPPED"): OWNER,
        ("SENT", "DROPPED"): OWNER,
        ("TAKEN", "DROPPED"): OWNER,
    },
    side_roles={OWNER: frozenset({"asker"}), OTHER: frozenset({"answerer"})},
    owner=OWNER,
    fields={"title": OWNER, "peer": OWNER, "answer": OTHER},
    parties=lambda s: {
        OWNER: frozenset({s.origin}),
        OTHER: frozenset({str(lc.owned(s, "peer", ""))}) - {s.origin},
    },
    reasons={"REFUSED": frozenset({"no", "later"}), "DROPPED": frozenset()},
    keep_reason=True,
)
merge = lc.lifecycle_merge(SPEC)
owner = lc.lifecycle_owner(SPEC)
LABELS = [parse_label(m) for m in ("S//REL TO USA, JPN", "U", "C//REL TO USA, JPN, AUS")]


def test_a_transition_that_does_not_climb_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match="climb"):
        Lifecycle(
            noun="x",
            ranks={"A": 1, "B": 0},
            initial="A",
            terminal=frozenset(),
            transitions={("A", "B"): OWNER},
            side_roles={OWNER: frozenset()},
            owner=OWNER,
            fields={},
            parties=lambda s: {},
        )


@pytest.mark.parametrize(("step", "side"), sorted(SPEC.transitions.items()))
def test_each_transition_is_its_sides_alone(step: tuple[str, str], side: str) -> None:
    frm, to = step
    reason = "no" if to == "REFUSED" else "because"
    for acting in (OWNER, OTHER):
        if acting == side:
            assert lc.check_transition(SPEC, frm, to, {acting}, [], reason) == to
            assert to in lc.allowed_transitions(SPEC, frm, {acting}, [])
        else:
            with pytest.raises(Forbidden):
                lc.check_transition(SPEC, frm, to, {acting}, [], reason)
            assert to not in lc.allowed_transitions(SPEC, frm, {acting}, [])
    # A role of the other side only does not let a user act; a role of this side does.
    wrong = "answerer" if side == OWNER else "asker"
    with pytest.raises(Forbidden):
        lc.check_transition(SPEC, frm, to, {side}, [wrong], reason)
    right = "asker" if side == OWNER else "answerer"
    assert lc.check_transition(SPEC, frm, to, {side}, [right], reason) == to


def test_reasons_and_unknown_moves() -> None:
    with pytest.raises(Invalid, match="needs a reason"):
        lc.check_transition(SPEC, "SENT", "REFUSED", {OTHER}, [], " ")
    with pytest.raises(Invalid, match="unknown reason"):
        lc.check_transition(SPEC, "SENT", "REFUSED", {OTHER}, [], "whatever")
    with pytest.raises(Invalid, match="needs a reason"):
        lc.check_transition(SPEC, "NEW", "DROPPED", {OWNER}, [], "")
    assert lc.check_transition(SPEC, "NEW", "DROPPED", {OWNER}, [], "free text") == "DROPPED"
    with pytest.raises(Conflict):
        lc.check_transition(SPEC, "NEW", "DONE", {OWNER, OTHER}, [], "")
    with pytest.raises(Invalid, match="unknown status"):
        lc.check_transition(SPEC, "NEW", "BOGUS", {OWNER}, [], "")


# -- merge ----------------------------------------------------------------------

NODES = ["n1", "n2", "n3"]


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """Events of three nodes on one record: creates, field writes, transitions (any,
    legal or not), child entries and tombstones, with colliding clocks."""
    events = []
    seqs = dict.fromkeys(NODES, 0)
    for _ in range(draw(st.integers(1, 14))):
        node = draw(st.sampled_from(NODES))
        seqs[node] += 1
        kind = draw(st.sampled_from(["create", "set", "transition", "transition", "note", "tomb"]))
        payload: dict[str, Any] = {}
        op = "patch"
        if kind == "create":
            op = "create"
            payload = {
                "action": "create",
                "set": {"title": draw(st.sampled_from("abc")), "peer": "n2"},
            }
        elif kind == "set":
            key = draw(st.sampled_from(["title", "answer", "peer", "junk"]))
            payload = {"action": "set", "set": {key: draw(st.sampled_from(["x", "y", "n3"]))}}
        elif kind == "transition":
            frm, to = (
                draw(st.sampled_from(sorted(SPEC.ranks))),
                draw(st.sampled_from(sorted(SPEC.ranks))),
            )
            payload = {"action": "transition", "from": frm, "to": to, "reason": "r"}
        elif kind == "note":
            payload = {"action": "edit", "set": {"title": "t"}}
        else:
            op = "tombstone"
        events.append(
            Event(
                origin=node,
                seq=seqs[node],
                hlc=draw(st.integers(1, 6)),
                record_type="thing",
                record_id="t1",
                op=op,  # type: ignore[arg-type]
                label=draw(st.sampled_from(LABELS)),
                precedence=Precedence(draw(st.integers(0, 3))),
                payload=payload,
                author=f"{node}-user",
            )
        )
    return events


def fold(events: list[Event]) -> RecordState:
    state = reduce(merge, events, None)
    assert state is not None
    return state


@settings(max_examples=300, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.data())
def test_any_order_with_duplicates_reaches_the_same_state(
    events: list[Event], rnd: Any, data: st.DataObject
) -> None:
    reference = fold(events)
    shuffled = list(events) + data.draw(st.lists(st.sampled_from(events), max_size=6))
    rnd.shuffle(shuffled)
    again = fold(shuffled)
    assert again == reference
    # The furthest transition by rank wins, whatever arrived first.
    moves = [e for e in events if e.payload.get("action") == "transition"]
    if moves:
        best = max(moves, key=lambda e: (SPEC.ranks[e.payload["to"]], e.hlc, e.origin, e.seq))
        assert lc.status_of(SPEC, again) == best.payload["to"]
    else:
        assert lc.status_of(SPEC, again) == "NEW"


def ev(origin: str, seq: int, op: str = "patch", **payload: Any) -> Event:
    return Event(
        origin=origin,
        seq=seq,
        hlc=seq,
        record_type="thing",
        record_id="t1",
        op=op,  # type: ignore[arg-type]
        label=LABELS[0],
        payload=payload,
    )


def test_reads_take_each_field_from_its_owning_side() -> None:
    events = [
        ev("n2", 1, action="set", set={"answer": "early", "title": "forged"}),
        ev("n1", 2, "create", action="create", set={"title": "mine", "peer": "n2"}),
        ev("n3", 3, action="set", set={"answer": "outsider"}),
    ]
    state = fold(events)
    assert state.origin == "n1"
    assert lc.owned(state, "title") == "mine"  # not n2's forged title
    others = SPEC.parties(state)[OTHER]
    assert lc.latest(state, "answer", others) == "early"  # not n3's


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (ev("n2", 5, action="transition", **{"from": "SENT", "to": "TAKEN"}), None),
        (ev("n1", 5, action="transition", **{"from": "SENT", "to": "TAKEN"}), "not_entitled"),
        (ev("n2", 5, action="transition", **{"from": "NEW", "to": "SENT"}), "not_entitled"),
        (ev("n2", 5, action="set", set={"title": "x"}), "not_owner"),
        (ev("n1", 5, action="set", set={"answer": "x"}), "not_other"),
        (ev("n2", 5, "tombstone"), "not_owner"),
        (ev("n3", 5, action="noop"), "not_party"),
        (ev("n1", 5, action="edit", set={"title": "t2"}), None),
    ],
)
def test_owner_rule_at_receipt(event: Event, reason: str | None) -> None:
    state = fold([ev("n1", 1, "create", action="create", set={"title": "t", "peer": "n2"})])
    assert owner(state, event) == reason
    assert owner(None, event) is None  # nothing refused before the create
