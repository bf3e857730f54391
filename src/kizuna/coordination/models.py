"""API shapes and vocabulary for coordination requests."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

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
