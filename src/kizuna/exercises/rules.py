"""Pure rules of exercises: three lifecycles on :mod:`kizuna.core.lifecycle`, the state every
participating node derives, and the inject schedule.

Exercise (the lead node owns it; STARTEX, ENDEX and cancelling are its own moves)::

    PLANNED → RUNNING → FINISHED (ENDEX);  PLANNED | RUNNING → CANCELLED

Pausing is not a lattice move (it comes and goes): ``paused`` is a field the lead writes,
and the *state* a node shows is derived: ``paused`` while the lead paused it **or any
participant's real-world override is active** (so every participating node pauses as soon
as it holds the override, whoever leads), else the status.

Inject (the node whose exercise control wrote it owns it)::

    DRAFT → APPROVED → DELIVERED → COMPLETED | FAILED;  DRAFT | APPROVED | DELIVERED → EXPIRED

Override (the declaring node owns it)::  ACTIVE → LIFTED
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kizuna.core import lifecycle as lc
from kizuna.core.lifecycle import Lifecycle
from kizuna.core.records import RecordState
from kizuna.exercises.models import ExerciseStatus, InjectStatus, OverrideStatus

# -- roles -------------------------------------------------------------------------

EXERCISE_CONTROL = "exercise_control"
CONTROL_ROLES = frozenset({EXERCISE_CONTROL, "admin"})
# Who may declare a real-world emergency: anyone on a participating node but a viewer.
OVERRIDE_ROLES = frozenset(
    {EXERCISE_CONTROL, "admin", "watch", "liaison", "requester", "responder"}
)


def is_control(roles: Iterable[str]) -> bool:
    """Exercise control holds the role explicitly (a user with no role is a player)."""
    return bool(CONTROL_ROLES & set(roles))


def may_declare(roles: Iterable[str]) -> bool:
    held = set(roles)
    return not held or bool(held & OVERRIDE_ROLES)


# -- lifecycles --------------------------------------------------------------------

LEAD = "lead"
CONTROL = "control"
DECLARER = "declarer"
PARTICIPANT = "participant"


def participant_nodes(state: RecordState) -> frozenset[str]:
    parts = lc.owned(state, "participants", [])
    if not isinstance(parts, list):
        return frozenset()
    return frozenset(str(p.get("node")) for p in parts if isinstance(p, dict) and p.get("node"))


def _exercise_parties(state: RecordState) -> Mapping[str, frozenset[str]]:
    return {LEAD: frozenset({state.origin}), PARTICIPANT: participant_nodes(state)}


_E = ExerciseStatus
EXERCISE_LIFECYCLE = Lifecycle(
    noun="exercise",
    ranks={_E.PLANNED: 0, _E.RUNNING: 1, _E.CANCELLED: 2, _E.FINISHED: 3},
    initial=_E.PLANNED,
    terminal=frozenset({_E.CANCELLED, _E.FINISHED}),
    transitions={
        (_E.PLANNED, _E.RUNNING): LEAD,
        (_E.RUNNING, _E.FINISHED): LEAD,
        (_E.PLANNED, _E.CANCELLED): LEAD,
        (_E.RUNNING, _E.CANCELLED): LEAD,
    },
    side_roles={LEAD: CONTROL_ROLES, PARTICIPANT: frozenset()},
    owner=LEAD,
    fields=dict.fromkeys(
        (
            "name",
            "lead_nation",
            "lead_node",
            "participants",
            "stages",
            "milestones",
            "startex",
            "endex",
            "facilities",
            "retention_days",
            "track_prefixes",
            "track_ids",
            "area",
            "paused",
            "paused_reason",
            "finished_at",
        ),
        LEAD,
    ),
    parties=_exercise_parties,
    refusals={LEAD: "not_lead"},
    keep_reason=True,
)

_I = InjectStatus
INJECT_LIFECYCLE = Lifecycle(
    noun="inject",
    ranks={
        _I.DRAFT: 0,
        _I.APPROVED: 1,
        _I.DELIVERED: 2,
        _I.EXPIRED: 3,
        _I.FAILED: 4,
        _I.COMPLETED: 5,
    },
    initial=_I.DRAFT,
    terminal=frozenset({_I.EXPIRED, _I.FAILED, _I.COMPLETED}),
    transitions={
        (_I.DRAFT, _I.APPROVED): CONTROL,
        (_I.APPROVED, _I.DELIVERED): CONTROL,
        (_I.DELIVERED, _I.COMPLETED): CONTROL,
        (_I.DELIVERED, _I.FAILED): CONTROL,
        **{(s, _I.EXPIRED): CONTROL for s in (_I.DRAFT, _I.APPROVED, _I.DELIVERED)},
    },
    side_roles={CONTROL: CONTROL_ROLES},
    owner=CONTROL,
    fields=dict.fromkeys(
        (
            "exercise_id",
            "seq",
            "offset",
            "move",
            "from_org",
            "to_org",
            "to_node",
            "delivery",
            "description",
            "expected_action",
            "hidden",
            "position",
            "delivered_as",
            "note",
        ),
        CONTROL,
    ),
    parties=lambda s: {CONTROL: frozenset({s.origin})},
    refusals={CONTROL: "not_owner"},
)

_O = OverrideStatus
OVERRIDE_LIFECYCLE = Lifecycle(
    noun="override",
    ranks={_O.ACTIVE: 0, _O.LIFTED: 1},
    initial=_O.ACTIVE,
    terminal=frozenset({_O.LIFTED}),
    transitions={(_O.ACTIVE, _O.LIFTED): DECLARER},
    side_roles={DECLARER: OVERRIDE_ROLES},
    owner=DECLARER,
    fields=dict.fromkeys(("exercise_id", "nation", "reason"), DECLARER),
    parties=lambda s: {DECLARER: frozenset({s.origin})},
    refusals={DECLARER: "not_owner"},
)

merge_exercise = lc.lifecycle_merge(EXERCISE_LIFECYCLE)
merge_inject = lc.lifecycle_merge(INJECT_LIFECYCLE)
merge_override = lc.lifecycle_merge(OVERRIDE_LIFECYCLE)
exercise_owner = lc.lifecycle_owner(EXERCISE_LIFECYCLE)
inject_owner = lc.lifecycle_owner(INJECT_LIFECYCLE)
override_owner = lc.lifecycle_owner(OVERRIDE_LIFECYCLE)

# -- the lead's moves ------------------------------------------------------------------

# action -> (statuses it applies in, the status it moves to or None for a field change)
ACTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "start": (frozenset({_E.PLANNED}), _E.RUNNING),
    "pause": (frozenset({_E.RUNNING}), None),
    "resume": (frozenset({_E.RUNNING}), None),
    "endex": (frozenset({_E.RUNNING}), _E.FINISHED),
    "cancel": (frozenset({_E.PLANNED, _E.RUNNING}), _E.CANCELLED),
}


def allowed_actions(status: str, paused: bool) -> list[str]:
    """The lead's moves from ``status`` (pause only when running, resume only when paused)."""
    out = []
    for action, (frm, _to) in ACTIONS.items():
        if status not in frm:
            continue
        if (action == "pause" and paused) or (action == "resume" and not paused):
            continue
        out.append(action)
    return out


# -- the derived state ----------------------------------------------------------------


def active_override(state: RecordState) -> bool:
    return lc.is_complete(state) and lc.status_of(OVERRIDE_LIFECYCLE, state) == _O.ACTIVE


def exercise_state(exercise: RecordState, overrides: Iterable[RecordState]) -> str:
    """What a node shows: the status, or ``paused`` while the lead paused a running
    exercise or any participating node's override of it is active."""
    status = lc.status_of(EXERCISE_LIFECYCLE, exercise)
    if status != _E.RUNNING:
        return str(status).lower()
    if lc.owned(exercise, "paused", False) or any(
        o.origin in participant_nodes(exercise) | {exercise.origin} for o in overrides
    ):
        return "paused"
    return "running"


def due(exercise: RecordState, inject: RecordState) -> float:
    """When an inject is due: STARTEX plus its offset."""
    return float(lc.owned(exercise, "startex", 0.0)) + float(lc.owned(inject, "offset", 0.0))


def deliverable(exercise_state_name: str, inject_status: str, due_at: float, now: float) -> bool:
    """An approved inject is delivered once due, while its exercise is running (not paused)."""
    return exercise_state_name == "running" and inject_status == _I.APPROVED and due_at <= now


def track_belongs(
    track_id: str, exercise_marked: bool, ids: Iterable[str], prefixes: Iterable[str]
) -> bool:
    """A track belongs to an exercise when it is marked EXERCISE and named by it (its id,
    or a prefix of its id): a real track is never quarantined."""
    if not exercise_marked:
        return False
    return track_id in set(ids) or any(track_id.startswith(p) for p in prefixes)


def field(state: RecordState, key: str, default: Any = None) -> Any:
    return lc.owned(state, key, default)
