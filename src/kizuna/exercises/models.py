"""API shapes and vocabulary of exercises, injects (the MSEL) and real-world overrides."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.labels import COUNTRIES
from kizuna.core.records import Position, Text
from kizuna.core.time import DateTime

EXERCISE = "exercise"
INJECT = "inject"
OVERRIDE = "exercise_override"

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
NodeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Nation = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Z]{3}$",
        extra_json_schema={"enum": sorted(COUNTRIES)},
    ),
]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
StrictBool = Literal[True, False]

StageName = Literal["concept", "ipc", "mpc", "fpc", "execution", "assessment"]
STAGES: tuple[str, ...] = ("concept", "ipc", "mpc", "fpc", "execution", "assessment")
DeliveryMethod = Literal["request", "report", "phone", "email", "radio", "in_person"]
# Delivery methods the node carries itself: a coordination request or a report, marked EXERCISE.
CARRIED: frozenset[str] = frozenset({"request", "report"})
MAX_INJECT_OFFSET = 366 * 86400  # a year after STARTEX at most


class ExerciseStatus(enum.StrEnum):
    """The lifecycle status; PAUSED is a state on top of RUNNING (see rules)."""

    PLANNED = "PLANNED"
    RUNNING = "RUNNING"
    CANCELLED = "CANCELLED"
    FINISHED = "FINISHED"


StateName = Literal["planned", "running", "paused", "finished", "cancelled"]


class InjectStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    APPROVED = "APPROVED"
    DELIVERED = "DELIVERED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    COMPLETED = "COMPLETED"


class OverrideStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    LIFTED = "LIFTED"


# -- input --------------------------------------------------------------------


class ParticipantIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    nation: Nation
    node: NodeId
    units: Annotated[list[Short], msgspec.Meta(max_length=50)] = []


class StageIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    stage: StageName
    start: DateTime
    end: DateTime


class MilestoneIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    stage: StageName
    name: Text
    at: DateTime


class ExerciseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text
    label: Marking
    participants: Annotated[list[ParticipantIn], msgspec.Meta(min_length=1, max_length=20)]
    startex: DateTime
    endex: DateTime
    stages: Annotated[list[StageIn], msgspec.Meta(max_length=6)] = []
    milestones: Annotated[list[MilestoneIn], msgspec.Meta(max_length=100)] = []
    facilities: Annotated[list[Code], msgspec.Meta(max_length=50)] = []
    retention_days: Annotated[float, msgspec.Meta(ge=0, le=3650)] = 365.0
    track_prefixes: Annotated[list[Code], msgspec.Meta(max_length=20)] = []
    area: Annotated[list[Position], msgspec.Meta(max_length=200)] = []  # a polygon ring


class ExerciseStateIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A lead node's move: start (STARTEX), pause, resume, ENDEX or cancel."""

    action: Literal["start", "pause", "resume", "endex", "cancel"]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TracksIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Exercise-marked tracks that belong to the exercise (quarantined at ENDEX)."""

    track_ids: Annotated[list[Code], msgspec.Meta(min_length=1, max_length=1000)]


class InjectIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    seq: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    offset_minutes: Annotated[
        float, msgspec.Meta(ge=-MAX_INJECT_OFFSET / 60, le=MAX_INJECT_OFFSET / 60)
    ]
    move: Short = ""
    from_org: Short
    to_org: Short
    to_node: NodeId | None = None
    delivery: DeliveryMethod = "request"
    description: Text
    expected_action: Text = Text()
    hidden: StrictBool = False
    label: Annotated[str, msgspec.Meta(max_length=512)] = ""  # "": the exercise's label
    position: Position | None = None


class InjectTransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Annotated[
        str,
        msgspec.Meta(
            min_length=1, max_length=32, extra_json_schema={"enum": [s.value for s in InjectStatus]}
        ),
    ]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class OverrideIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A real-world emergency: the exercise pauses on every participating node."""

    reason: Text
    label: Annotated[str, msgspec.Meta(max_length=512)] = ""  # "": as the exercise's


# -- answers ------------------------------------------------------------------


class Participant(msgspec.Struct, kw_only=True):
    nation: str
    node: str
    units: list[str]
    instrument: str | None  # the access instrument covering the nation's participation


class Stage(msgspec.Struct, kw_only=True):
    stage: StageName
    start: str
    end: str


class Milestone(msgspec.Struct, kw_only=True):
    stage: StageName
    name: Text
    at: str


class OverrideOut(LabelView, kw_only=True):
    id: str
    exercise_id: str
    node: str  # the declaring node
    nation: str
    reason: Text
    status: Literal["ACTIVE", "LIFTED"]
    declared_by: str
    declared_at: str
    lifted_at: str | None


class ExerciseOut(LabelView, kw_only=True):
    id: str
    name: Text
    lead_nation: str
    lead_node: str
    participants: list[Participant]
    stages: list[Stage]
    milestones: list[Milestone]
    startex: str
    endex: str
    facilities: list[str]
    retention_days: float
    track_prefixes: list[str]
    track_ids: list[str]
    area: list[Position]
    status: Literal["PLANNED", "RUNNING", "CANCELLED", "FINISHED"]
    state: StateName  # what every participating node treats the exercise as
    state_name: Text
    paused_reason: str
    overrides: list[OverrideOut]  # active ones first
    quarantined: bool  # after ENDEX: out of the live picture and lists
    control: bool  # the caller is exercise control here
    allowed_actions: list[str]
    created_at: str
    updated_at: str


class InjectOut(LabelView, kw_only=True):
    """An MSEL line as the caller may see it."""

    id: str
    exercise_id: str
    seq: int
    offset_minutes: float
    due_at: str  # STARTEX + offset
    move: str
    from_org: str
    to_org: str
    to_node: str | None
    delivery: DeliveryMethod
    description: Text
    expected_action: Text
    hidden: bool
    state: Literal["DRAFT", "APPROVED", "DELIVERED", "EXPIRED", "FAILED", "COMPLETED"]
    state_name: Text
    held: bool  # the exercise is paused (override): the inject stops
    delivered_as: dict[str, str] | None  # {"type": "request" | "report", "id": …}
    position: Position | None
    origin: str
    allowed_transitions: list[str]
    updated_at: str


class ImportResult(msgspec.Struct, kw_only=True):
    imported: int
    injects: list[InjectOut]


class ArchiveLabel(msgspec.Struct, kw_only=True):
    """A label's parts, as the release check reads them."""

    classification: int
    rel_to: list[str]
    noforn: bool
    exercise: bool
    originator: str


class ArchiveItem(msgspec.Struct, kw_only=True):
    """One record as the node held it: its view as canonical JSON text (``record``)."""

    record_type: str
    id: str
    origin: str
    label: str
    label_parts: ArchiveLabel
    record: str


class ArchiveEntry(msgspec.Struct, kw_only=True):
    n: int
    prev: str
    hash: str
    item: ArchiveItem


class Archive(msgspec.Struct, kw_only=True):
    """The exercise's records as this node held them at ENDEX, hash-chained and signed."""

    format: Literal["kizuna-exercise-archive/1"] = "kizuna-exercise-archive/1"
    exercise_id: str
    node: str
    nation: str
    created_at: str
    purge_after: str
    entries: list[ArchiveEntry]
    head: str  # the last entry's hash
    sig: str  # base64 ECDSA over the head statement; "" when the node has no key
    cert: str  # the node's certificate (PEM), to verify ``sig``


class VerifyOut(msgspec.Struct, kw_only=True):
    valid: bool
    signed: bool
    entries: int
    problems: list[str]
