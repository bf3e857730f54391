"""API shapes of the liaison workspace: the shared log, glossary terms, today's desk."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text

LIAISON_ENTRY = "liaison_entry"

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
Language = Literal["en", "ja"]
EntryKind = Literal["note", "call", "meeting", "decision"]
TodayKind = Literal["request", "rfa", "action_item", "inject"]
MAX_TEXT = 10_000


class LiaisonEntryIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Text
    original_language: Language = "en"
    kind: EntryKind = "note"
    label: Marking


class LiaisonEntryOut(LabelView, kw_only=True):
    """An entry of the shared log, attributed to its author and the author's node."""

    id: str
    origin: str  # the author's node
    author: str
    kind: EntryKind
    text: Text
    original_language: Language
    at: str


class TermOut(msgspec.Struct, kw_only=True):
    """A glossary term found in (or matching) the query, with the other language's term."""

    en: str
    ja: str
    status: str  # the glossary's status column: official, proposed, …
    official: bool
    matched: Language  # the language the query matched
    other: str  # the term in the other language


class TodayItem(LabelView, kw_only=True):
    """An open item on the liaison desk that involves both chains."""

    kind: TodayKind
    id: str
    origin: str
    title: Text
    status: str
    due: str | None
    nations: list[str]


class TodayOut(msgspec.Struct, kw_only=True):
    date: str  # the UTC date of the node's clock
    requests: list[TodayItem]
    rfas: list[TodayItem]
    action_items: list[TodayItem]
    injects: list[TodayItem]
