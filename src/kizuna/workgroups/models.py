"""API shapes and vocabulary of working groups, meetings and action items."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.labels import COUNTRIES
from kizuna.core.records import Text
from kizuna.core.time import DateTime

WORKING_GROUP = "working_group"
MEETING = "meeting"
ACTION_ITEM = "action_item"

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
NodeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
UserName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Nation = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Z]{3}$",
        extra_json_schema={"enum": sorted(COUNTRIES)},
    ),
]
Short = Annotated[str, msgspec.Meta(max_length=2_000)]
OfficeName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]

# Levels of the Alliance Coordination Mechanism a working group sits at.
Level = Literal["acg", "bocc", "ccc", "jcwg", "other"]
Cadence = Literal["daily", "weekly", "biweekly", "monthly", "quarterly", "ad_hoc"]
PriorityName = Literal["high", "medium", "low"]
AlertKind = Literal["reminder", "escalation"]
MAX_PEOPLE = 200


class ItemStatus(enum.StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    SKIPPED = "SKIPPED"


StatusName = Literal["OPEN", "IN_PROGRESS", "DONE", "SKIPPED"]


# -- input --------------------------------------------------------------------


class GroupMember(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A user of some node: a member or co-chair of a working group, an item's chair."""

    user: UserName
    node: NodeId
    nation: Nation


class Office(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An office of primary or coordinating responsibility (主担当部署 / 調整担当部署):
    an office (J3, 運用部) on a node, optionally a named action officer."""

    office: OfficeName
    node: NodeId
    nation: Nation
    user: Annotated[str, msgspec.Meta(max_length=128)] = ""


People = Annotated[list[GroupMember], msgspec.Meta(max_length=MAX_PEOPLE)]


class WorkingGroupIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text
    convening_authority: Text = Text()
    level: Level
    cadence: Cadence = "ad_hoc"
    co_chairs: Annotated[list[GroupMember], msgspec.Meta(min_length=1, max_length=8)]
    members: People = []
    label: Marking
    precedence: PrecedenceName = "ROUTINE"


class WorkingGroupPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text | None = None
    convening_authority: Text | None = None
    cadence: Cadence | None = None
    co_chairs: Annotated[list[GroupMember], msgspec.Meta(min_length=1, max_length=8)] | None = None
    members: People | None = None


class MeetingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    working_group_id: Id
    start: DateTime
    title: Text = Text()
    agenda: Text = Text()
    minutes: Text = Text()
    label: Marking


class MeetingPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Text | None = None
    agenda: Text | None = None
    minutes: Text | None = None


class ActionItemIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Text
    description: Text = Text()
    working_group_id: Id | None = None
    meeting_id: Id | None = None  # the meeting it came from (its working group's)
    opr: Office
    ocr: Office | None = None
    chair: GroupMember | None = None  # default: the working group's co-chair on this node
    due: DateTime
    priority: PriorityName = "medium"
    label: Marking
    precedence: PrecedenceName = "ROUTINE"


class ItemTransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Short = ""  # required for SKIPPED
    note: Short = ""


class ConcurIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    concur: bool
    note: Short = ""


class ItemCommentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Text


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Bulk reassignment: every listed item gets the new OPR and/or OCR, or none does."""

    ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=200)]
    opr: Office | None = None
    ocr: Office | None = None


# -- answers ------------------------------------------------------------------


class WorkingGroupOut(LabelView, kw_only=True):
    id: str
    origin: str
    name: Text
    convening_authority: Text
    level: Level
    level_name: Text
    cadence: Cadence
    cadence_name: Text
    co_chairs: list[GroupMember]
    members: list[GroupMember]
    nations: list[str]
    created_at: str
    updated_at: str
    created_by: str


class MeetingOut(LabelView, kw_only=True):
    id: str
    origin: str
    working_group_id: str
    start: str
    title: Text
    agenda: Text
    minutes: Text
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


class ClosingOut(msgspec.Struct, kw_only=True):
    status: StatusName
    reason: str
    note: str
    node: str
    by: str
    at: str


class ConcurrenceOut(msgspec.Struct, kw_only=True):
    concur: bool
    note: str
    node: str
    by: str
    at: str


class ItemCommentOut(LabelView, kw_only=True):
    id: str
    node: str
    author: str
    at: str
    text: Text


class AlertOut(msgspec.Struct, kw_only=True):
    """A reminder (to the OPR, before due) or an escalation (to the chair, overdue),
    recorded once on the item by the node that issues it."""

    kind: AlertKind
    node: str
    at: str
    due: str
    to: str  # the user it is addressed to (OPR action officer, chair), or the office


class ActionItemOut(LabelView, kw_only=True):
    id: str
    origin: str
    title: Text
    description: Text
    working_group_id: str | None
    meeting_id: str | None
    opr: Office
    ocr: Office | None
    chair: GroupMember | None
    due: str
    priority: PriorityName
    priority_name: Text
    status: StatusName
    status_name: Text
    overdue: bool
    closing: ClosingOut | None
    concurrence: ConcurrenceOut | None
    comments: list[ItemCommentOut]
    alerts: list[AlertOut]
    reminded: bool
    escalated: bool
    nations: list[str]
    allowed_transitions: list[StatusName]
    may_concur: bool
    may_edit: bool
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


class ReassignOut(msgspec.Struct, kw_only=True):
    items: list[ActionItemOut]
