"""API shapes for reports."""

from __future__ import annotations

from typing import Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Position, Text

PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]

_TEXT = msgspec.Meta(max_length=20_000)


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: str
    title: Text
    body: Text = Text()
    position: Position | None = None
    precedence: PrecedenceName = "ROUTINE"


class ReportPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: str | None = None
    title: Text | None = None
    body: Text | None = None
    position: Position | None = None
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
