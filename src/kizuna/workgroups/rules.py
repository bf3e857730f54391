"""Pure rules of action items: lifecycle, sides, ownership at receipt, due alerts.

Lifecycle (a spec of :mod:`kizuna.core.lifecycle`)::

    OPEN → IN_PROGRESS → DONE
      ↘        ↘
       DONE     SKIPPED (reason required)
      ↘
       SKIPPED (reason required)

Sides, by node: the **origin** (the node that wrote the item, from a meeting or on its
own) owns the content (title, description, OPR, OCR, chair, due date, priority, label),
so reassignment is the origin's; the **OPR**'s node (office of primary responsibility)
owns every transition and issues the reminders before due; the **OCR**'s node (office of
coordinating responsibility) writes its concurrence; the **chair**'s node issues the
escalation once the item is overdue. Any party comments. Peers' events are held to the
same sides at receipt (:func:`item_owner`).

Alerts are child entries keyed ``reminder:<due>`` / ``escalation:<due>``: the merge keeps
the first of each key, so a replay, a second worker or a duplicate never doubles one, and
a new due date (after an edit) may be reminded and escalated again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from kizuna.core import lifecycle as lc
from kizuna.core.lifecycle import Child, Lifecycle
from kizuna.core.records import Event, RecordState
from kizuna.workgroups.models import ItemStatus

S = ItemStatus
RANK: dict[ItemStatus, int] = {S.OPEN: 0, S.IN_PROGRESS: 1, S.SKIPPED: 2, S.DONE: 3}
TERMINAL = frozenset({S.DONE, S.SKIPPED})

ORIGIN = "origin"
OPR = "opr"
OCR = "ocr"
CHAIR = "chair"
# Roles are free-form; a user with none acts for every side their node stands on.
ROLE_CHAIR = "chair"
ROLE_ACTION_OFFICER = "action_officer"
_COMMON = frozenset({"liaison", "watch", "admin"})
SIDE_ROLES: dict[str, frozenset[str]] = {
    ORIGIN: _COMMON | {ROLE_CHAIR, ROLE_ACTION_OFFICER},
    OPR: _COMMON | {ROLE_ACTION_OFFICER},
    OCR: _COMMON | {ROLE_ACTION_OFFICER},
    CHAIR: _COMMON | {ROLE_CHAIR},
}
TRANSITIONS: dict[tuple[ItemStatus, ItemStatus], str] = {
    (S.OPEN, S.IN_PROGRESS): OPR,
    (S.OPEN, S.DONE): OPR,
    (S.IN_PROGRESS, S.DONE): OPR,
    (S.OPEN, S.SKIPPED): OPR,
    (S.IN_PROGRESS, S.SKIPPED): OPR,
}
CONTENT_FIELDS = frozenset(
    {"title", "description", "working_group_id", "meeting_id", "opr", "ocr", "chair"}
    | {"due", "priority"}
)
OPR_FIELDS = frozenset({"progress_note"})
OCR_FIELDS = frozenset({"concurrence"})
REMIND = "reminder"
ESCALATE = "escalation"


def _node(value: Any) -> frozenset[str]:
    if isinstance(value, dict) and isinstance(value.get("node"), str):
        return frozenset({value["node"]})
    return frozenset()


def _parties(state: RecordState) -> Mapping[str, frozenset[str]]:
    return {
        ORIGIN: frozenset({state.origin}),
        OPR: _node(lc.owned(state, "opr")),
        OCR: _node(lc.owned(state, "ocr")),
        CHAIR: _node(lc.owned(state, "chair")),
    }


def _alert(p: dict[str, Any]) -> dict[str, Any]:
    return {"kind": str(p.get("kind", "")), "due": p.get("due"), "to": str(p.get("to", ""))}


LIFECYCLE = Lifecycle(
    noun="action item",
    ranks=cast("Mapping[str, int]", RANK),
    initial=S.OPEN,
    terminal=cast("frozenset[str]", TERMINAL),
    transitions=cast("Mapping[tuple[str, str], str]", TRANSITIONS),
    side_roles=SIDE_ROLES,
    owner=ORIGIN,
    fields={
        **dict.fromkeys(CONTENT_FIELDS, ORIGIN),
        **dict.fromkeys(OPR_FIELDS, OPR),
        **dict.fromkeys(OCR_FIELDS, OCR),
    },
    parties=_parties,
    refusals={ORIGIN: "not_owner", OPR: "not_opr", OCR: "not_ocr", CHAIR: "not_chair"},
    reasons={S.SKIPPED: frozenset()},
    reason_texts={S.SKIPPED: "skipping an action item needs a reason"},
    children={
        "comment": Child("comments", lambda p: {"text": p.get("text", {})}),
        "alert": Child("alerts", _alert),
    },
    keep_reason=True,
)

merge_item = lc.lifecycle_merge(LIFECYCLE)
_base_owner = lc.lifecycle_owner(LIFECYCLE)
ALERT_SIDE = {REMIND: OPR, ESCALATE: CHAIR}


def item_owner(state: RecordState | None, event: Event) -> str | None:
    """The lifecycle's ownership rule, and: a reminder only from the OPR's node, an
    escalation only from the chair's node (``not_opr`` / ``not_chair``)."""
    refusal = _base_owner(state, event)
    if refusal is not None or state is None or "create" not in state.fields:
        return refusal
    payload = event.payload if isinstance(event.payload, dict) else {}
    if payload.get("action") == "alert":
        side = ALERT_SIDE.get(str(payload.get("kind")))
        if side is None:
            return "bad_alert"
        if side not in lc.sides_of(LIFECYCLE, state, event.origin):
            return LIFECYCLE.refusals[side]
    return None


# -- derived view -----------------------------------------------------------------


@dataclass
class Item:
    id: str
    origin: str
    status: ItemStatus
    fields: dict[str, Any]
    closing: dict[str, Any] | None
    concurrence: dict[str, Any] | None
    comments: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def due(self) -> float | None:
        due = self.fields.get("due")
        return float(due) if isinstance(due, int | float) else None

    def node_of(self, key: str) -> str | None:
        value = self.fields.get(key)
        return str(value["node"]) if isinstance(value, dict) and "node" in value else None

    def has_alert(self, kind: str, due: float | None = None) -> bool:
        due = self.due if due is None else due
        return any(a["kind"] == kind and a.get("due") == due for a in self.alerts)


def _entries(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": key, **entry}
        for key, entry in sorted(table.items(), key=lambda kv: (lc.order_key(kv[1]), kv[0]))
    ]


def derive(state: RecordState) -> Item:
    f = state.fields
    content = {k: lc.owned(state, k) for k in CONTENT_FIELDS}
    status = lc.status_of(LIFECYCLE, state)
    entry = lc.status_entry(state)
    closing = None
    if entry is not None and entry["to"] in TERMINAL:
        closing = {**entry, "note": str(lc.latest(state, "progress_note", [entry["node"]], ""))}
    ocr_node = _node(content.get("ocr"))
    concurrence = lc.latest(state, "concurrence", ocr_node)
    return Item(
        id=state.record_id,
        origin=state.origin,
        status=ItemStatus(status),
        fields=content,
        closing=closing,
        concurrence=concurrence if isinstance(concurrence, dict) else None,
        comments=_entries(f.get("comments", {})),
        alerts=_entries(f.get("alerts", {})),
    )


def is_overdue(item: Item, now: float) -> bool:
    return item.status not in TERMINAL and item.due is not None and now > item.due


def alert_id(kind: str, due: float) -> str:
    """The key of an alert: one per kind and due date."""
    return f"{kind}:{due!r}"


def due_alerts(item: Item, node_id: str, now: float, remind_before: float) -> list[str]:
    """The alerts ``node_id`` should issue for ``item`` at ``now`` (pure): a reminder once
    the due date is within ``remind_before`` seconds (the OPR's node; not once overdue),
    an escalation once it has passed (the chair's node); none for a closed item or one
    already alerted for this due date."""
    due = item.due
    if item.status in TERMINAL or due is None:
        return []
    out = []
    if (
        item.node_of("opr") == node_id
        and due - remind_before <= now <= due
        and not item.has_alert(REMIND)
    ):
        out.append(REMIND)
    if item.node_of("chair") == node_id and now > due and not item.has_alert(ESCALATE):
        out.append(ESCALATE)
    return out
