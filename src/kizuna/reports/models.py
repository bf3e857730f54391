"""API shapes for reports."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Position, Text
from kizuna.core.text import MAX_BODY, MAX_TITLE

PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]

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
_WHERE = msgspec.Meta(extra_json_schema={_RULE: "position"})


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    title: Annotated[Text, _TITLE]
    body: Annotated[Text, _BODY] = Text()
    position: Annotated[Position | None, _WHERE] = None
    precedence: PrecedenceName = "ROUTINE"


class ReportPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: MarkingOrEmpty | None = None  # "" leaves the label as it is
    title: Annotated[Text | None, _TITLE] = None
    body: Annotated[Text | None, _BODY] = None
    position: Annotated[Position | None, _WHERE] = None
    precedence: PrecedenceName | None = None


REPORT = "report"


class ReportOut(LabelView, kw_only=True):
    """A report as the API answers it."""

    id: str
    origin: str
    precedence: PrecedenceName
    title: Text
    body: Text
    original_language: str
    position: Position | None
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str
