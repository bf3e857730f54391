"""Pure rules: the derived state, the lead's moves, the schedule, track membership, the
lifecycles' merges (order-independent) and the i18n catalogs."""

from __future__ import annotations

import itertools

from kizuna.core.catalog import missing_keys
from kizuna.core.labels import Classification, Label
from kizuna.core.records import Event
from kizuna.exercises import rules
from kizuna.exercises.rules import merge_inject

LABEL = Label(classification=Classification.SECRET, rel_to=frozenset({"USA", "JPN"}), exercise=True)


def _event(seq: int, payload: dict[str, object], op: str = "patch", origin: str = "usfj") -> Event:
    return Event(
        origin=origin,
        seq=seq,
        hlc=1000 + seq,
        record_type="inject",
        record_id="i1",
        op=op,  # type: ignore[arg-type]
        label=LABEL,
        payload=payload,
        author="excon",
    )


def test_allowed_actions() -> None:
    assert rules.allowed_actions("PLANNED", False) == ["start", "cancel"]
    assert rules.allowed_actions("RUNNING", False) == ["pause", "endex", "cancel"]
    assert rules.allowed_actions("RUNNING", True) == ["resume", "endex", "cancel"]
    assert rules.allowed_actions("FINISHED", False) == []


def test_deliverable_only_when_running_approved_and_due() -> None:
    assert rules.deliverable("running", "APPROVED", 100.0, 100.0)
    assert not rules.deliverable("running", "APPROVED", 101.0, 100.0)
    assert not rules.deliverable("paused", "APPROVED", 0.0, 100.0)
    assert not rules.deliverable("running", "DRAFT", 0.0, 100.0)
    assert not rules.deliverable("running", "DELIVERED", 0.0, 100.0)


def test_only_exercise_marked_tracks_belong() -> None:
    assert rules.track_belongs("cot-SJ-1", True, [], ["cot-SJ"])
    assert rules.track_belongs("ais-1", True, ["ais-1"], [])
    assert not rules.track_belongs("cot-SJ-1", False, ["cot-SJ-1"], ["cot-SJ"])
    assert not rules.track_belongs("cot-XX-1", True, [], ["cot-SJ"])


def test_roles() -> None:
    assert rules.is_control(["exercise_control"]) and rules.is_control(["admin", "watch"])
    assert not rules.is_control([]) and not rules.is_control(["watch"])
    assert rules.may_declare([]) and rules.may_declare(["watch"])
    assert not rules.may_declare(["viewer"])


def test_inject_merge_is_order_independent() -> None:
    events = [
        _event(1, {"action": "create", "set": {"exercise_id": "e1", "seq": 1}}, op="create"),
        _event(2, {"action": "transition", "from": "DRAFT", "to": "APPROVED"}),
        _event(
            3,
            {
                "action": "transition",
                "from": "APPROVED",
                "to": "DELIVERED",
                "set": {"delivered_as": None},
            },
        ),
        _event(4, {"action": "transition", "from": "DELIVERED", "to": "COMPLETED"}),
    ]
    outcomes = set()
    for order in itertools.permutations(events):
        state = None
        for e in [*order, order[0]]:  # with a duplicate
            state = merge_inject(state, e)
        assert state is not None
        outcomes.add((state.fields["status"]["to"], rules.field(state, "seq")))
    assert outcomes == {("COMPLETED", 1)}


def test_a_peer_may_not_move_anothers_inject() -> None:
    state = merge_inject(None, _event(1, {"action": "create", "set": {"seq": 1}}, op="create"))
    step = _event(2, {"action": "transition", "from": "DRAFT", "to": "APPROVED"}, origin="jjoc")
    assert rules.inject_owner(state, step) == "not_entitled"
    edit = _event(3, {"action": "set", "set": {"seq": 9}}, origin="jjoc")
    assert rules.inject_owner(state, edit) == "not_owner"


def test_catalogs_complete() -> None:
    assert missing_keys("kizuna.exercises") == {"en": [], "ja": []}
