"""Working groups, meetings and action items through the event log.

A working group and a meeting are their originating node's (generic last-writer-wins
merge, the default ``origin_owns`` rule); an action item has a lifecycle shared by sides
(:mod:`kizuna.workgroups.rules`). Every read goes through the release check
(``kernel/access.py``); every write's label through the ingress rule and must be
releasable to the nations of the people it names (members, OPR, OCR, chair).

:meth:`WorkgroupsService.watch_due` (a job) checks due dates on the node's clock every
``check_interval`` seconds: the OPR's node records a reminder ``remind_before`` seconds
before due, the chair's node an escalation once overdue, each once per due date. Every
commit touching an item is pushed on topic ``action_item``; each new alert (issued here
or arriving from a peer) on ``action_item_alert``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec
import structlog

from kizuna.core import lifecycle as lc
from kizuna.core.catalog import Catalog, Message
from kizuna.core.errors import Conflict, Forbidden, Invalid, KizunaError, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Classification, Label, LabelError
from kizuna.core.records import Event, Precedence, RecordState, Text
from kizuna.core.release import make_principal, may_release
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.context import Caller, NodeContext
from kizuna.store.base import Draft
from kizuna.workgroups import rules
from kizuna.workgroups.models import (
    ACTION_ITEM,
    MEETING,
    WORKING_GROUP,
    ActionItemIn,
    ActionItemOut,
    ConcurIn,
    GroupMember,
    ItemCommentIn,
    ItemTransitionIn,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    Office,
    ReassignIn,
    WorkingGroupIn,
    WorkingGroupOut,
    WorkingGroupPatch,
)
from kizuna.workgroups.rules import LIFECYCLE, OCR, ORIGIN

log = structlog.get_logger("kizuna.workgroups")
CATALOG = Catalog("kizuna.workgroups")
ITEM_TOPIC = "action_item"
ALERT_TOPIC = "action_item_alert"
MAX_TEXT = 20_000


def _text(value: Text | None) -> dict[str, str]:
    return msgspec.to_builtins(value) if value is not None else {"en": "", "ja": ""}


def _bilingual(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {"en": str(value.get("en", "")), "ja": str(value.get("ja", ""))}
    return {"en": "", "ja": ""}


def _when(text: str, name: str) -> float:
    try:
        return parse_iso(text)
    except (ValueError, TypeError):
        raise Invalid(CATALOG.msg("error.bad-time", name=name, text=repr(text))) from None


def _joined(problems: Sequence[Message]) -> Message:
    """Several refusals as one detail, each in the reader's language."""
    return CATALOG.msg(
        "error.problems",
        problems="; ".join(p.render("en") for p in problems),
        problems_ja="; ".join(p.render("ja") for p in problems),
    )


def _refusal(exc: KizunaError, iid: str | None = None) -> Message:
    """Another part's refusal as one of several, in the reader's language."""
    text = exc.message or exc.detail
    if iid is None:
        return CATALOG.msg("error.refusal", text=text)
    return CATALOG.msg("reassign.refused", id=iid, text=text)


def _check_texts(**texts: Text | None) -> None:
    problems = [
        CATALOG.msg("error.too-long", name=name, max=MAX_TEXT)
        for name, t in texts.items()
        if t is not None and max(len(t.en), len(t.ja)) > MAX_TEXT
    ]
    if problems:
        raise Invalid(_joined(problems), errors=[str(p) for p in problems])


def _stamps(state: RecordState) -> dict[str, Any]:
    return {
        **label_fields(state.label),
        "origin": state.origin,
        "created_at": iso(to_seconds(state.created_hlc)),
        "updated_at": iso(to_seconds(state.updated_hlc)),
        "created_by": state.created_by,
        "updated_by": state.updated_by,
    }


def _people(values: Any) -> list[dict[str, Any]]:
    return [dict(p) for p in values] if isinstance(values, list) else []


class WorkgroupsService:
    """The workgroups domain on one node, started with the plugin's :class:`NodeContext`."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self.check_interval = float(getattr(ctx.settings, "check_interval", 30.0))
        self.remind_before = float(getattr(ctx.settings, "remind_before", 86_400.0))
        self.clock: Callable[[], float] = time.time  # the node's clock (tests set their own)
        ctx.events.on_commit(self._committed)

    # -- change feed -------------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        """Push every changed item and every new alert. Must not raise."""
        items: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            if e.record_type != ACTION_ITEM:
                continue
            alerts = items.setdefault(e.record_id, [])
            p = e.payload if isinstance(e.payload, dict) else {}
            if p.get("action") == "alert":
                alerts.append({"kind": p.get("kind"), "node": e.origin, "to": p.get("to", "")})
        if not items or self.ctx.bus.subscribers <= 0:
            return
        for rid, alerts in items.items():
            try:
                state = self.ctx.events.get(ACTION_ITEM, rid)
                if state is None or not lc.is_complete(state):
                    continue
                view = msgspec.to_builtins(self._item_view(state, None))
                self.ctx.bus.publish(ITEM_TOPIC, view, state.label)
                for a in alerts:
                    alert = {**a, "id": f"{rid}:{a['kind']}", "item": view}
                    self.ctx.bus.publish(ALERT_TOPIC, alert, state.label)
            except Exception:
                log.exception("action item push failed", id=rid)

    # -- due dates ---------------------------------------------------------------------

    def check_due(self, now: float | None = None) -> list[tuple[str, str]]:
        """Record the reminders and escalations this node issues at ``now`` (its clock by
        default): ``(item id, kind)`` for each one written."""
        now = self.clock() if now is None else now
        drafts: list[Draft] = []
        issued: list[tuple[str, str]] = []
        author = f"node:{self.ctx.node_id}"
        for state in self.ctx.events.scan(ACTION_ITEM):
            if not lc.is_complete(state):
                continue
            item = rules.derive(state)
            for kind in rules.due_alerts(item, self.ctx.node_id, now, self.remind_before):
                to_key = "opr" if kind == rules.REMIND else "chair"
                who = item.fields.get(to_key) or {}
                to = str(who.get("user") or who.get("office") or "")
                assert item.due is not None
                payload = {
                    "action": "alert",
                    "id": rules.alert_id(kind, item.due),
                    "kind": kind,
                    "due": item.due,
                    "to": to,
                }
                drafts.append(
                    Draft(
                        ACTION_ITEM,
                        state.record_id,
                        "patch",
                        state.label,
                        payload,
                        precedence=state.precedence,
                        author=author,
                    )
                )
                issued.append((state.record_id, kind))
        if drafts:
            self.ctx.events.append(drafts)
            for rid, kind in issued:
                self.ctx.audit.append(f"action_item.{kind}", author, "ok", id=rid)
        return issued

    async def watch_due(self) -> None:
        """Check due dates every ``check_interval`` seconds until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.check_due)
            except Exception:
                log.exception("action item due check failed")
            await asyncio.sleep(self.check_interval)

    # -- helpers -----------------------------------------------------------------------

    def _commit(self, drafts: list[Draft], action: str, caller: Caller, **details: Any) -> None:
        self.ctx.events.append(drafts)
        self.ctx.audit.append(action, caller.name, "ok", **details)

    def _patch(
        self, record_type: str, state: RecordState, payload: dict[str, Any], by: str
    ) -> Draft:
        return Draft(
            record_type,
            state.record_id,
            "patch",
            state.label,
            payload,
            precedence=state.precedence,
            author=by,
        )

    def _readable_by(
        self, label: Label, nations: set[str], what: Literal["members", "parties", "new-offices"]
    ) -> None:
        """Refuse a label some named person's nation may not read."""
        blocked = []
        for nation in sorted(nations):
            try:
                principal = make_principal(
                    nation, Classification.TOP_SECRET, registry=self.ctx.groups
                )
            except LabelError as exc:
                # readable.members, readable.parties, readable.new-offices
                raise Invalid(CATALOG.msg(f"readable.{what}", error=exc)) from None
            if not may_release(label, principal):
                blocked.append(nation)
        if blocked:
            # unreadable.members, unreadable.parties, unreadable.new-offices
            detail = CATALOG.msg(
                f"unreadable.{what}", nations=", ".join(blocked), label=label.render()
            )
            raise Invalid(detail)

    def _get(self, caller: Caller, record_type: str, rid: str) -> RecordState:
        state = get_visible(self.ctx, caller, record_type, rid)
        if record_type == ACTION_ITEM and not lc.is_complete(state):
            raise NotFound(CATALOG.msg("error.not-found", type=record_type, id=rid))
        return state

    def _visible(self, caller: Caller, record_type: str) -> list[RecordState]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(record_type))
        if record_type == ACTION_ITEM:
            states = [s for s in states if lc.is_complete(s)]
        return states

    def _node_in_group(self, state: RecordState) -> bool:
        people = _people(state.fields.get("members")) + _people(state.fields.get("co_chairs"))
        return state.origin == self.ctx.node_id or any(
            p.get("node") == self.ctx.node_id for p in people
        )

    # -- working groups ----------------------------------------------------------------

    def _wg_view(self, state: RecordState) -> WorkingGroupOut:
        f = state.fields
        people = _people(f.get("co_chairs")) + _people(f.get("members"))
        level, cadence = str(f.get("level", "other")), str(f.get("cadence", "ad_hoc"))
        view = {
            **_stamps(state),
            "id": state.record_id,
            "name": _bilingual(f.get("name")),
            "convening_authority": _bilingual(f.get("convening_authority")),
            "level": level,
            "level_name": CATALOG.text(f"level.{level}"),
            "cadence": cadence,
            "cadence_name": CATALOG.text(f"cadence.{cadence}"),
            "co_chairs": _people(f.get("co_chairs")),
            "members": _people(f.get("members")),
            "nations": sorted({str(p.get("nation")) for p in people}),
        }
        view.pop("updated_by")
        return msgspec.convert(view, WorkingGroupOut)

    def working_groups(self, caller: Caller) -> list[WorkingGroupOut]:
        out = [self._wg_view(s) for s in self._visible(caller, WORKING_GROUP)]
        return sorted(out, key=lambda w: (w.name.en, w.id))

    def working_group(self, caller: Caller, wid: str) -> WorkingGroupOut:
        return self._wg_view(self._get(caller, WORKING_GROUP, wid))

    def _check_people(
        self, label: Label, chairs: list[GroupMember], members: list[GroupMember]
    ) -> None:
        keys = [(p.user, p.node) for p in members]
        if len(set(keys)) != len(keys):
            raise Invalid(CATALOG.msg("error.members-repeated"))
        self._readable_by(label, {p.nation for p in [*chairs, *members]}, "members")

    def create_working_group(self, caller: Caller, data: WorkingGroupIn) -> WorkingGroupOut:
        if not lc.may_act(LIFECYCLE, caller.user.roles, ORIGIN):
            raise Forbidden(CATALOG.msg("error.may-not-convene"))
        if not (data.name.en.strip() or data.name.ja.strip()):
            raise Invalid(CATALOG.msg("error.group-name"))
        _check_texts(name=data.name, convening_authority=data.convening_authority)
        label = label_for_write(self.ctx, caller, data.label)
        self._check_people(label, data.co_chairs, data.members)
        payload = {
            "name": _text(data.name),
            "convening_authority": _text(data.convening_authority),
            "level": data.level,
            "cadence": data.cadence,
            "co_chairs": msgspec.to_builtins(data.co_chairs),
            "members": msgspec.to_builtins(data.members),
        }
        wid = new_id()
        draft = Draft(
            WORKING_GROUP,
            wid,
            "create",
            label,
            payload,
            precedence=Precedence[data.precedence],
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "working_group.create", caller, id=wid, label=label.render())
        return self.working_group(caller, wid)

    def edit_working_group(
        self, caller: Caller, wid: str, data: WorkingGroupPatch
    ) -> WorkingGroupOut:
        state = self._get(caller, WORKING_GROUP, wid)
        if state.origin != self.ctx.node_id or not lc.may_act(LIFECYCLE, caller.user.roles, ORIGIN):
            raise Forbidden(CATALOG.msg("error.group-elsewhere", id=wid, node=state.origin))
        _check_texts(name=data.name, convening_authority=data.convening_authority)
        payload: dict[str, Any] = {}
        if data.name is not None:
            payload["name"] = _text(data.name)
        if data.convening_authority is not None:
            payload["convening_authority"] = _text(data.convening_authority)
        if data.cadence is not None:
            payload["cadence"] = data.cadence
        chairs = data.co_chairs
        members = data.members
        if chairs is not None or members is not None:
            current_chairs = [
                msgspec.convert(p, GroupMember) for p in _people(state.fields.get("co_chairs"))
            ]
            current = [
                msgspec.convert(p, GroupMember) for p in _people(state.fields.get("members"))
            ]
            self._check_people(
                state.label,
                chairs if chairs is not None else current_chairs,
                members if members is not None else current,
            )
            if chairs is not None:
                payload["co_chairs"] = msgspec.to_builtins(chairs)
            if members is not None:
                payload["members"] = msgspec.to_builtins(members)
        if not payload:
            raise Invalid(CATALOG.msg("error.nothing-to-change"))
        self._commit(
            [self._patch(WORKING_GROUP, state, payload, caller.name)],
            "working_group.edit",
            caller,
            id=wid,
            fields=sorted(payload),
        )
        return self.working_group(caller, wid)

    # -- meetings ----------------------------------------------------------------------

    def _meeting_view(self, state: RecordState) -> MeetingOut:
        f = state.fields
        start = f.get("start")
        view = {
            **_stamps(state),
            "id": state.record_id,
            "working_group_id": str(f.get("working_group_id", "")),
            "start": iso(float(start)) if isinstance(start, int | float) else "",
            "title": _bilingual(f.get("title")),
            "agenda": _bilingual(f.get("agenda")),
            "minutes": _bilingual(f.get("minutes")),
        }
        return msgspec.convert(view, MeetingOut)

    def meetings(self, caller: Caller, working_group_id: str | None = None) -> list[MeetingOut]:
        out = [
            self._meeting_view(s)
            for s in self._visible(caller, MEETING)
            if working_group_id is None or s.fields.get("working_group_id") == working_group_id
        ]
        return sorted(out, key=lambda m: (m.start, m.id), reverse=True)

    def meeting(self, caller: Caller, mid: str) -> MeetingOut:
        return self._meeting_view(self._get(caller, MEETING, mid))

    def create_meeting(self, caller: Caller, data: MeetingIn) -> MeetingOut:
        group = self._get(caller, WORKING_GROUP, data.working_group_id)
        if not self._node_in_group(group) or not lc.may_act(LIFECYCLE, caller.user.roles, ORIGIN):
            raise Forbidden(CATALOG.msg("error.meetings-members-only"))
        _check_texts(title=data.title, agenda=data.agenda, minutes=data.minutes)
        label = label_for_write(self.ctx, caller, data.label)
        people = _people(group.fields.get("co_chairs")) + _people(group.fields.get("members"))
        self._readable_by(label, {str(p["nation"]) for p in people}, "members")
        payload = {
            "working_group_id": group.record_id,
            "start": _when(data.start, "start"),
            "title": _text(data.title),
            "agenda": _text(data.agenda),
            "minutes": _text(data.minutes),
        }
        mid = new_id()
        draft = Draft(
            MEETING, mid, "create", label, payload, precedence=group.precedence,
            author=caller.name, new_record=True,
        )  # fmt: skip
        self._commit([draft], "meeting.create", caller, id=mid, group=group.record_id)
        return self.meeting(caller, mid)

    def edit_meeting(self, caller: Caller, mid: str, data: MeetingPatch) -> MeetingOut:
        state = self._get(caller, MEETING, mid)
        if state.origin != self.ctx.node_id or not lc.may_act(LIFECYCLE, caller.user.roles, ORIGIN):
            raise Forbidden(CATALOG.msg("error.meeting-elsewhere", id=mid, node=state.origin))
        _check_texts(title=data.title, agenda=data.agenda, minutes=data.minutes)
        payload = {
            k: _text(v)
            for k, v in (("title", data.title), ("agenda", data.agenda), ("minutes", data.minutes))
            if v is not None
        }
        if not payload:
            raise Invalid(CATALOG.msg("error.nothing-to-change"))
        self._commit(
            [self._patch(MEETING, state, payload, caller.name)],
            "meeting.edit",
            caller,
            id=mid,
            fields=sorted(payload),
        )
        return self.meeting(caller, mid)

    # -- action items ------------------------------------------------------------------

    def _item_view(self, state: RecordState, caller: Caller | None) -> ActionItemOut:
        item = rules.derive(state)
        f = item.fields
        now = self.clock()
        sides = lc.sides_of(LIFECYCLE, state, self.ctx.node_id)
        roles = caller.user.roles if caller is not None else []
        who = caller.principal if caller is not None else None
        closing = None
        if item.closing is not None:
            c = item.closing
            closing = {
                "status": c["to"],
                "reason": str(c.get("reason", "")),
                "note": c["note"],
                "node": c["node"],
                "by": c["by"],
                "at": iso(to_seconds(c["hlc"])),
            }
        conc = item.concurrence
        concurrence = None
        if conc is not None:
            concurrence = {
                "concur": bool(conc.get("concur")),
                "note": str(conc.get("note", "")),
                "node": str(conc.get("node", "")),
                "by": str(conc.get("by", "")),
                "at": str(conc.get("at", "")),
            }
        comments = []
        for c in item.comments:
            label = lc.label_from_dict(c.get("label"))
            if label is None or (who is not None and not may_release(label, who)):
                continue
            comments.append(
                {
                    **label_fields(label),
                    "id": c["id"],
                    "node": c["node"],
                    "author": c["by"],
                    "at": iso(to_seconds(c["hlc"])),
                    "text": _bilingual(c.get("text")),
                }
            )
        alerts = [
            {
                "kind": a["kind"],
                "node": a["node"],
                "at": iso(to_seconds(a["hlc"])),
                "due": iso(float(a["due"])) if isinstance(a.get("due"), int | float) else "",
                "to": a.get("to", ""),
            }
            for a in item.alerts
            if a.get("kind") in (rules.REMIND, rules.ESCALATE)
        ]
        due = item.due
        people = [f.get(k) for k in ("opr", "ocr", "chair")]
        priority = str(f.get("priority") or "medium")
        view = {
            **_stamps(state),
            "id": item.id,
            "title": _bilingual(f.get("title")),
            "description": _bilingual(f.get("description")),
            "working_group_id": f.get("working_group_id"),
            "meeting_id": f.get("meeting_id"),
            "opr": f.get("opr"),
            "ocr": f.get("ocr"),
            "chair": f.get("chair"),
            "due": iso(due) if due is not None else "",
            "priority": priority,
            "priority_name": CATALOG.text(f"priority.{priority}"),
            "status": item.status.value,
            "status_name": CATALOG.text(f"status.{item.status.value}"),
            "overdue": rules.is_overdue(item, now),
            "closing": closing,
            "concurrence": concurrence,
            "comments": comments,
            "alerts": alerts,
            "reminded": item.has_alert(rules.REMIND),
            "escalated": item.has_alert(rules.ESCALATE),
            "nations": sorted({str(p["nation"]) for p in people if isinstance(p, dict)}),
            "allowed_transitions": (
                lc.allowed_transitions(LIFECYCLE, item.status, sides, roles) if caller else []
            ),
            "may_concur": caller is not None
            and OCR in sides
            and lc.may_act(LIFECYCLE, roles, OCR)
            and item.status not in rules.TERMINAL,
            "may_edit": caller is not None
            and ORIGIN in sides
            and lc.may_act(LIFECYCLE, roles, ORIGIN)
            and item.status not in rules.TERMINAL,
        }
        return msgspec.convert(view, ActionItemOut)

    def action_items(
        self,
        caller: Caller,
        *,
        working_group_id: str | None = None,
        meeting_id: str | None = None,
        open_only: bool = False,
    ) -> list[ActionItemOut]:
        """The action items the caller may see (of one working group or meeting)."""
        out = []
        for state in self._visible(caller, ACTION_ITEM):
            if (
                working_group_id is not None
                and lc.owned(state, "working_group_id") != working_group_id
            ):
                continue
            if meeting_id is not None and lc.owned(state, "meeting_id") != meeting_id:
                continue
            if open_only and lc.status_of(LIFECYCLE, state) in rules.TERMINAL:
                continue
            out.append(self._item_view(state, caller))
        return sorted(out, key=lambda i: (i.due, i.id))

    def action_item(self, caller: Caller, iid: str) -> ActionItemOut:
        return self._item_view(self._get(caller, ACTION_ITEM, iid), caller)

    def _default_chair(self, group: RecordState | None) -> dict[str, Any] | None:
        if group is None:
            return None
        chairs = _people(group.fields.get("co_chairs"))
        here = [c for c in chairs if c.get("node") == self.ctx.node_id]
        pick = here or chairs
        return pick[0] if pick else None

    def create_action_item(self, caller: Caller, data: ActionItemIn) -> ActionItemOut:
        if not lc.may_act(LIFECYCLE, caller.user.roles, ORIGIN):
            raise Forbidden(CATALOG.msg("error.may-not-record"))
        if not (data.title.en.strip() or data.title.ja.strip()):
            raise Invalid(CATALOG.msg("error.item-title"))
        _check_texts(title=data.title, description=data.description)
        group_id = data.working_group_id
        if data.meeting_id is not None:
            meeting = self._get(caller, MEETING, data.meeting_id)
            of = str(meeting.fields.get("working_group_id", ""))
            if group_id is not None and group_id != of:
                raise Invalid(CATALOG.msg("error.meeting-of", meeting=data.meeting_id, group=of))
            group_id = of
        group = self._get(caller, WORKING_GROUP, group_id) if group_id else None
        if group is not None and not self._node_in_group(group):
            raise Forbidden(CATALOG.msg("error.items-members-only"))
        chair = msgspec.to_builtins(data.chair) if data.chair else self._default_chair(group)
        if chair is None:
            raise Invalid(CATALOG.msg("error.item-chair"))
        label = label_for_write(self.ctx, caller, data.label)
        nations = {data.opr.nation, str(chair["nation"])}
        if data.ocr is not None:
            nations.add(data.ocr.nation)
        self._readable_by(label, nations, "parties")
        sets = {
            "title": _text(data.title),
            "description": _text(data.description),
            "working_group_id": group_id,
            "meeting_id": data.meeting_id,
            "opr": msgspec.to_builtins(data.opr),
            "ocr": msgspec.to_builtins(data.ocr),
            "chair": chair,
            "due": _when(data.due, "due"),
            "priority": data.priority,
        }
        iid = new_id()
        draft = Draft(
            ACTION_ITEM,
            iid,
            "create",
            label,
            {"action": "create", "set": sets},
            precedence=Precedence[data.precedence],
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "action_item.create", caller, id=iid, label=label.render())
        return self.action_item(caller, iid)

    def _acting(self, caller: Caller, state: RecordState, side: str) -> bool:
        sides = lc.sides_of(LIFECYCLE, state, self.ctx.node_id)
        return side in sides and lc.may_act(LIFECYCLE, caller.user.roles, side)

    def transition_action_item(
        self, caller: Caller, iid: str, data: ItemTransitionIn
    ) -> ActionItemOut:
        state = self._get(caller, ACTION_ITEM, iid)
        status = lc.status_of(LIFECYCLE, state)
        sides = lc.sides_of(LIFECYCLE, state, self.ctx.node_id)
        try:
            to = lc.check_transition(
                LIFECYCLE, status, data.to, sides, caller.user.roles, data.reason
            )
        except (Invalid, Conflict, Forbidden) as exc:
            self.ctx.audit.append(
                "action_item.transition", caller.name, "refused", id=iid, reason=str(exc)
            )
            raise
        payload: dict[str, Any] = {
            "action": "transition",
            "from": status,
            "to": to,
            "reason": data.reason.strip(),
        }
        if data.note.strip():
            payload["set"] = {"progress_note": data.note.strip()}
        self._commit(
            [self._patch(ACTION_ITEM, state, payload, caller.name)],
            "action_item.transition",
            caller,
            id=iid,
            frm=status,
            to=to,
        )
        return self.action_item(caller, iid)

    def concur(self, caller: Caller, iid: str, data: ConcurIn) -> ActionItemOut:
        """The OCR's concurrence (or non-concurrence) with the item, by the OCR's node."""
        state = self._get(caller, ACTION_ITEM, iid)
        if not self._acting(caller, state, OCR):
            raise Forbidden(CATALOG.msg("error.ocr-concurs"))
        if lc.status_of(LIFECYCLE, state) in rules.TERMINAL:
            raise Conflict(CATALOG.msg("error.item-closed"))
        value = {
            "concur": data.concur,
            "note": data.note.strip(),
            "node": self.ctx.node_id,
            "by": caller.name,
            "at": iso(self.clock()),
        }
        payload = {"action": "set", "set": {"concurrence": value}}
        self._commit(
            [self._patch(ACTION_ITEM, state, payload, caller.name)],
            "action_item.concur",
            caller,
            id=iid,
            concur=data.concur,
        )
        return self.action_item(caller, iid)

    def comment(self, caller: Caller, iid: str, data: ItemCommentIn) -> ActionItemOut:
        state = self._get(caller, ACTION_ITEM, iid)
        if not lc.sides_of(LIFECYCLE, state, self.ctx.node_id):
            raise Forbidden(CATALOG.msg("error.parties-comment"))
        if not (data.text.en.strip() or data.text.ja.strip()):
            raise Invalid(CATALOG.msg("error.comment-text"))
        _check_texts(text=data.text)
        payload = {"action": "comment", "id": new_id(), "text": _text(data.text)}
        self._commit(
            [self._patch(ACTION_ITEM, state, payload, caller.name)],
            "action_item.comment",
            caller,
            id=iid,
        )
        return self.action_item(caller, iid)

    def reassign(self, caller: Caller, data: ReassignIn) -> list[ActionItemOut]:
        """Give every listed item a new OPR and/or OCR in one commit; if any cannot be
        reassigned (not the origin's here, closed, label not readable) none is."""
        if data.opr is None and data.ocr is None:
            raise Invalid(CATALOG.msg("error.reassign-whom"))
        ids = list(dict.fromkeys(data.ids))
        problems: list[Message] = []
        drafts: list[Draft] = []
        sets: dict[str, Any] = {}
        if data.opr is not None:
            sets["opr"] = msgspec.to_builtins(data.opr)
        if data.ocr is not None:
            sets["ocr"] = msgspec.to_builtins(data.ocr)
        nations = {o.nation for o in (data.opr, data.ocr) if isinstance(o, Office)}
        for iid in ids:
            try:
                state = self._get(caller, ACTION_ITEM, iid)
            except NotFound as exc:
                problems.append(_refusal(exc))
                continue
            if not self._acting(caller, state, ORIGIN):
                problems.append(CATALOG.msg("reassign.elsewhere", id=iid, node=state.origin))
                continue
            if lc.status_of(LIFECYCLE, state) in rules.TERMINAL:
                problems.append(CATALOG.msg("reassign.closed", id=iid))
                continue
            try:
                self._readable_by(state.label, nations, "new-offices")
            except Invalid as exc:
                problems.append(_refusal(exc, iid))
                continue
            drafts.append(
                self._patch(ACTION_ITEM, state, {"action": "edit", "set": sets}, caller.name)
            )
        if problems:
            raise Invalid(_joined(problems), errors=[str(p) for p in problems])
        self._commit(drafts, "action_item.reassign", caller, ids=ids, fields=sorted(sets))
        return [self.action_item(caller, iid) for iid in ids]


__all__ = ["ALERT_TOPIC", "ITEM_TOPIC", "WorkgroupsService"]
