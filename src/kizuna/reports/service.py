"""Reports: create, read, list, update through the store, every read release-checked."""

from __future__ import annotations

from typing import Any

import msgspec

from kizuna.core.errors import Forbidden, Invalid
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.records import Precedence, RecordState
from kizuna.core.text import original_language, text_problems
from kizuna.core.time import iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import audit_relabel, authorize_relabel
from kizuna.kernel.context import Caller, NodeContext
from kizuna.reports.models import REPORT, ReportIn, ReportOut, ReportPatch
from kizuna.reports.rules import MESSAGES, joined, owner_may_edit
from kizuna.store.base import Draft

# A report's content: what a peer needs to hold the whole report.
CONTENT = ("title", "body", "original_language", "position")


def report_view(state: RecordState) -> ReportOut:
    f = state.fields
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "precedence": state.precedence.name,
            "title": f.get("title", {"en": "", "ja": ""}),
            "body": f.get("body", {"en": "", "ja": ""}),
            "original_language": f.get("original_language", "en"),
            "position": f.get("position"),
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
            "created_by": state.created_by,
            "updated_by": state.updated_by,
        },
        ReportOut,
    )


class ReportService:
    def __init__(self, node: NodeContext) -> None:
        self.node = node

    def create(self, caller: Caller, data: ReportIn) -> RecordState:
        return self.create_many(caller, [data])[0]

    def create_many(self, caller: Caller, items: list[ReportIn]) -> list[RecordState]:
        """Create reports in one commit: all are checked first, so none or all land."""
        drafts = []
        for n, data in enumerate(items):
            problems = text_problems(data.title, data.body)
            if problems:
                detail = (
                    MESSAGES.msg("error.item-problems", n=n, **joined(problems))
                    if len(items) > 1
                    else MESSAGES.msg("error.problems", **joined(problems))
                )
                raise Invalid(detail, errors=[str(p) for p in problems], item=n)
            label = label_for_write(self.node, caller, data.label)
            payload = {
                "title": msgspec.to_builtins(data.title),
                "body": msgspec.to_builtins(data.body),
                "original_language": original_language(data.title),
                "position": msgspec.to_builtins(data.position),
            }
            drafts.append(
                Draft(
                    REPORT,
                    new_id(),
                    "create",
                    label,
                    payload,
                    precedence=Precedence[data.precedence],
                    author=caller.name,
                    new_record=True,
                )
            )
        events = self.node.events.append(drafts)
        self.node.audit.append(
            "report.create",
            caller.name,
            "ok",
            ids=[e.record_id for e in events][:1000],
            labels=sorted({e.label.render() for e in events}),
        )
        states = [self.node.events.get(REPORT, e.record_id) for e in events]
        return [s for s in states if s is not None]

    def get(self, caller: Caller, rid: str) -> RecordState:
        return get_visible(self.node, caller, REPORT, rid)

    def list(self, caller: Caller) -> list[RecordState]:
        return filter_visible(self.node, caller, self.node.events.scan(REPORT))

    def update(self, caller: Caller, rid: str, patch: ReportPatch) -> RecordState:
        state = get_visible(self.node, caller, REPORT, rid)
        if not owner_may_edit(state.origin, self.node.node_id):
            raise Forbidden(MESSAGES.msg("error.not-owner", id=rid, node=state.origin))
        problems = text_problems(patch.title, patch.body)
        if problems:
            raise Invalid(
                MESSAGES.msg("error.problems", **joined(problems)),
                errors=[str(p) for p in problems],
            )
        label = label_for_write(self.node, caller, patch.label) if patch.label else state.label
        decision = authorize_relabel(
            self.node, caller, REPORT, rid, state.origin, state.label, label
        )
        payload: dict[str, Any] = {}
        if decision.widened:
            # Peers the old label kept out never had the report: the patch carries all of
            # it, so a peer it now reaches holds a complete report, not a bare change.
            payload = {key: state.fields[key] for key in CONTENT if key in state.fields}
        for key in ("title", "body", "position"):
            value = getattr(patch, key)
            if value is not None:
                payload[key] = msgspec.to_builtins(value)
        precedence = Precedence[patch.precedence] if patch.precedence else state.precedence
        self.node.events.append(
            [Draft(REPORT, rid, "patch", label, payload, precedence=precedence, author=caller.name)]
        )
        self.node.audit.append("report.update", caller.name, "ok", id=rid, label=label.render())
        audit_relabel(self.node, caller, REPORT, rid, decision)
        new = self.node.events.get(REPORT, rid)
        assert new is not None
        return new
