"""API shapes and vocabulary for coordination requests."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text

REQUEST = "request"

PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
KindName = Literal[
    "support", "deconfliction", "information", "facility_access", "movement", "other"
]
LinkType = Literal["track", "report"]

MAX_ATTACHMENT_BYTES = 256 * 1024
MAX_ATTACHMENTS = 4
MAX_LINKS = 100
MAX_ADDRESSEES = 16

NodeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Short = Annotated[str, msgspec.Meta(max_length=2_000)]


class Status(enum.StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


StatusName = Literal[
    "DRAFT",
    "SUBMITTED",
    "ACKNOWLEDGED",
    "ACCEPTED",
    "DECLINED",
    "IN_PROGRESS",
    "COMPLETED",
    "CANCELLED",
]


class Link(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: LinkType
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class AttachmentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    media_type: Annotated[
        str, msgspec.Meta(max_length=127, pattern=r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")
    ]
    content: str  # base64, at most MAX_ATTACHMENT_BYTES once decoded
    label: str


class RequestIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    addressees: Annotated[list[NodeId], msgspec.Meta(min_length=1, max_length=MAX_ADDRESSEES)]
    kind: KindName
    precedence: PrecedenceName = "ROUTINE"
    label: str
    title: Text
    body: Text = Text()
    due: str | None = None
    links: Annotated[list[Link], msgspec.Meta(max_length=MAX_LINKS)] = []
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = []


class RequestPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Requester-side edits of a request's content (e.g. adding a translation)."""

    label: str | None = None
    precedence: PrecedenceName | None = None
    title: Text | None = None
    body: Text | None = None
    due: str | None = None
    links: Annotated[list[Link], msgspec.Meta(max_length=MAX_LINKS)] | None = None


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # A plain string, so an unknown target is answered by the lifecycle check,
    # which lists the transitions the caller may make (a Literal would be refused
    # earlier, by the decoder, without them).
    to: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=32,
            description="Target status: " + ", ".join(s.value for s in Status),
        ),
    ]
    reason: Short = ""
    response: Text | None = None


class CommentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: str
    text: Text


# -- answers ------------------------------------------------------------------


class RequestSummaryOut(LabelView, kw_only=True):
    """The parts of a request every reader of its label may see: what the live
    push and ``kizuna request list`` carry (no comments, attachments or timeline)."""

    id: str
    requester: str
    addressees: list[str]
    kind: KindName
    precedence: PrecedenceName
    status: StatusName
    due: str | None
    overdue: bool
    title: Text
    body: Text
    original_language: str
    links: list[Link]
    response: Text | None
    decline_reason: str
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


class AttachmentOut(LabelView, kw_only=True):
    """An attachment's description; its content is served on its own URL."""

    id: str
    node: str
    at: str
    name: str
    media_type: str
    size: int
    author: str


class CommentOut(LabelView, kw_only=True):
    id: str
    node: str
    at: str
    author: str
    text: Text


class ChangeOut(msgspec.Struct, kw_only=True):
    """One timeline entry: a create, edit, transition, comment or attachment."""

    at: str
    actor: str
    node: str
    action: str
    from_: str | None = msgspec.field(name="from")
    to: str | None
    reason: str


class RequestOut(RequestSummaryOut, kw_only=True):
    """A request as this caller may see it: comments, attachments and timeline
    entries whose own label the caller may not see are left out."""

    attachments: list[AttachmentOut]
    comments: list[CommentOut]
    timeline: list[ChangeOut]
    allowed_transitions: list[StatusName]
