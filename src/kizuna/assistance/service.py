"""Requests for assistance, offers and tasks through the event log.

Sovereignty: an RFA's content is its requesting node's; validation, priority and the
acceptance of offers belong to the affected state's node (``affected_node``, the node of
the affected nation); each offer is its offering node's; each task its committing node's.
The node's own users are held to the same sides as peers' events at receipt
(:mod:`kizuna.assistance.rules`).

Tasks: the **offerer's node creates the first task** of an offer once it holds the
offer ACCEPTED (a commit listener: the acceptance arrives from the affected state's node
by federation), with a deterministic id per offer, so a replay or a second worker never
doubles it; its executing unit and due time come from the offer (``unit``,
``available_from``, else the RFA's ``needed_by``). Further tasks: ``create_task``.

Accepting an offer for an OPEN RFA moves the RFA to COMMITTED in the same commit.
Every commit that changes an RFA, offer or task is pushed on the bus (topics ``rfa``,
``offer``, ``task``) under the record's own label; an RFA's pushed roll-up counts only
the offers every reader of the RFA's label may see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import structlog

from kizuna.assistance import rules
from kizuna.assistance.models import (
    OFFER,
    RFA,
    TASK,
    OfferIn,
    OfferOut,
    OfferStatus,
    OfferTransitionIn,
    ProgressIn,
    ProgressReport,
    RfaIn,
    RfaOut,
    RfaPatch,
    RfaStatus,
    RfaTransitionIn,
    TaskIn,
    TaskOut,
    TaskPatch,
    TaskTransitionIn,
)
from kizuna.assistance.rules import (
    AFFECTED,
    COMMITTED_OFFER,
    EXECUTOR,
    OFFER_LIFECYCLE,
    OFFERER,
    REQUESTER,
    RFA_LIFECYCLE,
    TASK_LIFECYCLE,
    Closing,
    Offer,
    Rfa,
)
from kizuna.core import lifecycle as lc
from kizuna.core.catalog import Catalog
from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Classification, Label, LabelError
from kizuna.core.lifecycle import Lifecycle
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.core.release import make_principal, may_release
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write, label_reason
from kizuna.kernel.authority import reach
from kizuna.kernel.context import Caller, NodeContext
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.assistance")
CATALOG = Catalog("kizuna.assistance")
TOPICS = {RFA: "rfa", OFFER: "offer", TASK: "task"}
_TASK_NS = uuid.UUID("6f0b8f5e-4c1e-5a55-9d0e-6b697a756e61")


def task_id_for(offer_id: str) -> str:
    """The id of the task an accepted offer produces (the same on every replay)."""
    return str(uuid.uuid5(_TASK_NS, f"task:{offer_id}"))


def _when(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except (ValueError, TypeError):
        raise Invalid(CATALOG.msg("error.bad-time", field=name, text=text)) from None


def _iso(seconds: Any) -> str | None:
    return iso(float(seconds)) if isinstance(seconds, int | float) else None


def _text(value: Any) -> dict[str, str]:
    return msgspec.to_builtins(value) if value is not None else {"en": "", "ja": ""}


def _closing(c: Closing | None) -> dict[str, Any] | None:
    if c is None:
        return None
    key = f"reason.{c.reason}"
    return {
        "status": c.status,
        "reason": c.reason,
        "reason_name": CATALOG.text(key) if CATALOG.has(key) else None,
        "note": c.note,
        "node": c.node,
        "by": c.by,
        "at": iso(to_seconds(c.hlc)),
    }


def _stamps(state: RecordState) -> dict[str, Any]:
    return {
        **label_fields(state.label),
        "origin": state.origin,
        "precedence": state.precedence.name,
        "created_at": iso(to_seconds(state.created_hlc)),
        "updated_at": iso(to_seconds(state.updated_hlc)),
        "created_by": state.created_by,
        "updated_by": state.updated_by,
    }


def covers(outer: Label, inner: Label, ctx: NodeContext) -> bool:
    """Whether every reader of ``outer`` may also read ``inner`` (so a figure derived from
    ``inner`` may travel under ``outer``)."""
    if inner.classification > outer.classification:
        return False
    wide, narrow = reach(inner, ctx.groups), reach(outer, ctx.groups)
    return wide is None or (narrow is not None and narrow <= wide)


class AssistanceService:
    """The assistance domain on one node, started with the plugin's :class:`NodeContext`."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        ctx.events.on_commit(self._committed)

    # -- change feed -------------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        """After each commit (local or federated): make the task of an offer of ours that
        is now accepted, and push what changed. Must not raise."""
        changed: dict[tuple[str, str], None] = {}
        for e in events:
            if e.record_type in TOPICS:
                changed[(e.record_type, e.record_id)] = None
        if not changed:
            return
        for record_type, rid in changed:
            if record_type == OFFER:
                try:
                    self._task_of_accepted(rid)
                except Exception:
                    log.exception("task from an accepted offer failed", offer=rid)
        if self.ctx.bus.subscribers <= 0:
            return
        rfas = {rid for rt, rid in changed if rt == RFA}
        for rt, rid in changed:
            state = self.ctx.events.get(rt, rid)
            if state is None or not lc.is_complete(state):
                continue
            if rt == OFFER:
                o = rules.derive_offer(state)
                rfas |= {r for r in (o.rfa_id, o.accepted_for) if r}
            if rt != RFA:
                self._push(rt, state)
        for rid in rfas:
            state = self.ctx.events.get(RFA, rid)
            if state is not None and lc.is_complete(state):
                self._push(RFA, state)

    def _push(self, record_type: str, state: RecordState) -> None:
        item: RfaOut | OfferOut | TaskOut
        try:
            if record_type == RFA:
                # Only offers every reader of the RFA may see count in the pushed roll-up.
                offers = [
                    rules.derive_offer(s)
                    for s in self._offer_states()
                    if covers(state.label, s.label, self.ctx)
                ]
                item = self._rfa_view(state, offers, None)
            elif record_type == OFFER:
                item = self._offer_view(state, None)
            else:
                item = self._task_view(state, None)
            self.ctx.bus.publish(TOPICS[record_type], msgspec.to_builtins(item), state.label)
        except Exception:
            log.exception("assistance push failed", record_type=record_type, id=state.record_id)

    def _task_of_accepted(self, offer_id: str) -> None:
        state = self.ctx.events.get(OFFER, offer_id)
        if state is None or state.origin != self.ctx.node_id or not lc.is_complete(state):
            return
        o = rules.derive_offer(state)
        tid = task_id_for(offer_id)
        if o.status not in COMMITTED_OFFER or self.ctx.events.get(TASK, tid) is not None:
            return
        due = o.fields.get("available_from")
        rfa_id = o.accepted_for or o.rfa_id
        rfa = self.ctx.events.get(RFA, rfa_id) if rfa_id else None
        if due is None and rfa is not None and lc.is_complete(rfa):
            due = rules.derive_rfa(rfa).fields.get("needed_by")
        sets = {
            "nation": self.ctx.nation,
            "offer_id": offer_id,
            "rfa_id": rfa_id,
            "incident_id": o.fields.get("incident_id"),
            "unit": o.fields.get("unit") or "",
            "due": due,
            "track_id": None,
            "description": o.fields.get("note") or {"en": "", "ja": ""},
        }
        author = f"node:{self.ctx.node_id}"
        draft = Draft(
            TASK,
            tid,
            "create",
            state.label,
            {"action": "create", "set": sets},
            precedence=state.precedence,
            author=author,
        )
        self.ctx.events.append([draft])
        self.ctx.audit.append("task.create", author, "ok", id=tid, offer=offer_id)

    # -- views -------------------------------------------------------------------------

    def _sides(self, spec: Lifecycle, state: RecordState) -> frozenset[str]:
        return lc.sides_of(spec, state, self.ctx.node_id)

    def _allowed(self, spec: Lifecycle, state: RecordState, caller: Caller | None) -> list[str]:
        if caller is None:
            return []
        status = lc.status_of(spec, state)
        return lc.allowed_transitions(spec, status, self._sides(spec, state), caller.user.roles)

    def _rfa_view(
        self, state: RecordState, offers: Iterable[Offer], caller: Caller | None
    ) -> RfaOut:
        r = rules.derive_rfa(state)
        f = r.fields
        lines, total = rules.roll_up(r, offers)
        site = f.get("site") or {"id": "", "name": {}}
        view = {
            **_stamps(state),
            "id": r.id,
            "incident_id": r.incident_id,
            "affected_state": r.affected_state,
            "affected_node": r.affected_node,
            "requesting_org": _text(f.get("requesting_org")),
            "site": {"id": site.get("id", ""), "name": _text(site.get("name"))},
            "title": _text(f.get("title")),
            "needed_by": _iso(f.get("needed_by")),
            "priority": r.priority,
            "status": r.status,
            "status_name": CATALOG.text(f"status.rfa.{r.status}"),
            "closing": _closing(r.closing),
            "superseded_by": f.get("superseded_by"),
            "lines": lines,
            "coverage": total,
            "coverage_name": CATALOG.text(f"coverage.{total}"),
            "military_assets": bool(f.get("military_assets")),
            "oslo": f.get("oslo"),
            "offers": sorted(o.id for o in rules.counted(r, offers)),
            "allowed_transitions": self._allowed(RFA_LIFECYCLE, state, caller),
        }
        return msgspec.convert(view, RfaOut)

    def _offer_view(self, state: RecordState, caller: Caller | None) -> OfferOut:
        o = rules.derive_offer(state)
        f = o.fields
        lines = [
            {
                **line,
                "in_transit": float(o.progress.get(line["item"], {}).get("in_transit", 0.0)),
                "delivered": float(o.progress.get(line["item"], {}).get("delivered", 0.0)),
            }
            for line in o.lines
        ]
        view = {
            **_stamps(state),
            "id": o.id,
            "nation": str(f.get("nation") or state.label.originator),
            "rfa_id": o.rfa_id,
            "accepted_for": o.accepted_for,
            "solicited": o.rfa_id is not None,
            "committed": o.committed,
            "incident_id": f.get("incident_id"),
            "affected_state": str(f.get("affected_state") or ""),
            "affected_node": o.affected_node,
            "status": o.status,
            "status_name": CATALOG.text(f"status.offer.{o.status}"),
            "closing": _closing(o.closing),
            "lines": lines,
            "capability": f.get("capability"),
            "asset": str(f.get("asset") or ""),
            "unit": str(f.get("unit") or ""),
            "military": bool(f.get("military")),
            "oslo": f.get("oslo"),
            "available_from": _iso(f.get("available_from")),
            "available_to": _iso(f.get("available_to")),
            "note": _text(f.get("note")),
            "allowed_transitions": self._allowed(OFFER_LIFECYCLE, state, caller),
        }
        return msgspec.convert(view, OfferOut)

    def _task_view(self, state: RecordState, caller: Caller | None) -> TaskOut:
        t = rules.derive_task(state)
        view = {
            **_stamps(state),
            "id": state.record_id,
            "nation": str(t.get("nation") or state.label.originator),
            "offer_id": str(t.get("offer_id") or ""),
            "rfa_id": t.get("rfa_id"),
            "incident_id": t.get("incident_id"),
            "unit": str(t.get("unit") or ""),
            "due": _iso(t.get("due")),
            "track_id": t.get("track_id") or None,
            "description": _text(t.get("description")),
            "status": t["status"],
            "status_name": CATALOG.text(f"status.task.{t['status']}"),
            "closing": _closing(t["closing"]),
            "allowed_transitions": self._allowed(TASK_LIFECYCLE, state, caller),
        }
        view.pop("precedence")
        return msgspec.convert(view, TaskOut)

    # -- reads -------------------------------------------------------------------------

    def _offer_states(self) -> list[RecordState]:
        return [s for s in self.ctx.events.scan(OFFER) if lc.is_complete(s)]

    def _visible(self, caller: Caller, record_type: str) -> list[RecordState]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(record_type))
        return [s for s in states if lc.is_complete(s)]

    def _get(self, caller: Caller, record_type: str, rid: str) -> RecordState:
        state = get_visible(self.ctx, caller, record_type, rid)
        if not lc.is_complete(state):
            raise NotFound(CATALOG.msg("error.not-found", record_type=record_type, id=rid))
        return state

    def _visible_offers(self, caller: Caller) -> list[Offer]:
        return [rules.derive_offer(s) for s in self._visible(caller, OFFER)]

    def rfas(self, caller: Caller, incident_id: str | None = None) -> list[RfaOut]:
        """The RFAs the caller may see (of one incident), their roll-ups counting only the
        offers the caller may see."""
        offers = self._visible_offers(caller)
        out = []
        for state in self._visible(caller, RFA):
            if incident_id is not None and lc.owned(state, "incident_id") != incident_id:
                continue
            out.append(self._rfa_view(state, offers, caller))
        return sorted(out, key=lambda r: r.updated_at, reverse=True)

    def rfa(self, caller: Caller, rid: str) -> RfaOut:
        state = self._get(caller, RFA, rid)
        return self._rfa_view(state, self._visible_offers(caller), caller)

    def offers(self, caller: Caller, rfa_id: str | None = None) -> list[OfferOut]:
        out = []
        for state in self._visible(caller, OFFER):
            o = rules.derive_offer(state)
            if rfa_id is not None and not o.links(rfa_id):
                continue
            out.append(self._offer_view(state, caller))
        return sorted(out, key=lambda o: o.updated_at, reverse=True)

    def offer(self, caller: Caller, oid: str) -> OfferOut:
        return self._offer_view(self._get(caller, OFFER, oid), caller)

    def tasks(
        self, caller: Caller, incident_id: str | None = None, offer_id: str | None = None
    ) -> list[TaskOut]:
        out = []
        for state in self._visible(caller, TASK):
            if incident_id is not None and lc.owned(state, "incident_id") != incident_id:
                continue
            if offer_id is not None and lc.owned(state, "offer_id") != offer_id:
                continue
            out.append(self._task_view(state, caller))
        return sorted(out, key=lambda t: t.updated_at, reverse=True)

    def task(self, caller: Caller, tid: str) -> TaskOut:
        return self._task_view(self._get(caller, TASK, tid), caller)

    # -- writes: helpers -----------------------------------------------------------------

    def _commit(self, drafts: list[Draft], action: str, caller: Caller, **details: Any) -> None:
        self.ctx.events.append(drafts)
        self.ctx.audit.append(action, caller.name, "ok", **details)

    def _set(
        self,
        caller: Caller,
        record_type: str,
        state: RecordState,
        sets: dict[str, Any],
        action: str,
    ) -> None:
        """Commit an edit of ``sets`` (field → new value) to a held record, audited."""
        if not sets:
            raise Invalid(CATALOG.msg("error.nothing-to-change"))
        draft = self._draft(record_type, state, {"action": "set", "set": sets}, caller)
        self._commit([draft], action, caller, id=state.record_id, fields=sorted(sets))

    def _draft(
        self, record_type: str, state: RecordState, payload: dict[str, Any], caller: Caller
    ) -> Draft:
        return Draft(
            record_type,
            state.record_id,
            "patch",
            state.label,
            payload,
            precedence=state.precedence,
            author=caller.name,
        )

    def _acting(self, caller: Caller, spec: Lifecycle, state: RecordState, side: str) -> bool:
        return side in self._sides(spec, state) and lc.may_act(spec, caller.user.roles, side)

    def _affected_principal(self, nation: str) -> Any:
        try:
            return make_principal(nation, Classification.TOP_SECRET, registry=self.ctx.groups)
        except LabelError as exc:
            raise Invalid(
                CATALOG.msg(
                    "error.affected-state", reason=str(exc), reason_ja=label_reason(exc, "ja")
                )
            ) from None

    def _transition(
        self,
        caller: Caller,
        spec: Lifecycle,
        record_type: str,
        state: RecordState,
        to: str,
        reason: str,
    ) -> tuple[str, str]:
        status = lc.status_of(spec, state)
        try:
            target = lc.check_transition(
                spec, status, to, self._sides(spec, state), caller.user.roles, reason
            )
        except (Invalid, Conflict, Forbidden) as exc:
            self.ctx.audit.append(
                f"{record_type}.transition",
                caller.name,
                "refused",
                id=state.record_id,
                reason=str(exc),
            )
            raise
        return str(status), str(target)

    # -- writes: RFAs -------------------------------------------------------------------

    def create_rfa(self, caller: Caller, data: RfaIn) -> RfaOut:
        if not lc.may_act(RFA_LIFECYCLE, caller.user.roles, REQUESTER):
            raise Forbidden(CATALOG.msg("error.roles-request"))
        state_of = data.affected_state or self.ctx.nation
        self._affected_principal(state_of)
        node = data.affected_node
        if node is None:
            if state_of != self.ctx.nation:
                raise Invalid(CATALOG.msg("error.name-affected-node", state=state_of))
            node = self.ctx.node_id
        if node == self.ctx.node_id and state_of != self.ctx.nation:
            raise Invalid(CATALOG.msg("error.node-nation", nation=self.ctx.nation, state=state_of))
        if data.priority is not None and node != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.priority-affected"))
        if data.military_assets and data.oslo is None:
            raise Invalid(CATALOG.msg("error.rfa-oslo"))
        lines = rules.normalise_lines(data.lines)
        needed_by = _when(data.needed_by, "needed_by")
        label = label_for_write(self.ctx, caller, data.label)
        sets: dict[str, Any] = {
            "incident_id": data.incident_id,
            "affected_state": state_of,
            "affected_node": node,
            "requesting_org": _text(data.requesting_org),
            "site": msgspec.to_builtins(data.site),
            "title": _text(data.title),
            "needed_by": needed_by,
            "lines": lines,
            "military_assets": data.military_assets,
            "oslo": msgspec.to_builtins(data.oslo),
        }
        if data.priority is not None:
            sets["priority"] = data.priority
        rid = new_id()
        draft = Draft(
            RFA,
            rid,
            "create",
            label,
            {"action": "create", "set": sets},
            precedence=Precedence[data.precedence],
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "rfa.create", caller, id=rid, label=label.render(), lines=len(lines))
        return self.rfa(caller, rid)

    def edit_rfa(self, caller: Caller, rid: str, patch: RfaPatch) -> RfaOut:
        state = self._get(caller, RFA, rid)
        status = lc.status_of(RFA_LIFECYCLE, state)
        sets: dict[str, Any] = {}
        content = {
            "lines": patch.lines,
            "needed_by": patch.needed_by,
            "requesting_org": patch.requesting_org,
            "site": patch.site,
            "title": patch.title,
        }
        if any(v is not None for v in content.values()):
            if not self._acting(caller, RFA_LIFECYCLE, state, REQUESTER):
                raise Forbidden(CATALOG.msg("error.rfa-requester-only", node=state.origin))
            if status not in (RfaStatus.DRAFT, RfaStatus.SUBMITTED):
                raise Conflict(
                    CATALOG.msg("error.rfa-content-fixed", status=status),
                    allowed_transitions=self._allowed(RFA_LIFECYCLE, state, caller),
                )
            if patch.lines is not None:
                sets["lines"] = rules.normalise_lines(patch.lines)
            if patch.needed_by is not None:
                sets["needed_by"] = _when(patch.needed_by, "needed_by")
            for key in ("requesting_org", "title"):
                if content[key] is not None:
                    sets[key] = _text(content[key])
            if patch.site is not None:
                sets["site"] = msgspec.to_builtins(patch.site)
        if patch.priority is not None:
            if not self._acting(caller, RFA_LIFECYCLE, state, AFFECTED):
                raise Forbidden(CATALOG.msg("error.priority-affected"))
            if status in RFA_LIFECYCLE.terminal:
                raise Conflict(CATALOG.msg("error.rfa-final", status=status))
            sets["priority"] = patch.priority
        self._set(caller, RFA, state, sets, "rfa.edit")
        return self.rfa(caller, rid)

    def transition_rfa(self, caller: Caller, rid: str, data: RfaTransitionIn) -> RfaOut:
        state = self._get(caller, RFA, rid)
        frm, to = self._transition(caller, RFA_LIFECYCLE, RFA, state, data.to, data.reason)
        sets: dict[str, Any] = {}
        if data.priority is not None:
            if to != RfaStatus.VALIDATED:
                raise Invalid(CATALOG.msg("error.priority-with-validated"))
            sets["priority"] = data.priority
        if data.superseded_by is not None:
            if to != RfaStatus.SUPERSEDED:
                raise Invalid(CATALOG.msg("error.superseded-by"))
            sets["superseded_by"] = data.superseded_by
        if data.note.strip():
            side = RFA_LIFECYCLE.transitions[(frm, to)]
            sets["decision_note" if side == AFFECTED else "close_note"] = data.note.strip()
        payload: dict[str, Any] = {
            "action": "transition",
            "from": frm,
            "to": to,
            "reason": data.reason.strip(),
        }
        if sets:
            payload["set"] = sets
        self._commit(
            [self._draft(RFA, state, payload, caller)],
            "rfa.transition",
            caller,
            id=rid,
            frm=frm,
            to=to,
            reason=data.reason.strip(),
        )
        return self.rfa(caller, rid)

    # -- writes: offers -----------------------------------------------------------------

    def create_offer(self, caller: Caller, data: OfferIn) -> OfferOut:
        if not lc.may_act(OFFER_LIFECYCLE, caller.user.roles, OFFERER):
            raise Forbidden(CATALOG.msg("error.roles-offer"))
        affected_state, affected_node = data.affected_state, data.affected_node
        incident_id = data.incident_id
        rfa = self._held_rfa(caller, data.rfa_id) if data.rfa_id else None
        if rfa is not None:
            if affected_node not in (None, rfa.affected_node) or affected_state not in (
                None,
                rfa.affected_state,
            ):
                raise Invalid(
                    CATALOG.msg(
                        "error.rfa-of-affected",
                        id=rfa.id,
                        state=rfa.affected_state,
                        node=rfa.affected_node,
                    )
                )
            affected_state, affected_node = rfa.affected_state, rfa.affected_node
            incident_id = incident_id or rfa.incident_id
        if affected_state is None or affected_node is None:
            raise Invalid(CATALOG.msg("error.offer-names-affected"))
        if affected_node == self.ctx.node_id:
            raise Invalid(CATALOG.msg("error.offer-other-node"))
        if data.military:
            if data.oslo is None:
                raise Invalid(CATALOG.msg("error.offer-oslo"))
            if not data.oslo.civilian_alternative_considered:
                raise Invalid(CATALOG.msg("error.oslo-civilian-first"))
        lines = rules.normalise_lines(data.lines)
        if rfa is not None:
            units = {line["item"]: line["unit"] for line in rfa.lines}
            wrong = [
                CATALOG.msg("error.offer-unit", item=line["item"], unit=units[line["item"]])
                for line in lines
                if line["item"] in units and units[line["item"]] != line["unit"]
            ]
            if wrong:
                raise Invalid(rules.joined(wrong), errors=[str(w) for w in wrong])
        start = _when(data.available_from, "available_from")
        end = _when(data.available_to, "available_to")
        if start is not None and end is not None and end < start:
            raise Invalid(CATALOG.msg("error.available-order"))
        label = label_for_write(self.ctx, caller, data.label)
        if not may_release(label, self._affected_principal(affected_state)):
            raise Invalid(
                CATALOG.msg("error.offer-unreadable", state=affected_state, label=label.render())
            )
        sets = {
            "nation": self.ctx.nation,
            "rfa_id": data.rfa_id,
            "incident_id": incident_id,
            "affected_state": affected_state,
            "affected_node": affected_node,
            "lines": lines,
            "capability": data.capability,
            "asset": data.asset,
            "unit": data.unit,
            "military": data.military,
            "oslo": msgspec.to_builtins(data.oslo),
            "available_from": start,
            "available_to": end,
            "note": _text(data.note),
        }
        oid = new_id()
        draft = Draft(
            OFFER,
            oid,
            "create",
            label,
            {"action": "create", "set": sets},
            precedence=Precedence[data.precedence],
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "offer.create", caller, id=oid, rfa=data.rfa_id, label=label.render())
        return self.offer(caller, oid)

    def _held_rfa(self, caller: Caller, rid: str) -> Rfa | None:
        state = self.ctx.events.get(RFA, rid)
        if (
            state is None
            or not lc.is_complete(state)
            or not may_release(state.label, caller.principal)
        ):
            return None
        return rules.derive_rfa(state)

    def transition_offer(self, caller: Caller, oid: str, data: OfferTransitionIn) -> OfferOut:
        state = self._get(caller, OFFER, oid)
        o = rules.derive_offer(state)
        frm, to = self._transition(caller, OFFER_LIFECYCLE, OFFER, state, data.to, data.reason)
        sets: dict[str, Any] = {}
        drafts: list[Draft] = []
        if data.rfa_id is not None and to != OfferStatus.ACCEPTED:
            raise Invalid(CATALOG.msg("error.rfa-id-with-accepted"))
        if data.progress and to not in (OfferStatus.IN_TRANSIT, OfferStatus.DELIVERED):
            raise Invalid(CATALOG.msg("error.progress-with"))
        if to == OfferStatus.ACCEPTED:
            target = data.rfa_id or o.rfa_id
            if data.rfa_id is not None:
                if o.rfa_id not in (None, data.rfa_id):
                    raise Invalid(CATALOG.msg("error.offer-answers", id=o.rfa_id))
                sets["accepted_for"] = data.rfa_id
            rfa_state = self.ctx.events.get(RFA, target) if target else None
            if data.rfa_id is not None and (
                rfa_state is None or lc.owned(rfa_state, "affected_node") != self.ctx.node_id
            ):
                raise Invalid(CATALOG.msg("error.rfa-not-accepting", id=data.rfa_id))
            if (
                rfa_state is not None
                and lc.is_complete(rfa_state)
                and lc.status_of(RFA_LIFECYCLE, rfa_state) == RfaStatus.OPEN
                and AFFECTED in self._sides(RFA_LIFECYCLE, rfa_state)
            ):
                step = {"action": "transition", "from": RfaStatus.OPEN.value, "to": "COMMITTED"}
                drafts.append(self._draft(RFA, rfa_state, {**step, "reason": ""}, caller))
        if to in (OfferStatus.IN_TRANSIT, OfferStatus.DELIVERED):
            progress = self._progress(o, data.progress)
            if to == OfferStatus.DELIVERED and not data.progress:
                progress = {
                    line["item"]: {"in_transit": 0.0, "delivered": float(line["quantity"])}
                    for line in o.lines
                }
            sets["progress"] = progress
        if data.note.strip():
            side = OFFER_LIFECYCLE.transitions[(frm, to)]
            sets["decision_note" if side == AFFECTED else "close_note"] = data.note.strip()
        payload: dict[str, Any] = {
            "action": "transition",
            "from": frm,
            "to": to,
            "reason": data.reason.strip(),
        }
        if sets:
            payload["set"] = sets
        drafts.insert(0, self._draft(OFFER, state, payload, caller))
        self._commit(drafts, "offer.transition", caller, id=oid, frm=frm, to=to)
        return self.offer(caller, oid)

    def _progress(self, o: Offer, items: list[ProgressIn]) -> dict[str, dict[str, float]]:
        progress = {k: dict(v) for k, v in o.progress.items()}
        for p in items:
            progress[p.item] = {"in_transit": p.in_transit, "delivered": p.delivered}
        problems = rules.progress_problems(o, progress)
        if problems:
            raise Invalid(rules.joined(problems), errors=[str(p) for p in problems])
        return progress

    def report_progress(self, caller: Caller, oid: str, data: ProgressReport) -> OfferOut:
        """In-transit and delivered totals on a commitment, by its offerer."""
        state = self._get(caller, OFFER, oid)
        o = rules.derive_offer(state)
        if not self._acting(caller, OFFER_LIFECYCLE, state, OFFERER):
            raise Forbidden(CATALOG.msg("error.offerer-only", node=state.origin))
        if o.status not in (OfferStatus.ACCEPTED, OfferStatus.IN_TRANSIT):
            raise Conflict(CATALOG.msg("error.progress-accepted", status=o.status))
        progress = self._progress(o, data.progress)
        payload = {"action": "set", "set": {"progress": progress}}
        self._commit([self._draft(OFFER, state, payload, caller)], "offer.progress", caller, id=oid)
        return self.offer(caller, oid)

    # -- writes: tasks ------------------------------------------------------------------

    def create_task(self, caller: Caller, data: TaskIn) -> TaskOut:
        """A further task of an accepted offer of this node's."""
        offer = self._get(caller, OFFER, data.offer_id)
        o = rules.derive_offer(offer)
        if not self._acting(caller, OFFER_LIFECYCLE, offer, OFFERER):
            raise Forbidden(CATALOG.msg("error.tasks-of-node", node=offer.origin))
        if not o.committed:
            raise Conflict(CATALOG.msg("error.tasks-accepted", status=o.status))
        label = label_for_write(self.ctx, caller, data.label) if data.label else offer.label
        sets = {
            "nation": self.ctx.nation,
            "offer_id": o.id,
            "rfa_id": o.accepted_for or o.rfa_id,
            "incident_id": o.fields.get("incident_id"),
            "unit": data.unit or o.fields.get("unit") or "",
            "due": _when(data.due, "due"),
            "track_id": data.track_id,
            "description": _text(data.description),
        }
        tid = new_id()
        draft = Draft(
            TASK,
            tid,
            "create",
            label,
            {"action": "create", "set": sets},
            precedence=offer.precedence,
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "task.create", caller, id=tid, offer=o.id, label=label.render())
        return self.task(caller, tid)

    def edit_task(self, caller: Caller, tid: str, patch: TaskPatch) -> TaskOut:
        state = self._get(caller, TASK, tid)
        if not self._acting(caller, TASK_LIFECYCLE, state, EXECUTOR):
            raise Forbidden(CATALOG.msg("error.task-of-node", id=tid, node=state.origin))
        status = lc.status_of(TASK_LIFECYCLE, state)
        if status in TASK_LIFECYCLE.terminal:
            raise Conflict(CATALOG.msg("error.task-final", status=status))
        sets: dict[str, Any] = {}
        if patch.unit is not None:
            sets["unit"] = patch.unit
        if patch.due is not None:
            sets["due"] = _when(patch.due, "due")
        if patch.track_id is not None:
            sets["track_id"] = patch.track_id or None
        if patch.description is not None:
            sets["description"] = _text(patch.description)
        self._set(caller, TASK, state, sets, "task.edit")
        return self.task(caller, tid)

    def transition_task(self, caller: Caller, tid: str, data: TaskTransitionIn) -> TaskOut:
        state = self._get(caller, TASK, tid)
        frm, to = self._transition(caller, TASK_LIFECYCLE, TASK, state, data.to, data.reason)
        payload: dict[str, Any] = {
            "action": "transition",
            "from": frm,
            "to": to,
            "reason": data.reason.strip(),
        }
        if data.note.strip():
            payload["set"] = {"close_note": data.note.strip()}
        self._commit(
            [self._draft(TASK, state, payload, caller)],
            "task.transition",
            caller,
            id=tid,
            frm=frm,
            to=to,
        )
        return self.task(caller, tid)


__all__ = ["AssistanceService", "covers", "task_id_for"]
