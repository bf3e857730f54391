"""API shapes and vocabulary for coordination requests."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text
from kizuna.core.text import MAX_BODY, MAX_TITLE
from kizuna.core.time import DateTime

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

# Checks made after decoding, by the core rules, that the node's OpenAPI document spells
# out for these fields (the rule each names: kizuna.api.document).
_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
MarkingOrEmpty = Annotated[
    str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking-or-empty"})
]
# msgspec documents a Meta on a Struct type only outside a union: Annotated[Text | None, …].
_TITLE = msgspec.Meta(
    extra_json_schema={_RULE: {"text": "Title", "max_length": MAX_TITLE, "needs_text": True}}
)
_BODY = msgspec.Meta(
    extra_json_schema={_RULE: {"text": "Body", "max_length": MAX_BODY, "needs_text": False}}
)
# base64 as base64.b64decode(validate=True) reads it, at most MAX_ATTACHMENT_BYTES decoded:
# (4 characters)* then 3 and '=' or 2 and '==', or padding after whole groups.
_B64 = "[A-Za-z0-9+/]"
_BASE64 = rf"^(?:(?:{_B64}{{4}})+=*|(?:{_B64}{{4}})*(?:{_B64}{{3}}=|{_B64}{{2}}==))?$"
_BASE64_MAX = (MAX_ATTACHMENT_BYTES // 3 + 1) * 4  # the longest encoding the service reads
_CONTENT = msgspec.Meta(
    description=f"The content, base64 (at most {MAX_ATTACHMENT_BYTES} bytes once decoded)",
    extra_json_schema={
        "maxLength": _BASE64_MAX,
        "pattern": _BASE64,
        # The longest encodings decode to a byte or two too many unless they end in '=='
        # or in padding after whole groups.
        "not": {"minLength": _BASE64_MAX, "pattern": f"{_B64}=?$"},
    },
)
MAX_COMMENT_TEXT = 10_000  # rules.MAX_COMMENT (rules imports this module)
_COMMENT = msgspec.Meta(
    extra_json_schema={
        _RULE: {"text": "CommentText", "max_length": MAX_COMMENT_TEXT, "needs_text": True}
    }
)


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
    content: Annotated[str, _CONTENT]  # checked when decoded, by the service
    label: Marking


class RequestIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    addressees: Annotated[
        list[NodeId],
        msgspec.Meta(
            min_length=1,
            max_length=MAX_ADDRESSEES,
            extra_json_schema={"uniqueItems": True},  # the service refuses repeats
        ),
    ]
    kind: KindName
    precedence: PrecedenceName = "ROUTINE"
    label: Marking
    title: Annotated[Text, _TITLE]
    body: Annotated[Text, _BODY] = Text()
    due: DateTime | None = None
    links: Annotated[list[Link], msgspec.Meta(max_length=MAX_LINKS)] = []
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = []


class RequestPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Requester-side edits of a request's content (e.g. adding a translation)."""

    label: MarkingOrEmpty | None = None  # "" leaves the label as it is
    precedence: PrecedenceName | None = None
    title: Annotated[Text | None, _TITLE] = None
    body: Annotated[Text | None, _BODY] = None
    due: DateTime | None = None
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
            extra_json_schema={"enum": [s.value for s in Status]},  # the lifecycle checks it
        ),
    ]
    reason: Short = ""
    response: Text | None = None


# A transition's body as the document gives it: to decline takes a reason that is not blank
# (checked by the lifecycle rules, after decoding; a reason left out is blank).
TRANSITION = msgspec.Meta(
    extra_json_schema={
        "not": {
            "required": ["to"],
            "properties": {"to": {"const": Status.DECLINED.value}, "reason": {_RULE: "blank"}},
        }
    }
)


class CommentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    text: Annotated[Text, _COMMENT]


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
