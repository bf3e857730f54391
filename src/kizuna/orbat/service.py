"""The ORBAT on one node: units it owns or holds from partners, and the edges between them.

Every read (lists, the tree, the export, features, pushes) passes the release check;
every write the ingress rule. A node writes only its own records (sovereignty); a command
edge is recorded by the node owning the subordinate and holds only within one nation's
chain (refused here with a bilingual reason, and at federation receipt by
:func:`kizuna.orbat.rules.relation_owner`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import structlog

from kizuna.core.catalog import Catalog
from kizuna.core.errors import Conflict, Forbidden, Invalid, KizunaError
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import COUNTRIES
from kizuna.core.merge import lww_merge
from kizuna.core.records import Event, Op, RecordState
from kizuna.core.release import Principal, may_release
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write, visible
from kizuna.kernel.authority import audit_relabel, authorize_relabel
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.contract import Feature
from kizuna.orbat import rules
from kizuna.orbat.models import (
    RELATION,
    UNIT,
    ExportRelation,
    ExportUnit,
    ImportResult,
    OrbatDocument,
    RelationIn,
    RelationOut,
    RelationPatch,
    Resubordinate,
    TreeOut,
    TreeUnit,
    UnitIn,
    UnitOut,
    UnitPatch,
)
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.orbat")
CATALOG = Catalog("kizuna.orbat")
VIEWER = "viewer"  # a role that only reads the ORBAT


def may_edit(caller: Caller) -> bool:
    roles = set(caller.user.roles)
    return not roles or bool(roles - {VIEWER})


def refused(code: str, detail_code: str | None = None, **values: str) -> Invalid:
    """A 422 whose detail is in the reader's language and whose ``reason`` carries both."""
    key = f"refusal.{code}"
    text = CATALOG.text(key, **values)
    reason = {"en": text.en, "ja": text.ja}
    return Invalid(CATALOG.msg(key, **values), code=detail_code or code, reason=reason)


def _within(where: str, exc: KizunaError, **extra: Any) -> Invalid:
    """An item's refusal, prefixed with where in the document it is."""
    detail = CATALOG.msg("error.at", where=where, text=exc.message or exc.detail)
    return Invalid(detail, **extra)


def _time(text: str | None, name: str, default: float | None) -> float | None:
    if text is None:
        return default
    try:
        return parse_iso(text)
    except ValueError:
        raise Invalid(CATALOG.msg("error.bad-time", name=name, text=repr(text[:60]))) from None


def unit_view(state: RecordState) -> UnitOut:
    f = state.fields
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "name": f.get("name") or {"en": "", "ja": ""},
            "nation": f.get("nation", state.label.originator),
            "sidc": f.get("sidc", "10030000000000000000"),
            "echelon": f.get("echelon", "command"),
            "hq": bool(f.get("hq", False)),
            "task_force": bool(f.get("task_force", False)),
            "holdings": f.get("holdings") or [],
            "location": f.get("location"),
            "home_facility": f.get("home_facility"),
            "commanders": f.get("commanders") or [],
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        UnitOut,
    )


def relation_view(state: RecordState) -> RelationOut:
    f = state.fields
    end = f.get("valid_to")
    kind = str(f.get("kind", "COORDINATION"))
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "from_unit": f.get("from_unit", ""),
            "to_unit": f.get("to_unit", ""),
            "kind": kind,
            "command": rules.is_command(kind),
            "valid_from": iso(float(f.get("valid_from") or 0.0)),
            "valid_to": None if end is None else iso(float(end)),
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        RelationOut,
    )


def _complete(state: RecordState, record_type: str) -> bool:
    """A record held whole (a patch that overtook its create is not yet shown)."""
    need = ("name", "sidc") if record_type == UNIT else ("from_unit", "to_unit", "kind")
    return all(k in state.fields for k in need)


class OrbatService:
    """The ORBAT domain on one node. See the module docstring."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        ctx.events.on_commit(self._committed)

    # -- pushes -----------------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        if self.ctx.bus.subscribers == 0:
            return
        seen: dict[tuple[str, str], None] = {}
        for e in events:
            if e.record_type in (UNIT, RELATION):
                seen[(e.record_type, e.record_id)] = None
        for record_type, rid in seen:
            try:
                state = self.ctx.events.get(record_type, rid)
                if state is None:
                    continue
                if state.deleted:
                    item: dict[str, Any] = {"id": rid, "deleted": True}
                elif not _complete(state, record_type):
                    continue
                elif record_type == UNIT:
                    item = msgspec.to_builtins(unit_view(state))
                else:
                    item = msgspec.to_builtins(relation_view(state))
                # The bus checks the label for each session before it sends.
                self.ctx.bus.publish(record_type, item, state.label)
            except Exception:
                log.exception("orbat.push_failed", record_id=rid)

    # -- reads ------------------------------------------------------------------------

    def _states(self, caller: Caller | Principal, record_type: str) -> list[RecordState]:
        states = [s for s in self.ctx.events.scan(record_type) if _complete(s, record_type)]
        if isinstance(caller, Caller):
            return filter_visible(self.ctx, caller, states)
        return [s for s in states if not s.deleted and may_release(s.label, caller)]

    def units(self, caller: Caller) -> list[UnitOut]:
        states = self._states(caller, UNIT)
        return [unit_view(s) for s in sorted(states, key=lambda s: s.record_id)]

    def unit(self, caller: Caller, rid: str) -> UnitOut:
        return unit_view(get_visible(self.ctx, caller, UNIT, rid))

    def relations(
        self, caller: Caller, unit: str | None = None, at: float | None = None
    ) -> list[RelationOut]:
        states = self._states(caller, RELATION)
        if unit is not None:
            states = [s for s in states if unit in (s.fields["from_unit"], s.fields["to_unit"])]
        if at is not None:
            states = [s for s in states if rules.valid_at(s.fields, at)]
        states.sort(key=lambda s: (float(s.fields.get("valid_from") or 0.0), s.record_id))
        return [relation_view(s) for s in states]

    def relation(self, caller: Caller, rid: str) -> RelationOut:
        return relation_view(get_visible(self.ctx, caller, RELATION, rid))

    def _unit_at(self, caller: Caller, state: RecordState, at: float) -> RecordState | None:
        """The unit as the event log had it at ``at`` (the first recorded state if it was
        recorded later: edges are valid-time, records transaction-time), or None if it was
        removed by then or its label then kept it from the caller."""
        if state.deleted and to_seconds(state.updated_hlc) <= at:
            return None
        if to_seconds(state.updated_hlc) <= at:
            return state
        events = self.ctx.events.record_events(UNIT, state.record_id)
        past = rules.state_at(events, at, lww_merge)
        if past is None and events:
            past = lww_merge(None, min(events, key=lambda e: e.order))
        if past is None or past.deleted or not may_release(past.label, caller.principal):
            return None
        if not _complete(past, UNIT):
            return state
        return past

    def tree(self, caller: Caller, at: float | None = None) -> TreeOut:
        """The task organisation at ``at`` (now by default): the edges valid then, the
        units as recorded then; only what the caller may see (an edge to a unit the caller
        may not see is not shown, and its subordinate shows as a root)."""
        when = time.time() if at is None else at
        current = [
            s
            for s in self.ctx.events.scan(UNIT)
            if _complete(s, UNIT) and (visible(self.ctx, caller, s) or s.deleted)
        ]
        units: dict[str, RecordState] = {}
        for s in current:
            if s.deleted and not may_release(s.label, caller.principal):
                continue
            past = self._unit_at(caller, s, when) if at is not None else s
            if past is not None and not (at is None and s.deleted):
                units[s.record_id] = past
        edges = {
            s.record_id: s
            for s in self._states(caller, RELATION)
            if rules.valid_at(s.fields, when) and self._placeable(s, units)
        }
        names = {u: str((s.fields.get("name") or {}).get("en", "")) for u, s in units.items()}
        placed, coordination = rules.tree(
            sorted(units), [(rid, s.fields) for rid, s in sorted(edges.items())], names
        )
        views = {u: unit_view(s) for u, s in units.items()}
        return TreeOut(
            at=iso(when),
            units=[
                TreeUnit(
                    unit=views[p.unit_id],
                    parent=p.parent,
                    relation=None if p.relation is None else relation_view(edges[p.relation]),
                    depth=p.depth,
                    children=p.children,
                    other=[relation_view(edges[r]) for r in p.other],
                )
                for p in placed
            ],
            coordination=[relation_view(edges[r]) for r in coordination],
            historical_units=at is not None,
        )

    @staticmethod
    def _placeable(edge: RecordState, units: dict[str, RecordState]) -> bool:
        """A command edge is drawn only between units of one nation as this node holds them
        (whatever nations the edge itself names)."""
        f = edge.fields
        if not rules.is_command(str(f.get("kind"))):
            return True
        a, b = units.get(str(f["from_unit"])), units.get(str(f["to_unit"]))
        return a is None or b is None or a.fields.get("nation") == b.fields.get("nation")

    def features(self, reader: Caller | Principal) -> list[Feature]:
        """Units with a location, as map features released to ``reader``."""
        out = []
        for s in sorted(self._states(reader, UNIT), key=lambda s: s.record_id):
            u = unit_view(s)
            if u.location is None:
                continue
            out.append(
                Feature(
                    id=u.id,
                    record_type=UNIT,
                    name={"en": u.name.en, "ja": u.name.ja},
                    geometry={"type": "Point", "coordinates": [u.location.lon, u.location.lat]},
                    label=s.label.render(),
                    properties={
                        "nation": u.nation,
                        "node": u.origin,
                        "echelon": u.echelon,
                        "hq": u.hq,
                        "task_force": u.task_force,
                        "home_facility": u.home_facility,
                    },
                    sidc=u.sidc,
                )
            )
        return out

    # -- units --------------------------------------------------------------------------

    def _editor(self, caller: Caller) -> None:
        if not may_edit(caller):
            raise Forbidden(CATALOG.msg("error.viewer"))

    def _own(self, caller: Caller, record_type: str, rid: str) -> RecordState:
        self._editor(caller)
        state = get_visible(self.ctx, caller, record_type, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(
                CATALOG.msg("error.not-own", type=record_type, id=rid, node=state.origin)
            )
        return state

    @staticmethod
    def _nation(nation: str | None, default: str) -> str:
        code = nation or default
        if code not in COUNTRIES:
            raise Invalid(CATALOG.msg("error.unknown-nation", nation=repr(code)))
        return code

    @staticmethod
    def _unit_payload(data: UnitIn | ExportUnit, nation: str) -> dict[str, Any]:
        problem = rules.sidc_problem(data.sidc)
        if problem:
            raise Invalid(
                CATALOG.msg("error.bad-sidc", sidc=repr(data.sidc), problem=problem),
                errors=[f"sidc: {problem}"],
            )
        if not (data.name.en.strip() or data.name.ja.strip()):
            raise Invalid(CATALOG.msg("error.unit-name"), errors=["name: empty"])
        items = [(h.kind, h.item) for h in data.holdings]
        if len(set(items)) != len(items):
            raise Invalid(CATALOG.msg("error.holding-twice"), errors=["holdings"])
        return {
            "name": msgspec.to_builtins(data.name),
            "nation": nation,
            "sidc": rules.sidc_with(
                data.sidc, hq=data.hq, task_force=data.task_force, echelon=data.echelon
            ),
            "echelon": data.echelon,
            "hq": data.hq,
            "task_force": data.task_force,
            "holdings": msgspec.to_builtins(data.holdings),
            "location": msgspec.to_builtins(data.location),
            "home_facility": data.home_facility,
            "commanders": msgspec.to_builtins(data.commanders),
        }

    def create_unit(self, caller: Caller, data: UnitIn) -> UnitOut:
        self._editor(caller)
        label = label_for_write(self.ctx, caller, data.label)
        payload = self._unit_payload(data, self._nation(data.nation, self.ctx.nation))
        rid = data.id or new_id()
        if self.ctx.events.get(UNIT, rid) is not None:
            raise Conflict(CATALOG.msg("error.unit-exists", id=rid))
        self.ctx.events.append(
            [Draft(UNIT, rid, "create", label, payload, author=caller.name, new_record=True)]
        )
        self.ctx.audit.append("unit.create", caller.name, "ok", id=rid, label=label.render())
        return self.unit(caller, rid)

    def update_unit(self, caller: Caller, rid: str, data: UnitPatch) -> UnitOut:
        state = self._own(caller, UNIT, rid)
        f = state.fields
        now = unit_view(state)
        merged = UnitIn(
            label=data.label or state.label.render(fgi=False),
            name=data.name or now.name,
            sidc=data.sidc or now.sidc,
            echelon=data.echelon or now.echelon,
            nation=now.nation,
            hq=now.hq if data.hq is None else data.hq,
            task_force=now.task_force if data.task_force is None else data.task_force,
            holdings=now.holdings if data.holdings is None else data.holdings,
            location=data.location or now.location,
            home_facility=data.home_facility or now.home_facility,
            commanders=now.commanders if data.commanders is None else data.commanders,
        )
        payload = self._unit_payload(merged, now.nation)
        payload = {k: v for k, v in payload.items() if f.get(k) != v}
        self._patch(caller, UNIT, state, data.label, payload)
        return self.unit(caller, rid)

    def _patch(
        self,
        caller: Caller,
        record_type: str,
        state: RecordState,
        marking: str | None,
        payload: dict[str, Any],
    ) -> None:
        rid = state.record_id
        label = label_for_write(self.ctx, caller, marking) if marking else state.label
        decision = authorize_relabel(
            self.ctx, caller, record_type, rid, state.origin, state.label, label
        )
        if decision.widened:  # a peer the old label kept out gets the whole record
            payload = {**state.fields, **payload}
        if not payload and label == state.label:
            return
        self.ctx.events.append(
            [Draft(record_type, rid, "patch", label, payload, author=caller.name)]
        )
        self.ctx.audit.append(
            f"{record_type}.update", caller.name, "ok", id=rid, label=label.render()
        )
        audit_relabel(self.ctx, caller, record_type, rid, decision)

    def delete_unit(self, caller: Caller, rid: str) -> None:
        state = self._own(caller, UNIT, rid)
        self.ctx.events.append([Draft(UNIT, rid, "tombstone", state.label, {}, author=caller.name)])
        self.ctx.audit.append("unit.delete", caller.name, "ok", id=rid)

    # -- relations ----------------------------------------------------------------------

    def _edge_payload(
        self,
        caller: Caller,
        *,
        from_unit: str,
        to_unit: str,
        kind: str,
        start: float,
        end: float | None,
        pending: dict[str, RecordState] | None = None,
        pending_edges: Iterable[dict[str, Any]] = (),
        skip: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The fields of a new edge after every check (422 with a bilingual reason)."""
        held = pending or {}

        def unit(uid: str) -> RecordState:
            if uid in held:
                return held[uid]
            return get_visible(self.ctx, caller, UNIT, uid)

        a, b = unit(from_unit), unit(to_unit)
        fa, fb = a.fields.get("nation"), b.fields.get("nation")
        why = rules.edge_refusal(kind, fa, fb, from_unit, to_unit)
        if why is not None:
            raise refused(why.code, **{k: str(v) for k, v in why.values.items()})
        if end is not None and end <= start:
            raise refused("interval")
        a_node = a.origin if from_unit not in held else self.ctx.node_id
        b_node = b.origin if to_unit not in held else self.ctx.node_id
        if rules.is_command(kind):
            if a_node != self.ctx.node_id:
                raise refused("not_subordinate_owner", node=a_node)
            ignore = set(skip)
            edges = [
                s.fields
                for s in self.ctx.events.scan(RELATION)
                if not s.deleted and s.record_id not in ignore and _complete(s, RELATION)
            ]
            if rules.would_cycle([*edges, *pending_edges], from_unit, to_unit, start, end):
                raise refused("cycle", kind=kind)
        elif self.ctx.node_id not in (a_node, b_node):
            raise refused("not_party")
        return {
            "from_unit": from_unit,
            "to_unit": to_unit,
            "kind": kind,
            "valid_from": start,
            "valid_to": end,
            "from_nation": fa,
            "to_nation": fb,
            "from_node": a_node,
            "to_node": b_node,
        }

    def create_relation(self, caller: Caller, data: RelationIn) -> RelationOut:
        self._editor(caller)
        label = label_for_write(self.ctx, caller, data.label)
        start = _time(data.valid_from, "valid_from", time.time())
        assert start is not None
        end = _time(data.valid_to, "valid_to", None)
        payload = self._edge_payload(
            caller,
            from_unit=data.from_unit,
            to_unit=data.to_unit,
            kind=data.kind,
            start=start,
            end=end,
        )
        rid = data.id or new_id()
        if self.ctx.events.get(RELATION, rid) is not None:
            raise Conflict(CATALOG.msg("error.relation-exists", id=rid))
        self.ctx.events.append(
            [Draft(RELATION, rid, "create", label, payload, author=caller.name, new_record=True)]
        )
        self.ctx.audit.append(
            "unit_relation.create", caller.name, "ok", id=rid, kind=data.kind, label=label.render()
        )
        return self.relation(caller, rid)

    def update_relation(self, caller: Caller, rid: str, data: RelationPatch) -> RelationOut:
        state = self._own(caller, RELATION, rid)
        payload: dict[str, Any] = {}
        if data.valid_to is not None:
            end = _time(data.valid_to, "valid_to", None)
            assert end is not None
            if end <= float(state.fields["valid_from"]):
                raise refused("interval")
            payload["valid_to"] = end
        self._patch(caller, RELATION, state, data.label, payload)
        return self.relation(caller, rid)

    def delete_relation(self, caller: Caller, rid: str) -> None:
        state = self._own(caller, RELATION, rid)
        self.ctx.events.append(
            [Draft(RELATION, rid, "tombstone", state.label, {}, author=caller.name)]
        )
        self.ctx.audit.append("unit_relation.delete", caller.name, "ok", id=rid)

    def resubordinate(self, caller: Caller, unit_id: str, data: Resubordinate) -> list[RelationOut]:
        """End the unit's command edges open at ``at`` and start one to the new superior,
        in one commit: the task organisation before ``at`` stays as it was."""
        self._editor(caller)
        if not rules.is_command(data.kind):
            raise Invalid(CATALOG.msg("error.resubordinate-command"))
        label = label_for_write(self.ctx, caller, data.label)
        at = _time(data.at, "at", time.time())
        assert at is not None
        ending = [
            s
            for s in self._states(caller, RELATION)
            if s.fields["from_unit"] == unit_id
            and rules.is_command(str(s.fields["kind"]))
            and (data.ends == "all" or s.fields["kind"] == data.kind)
            and rules.valid_at(s.fields, at)
        ]
        for s in ending:
            if s.origin != self.ctx.node_id:
                raise Forbidden(
                    CATALOG.msg("error.relation-elsewhere", id=s.record_id, node=s.origin)
                )
            if float(s.fields["valid_from"]) >= at:
                raise refused("interval")
        payload = self._edge_payload(
            caller,
            from_unit=unit_id,
            to_unit=data.to_unit,
            kind=data.kind,
            start=at,
            end=None,
            skip=[s.record_id for s in ending],
        )
        rid = new_id()
        drafts = [
            Draft(RELATION, s.record_id, "patch", s.label, {"valid_to": at}, author=caller.name)
            for s in ending
        ]
        drafts.append(
            Draft(RELATION, rid, "create", label, payload, author=caller.name, new_record=True)
        )
        self.ctx.events.append(drafts)
        self.ctx.audit.append(
            "unit.resubordinate",
            caller.name,
            "ok",
            id=unit_id,
            to=data.to_unit,
            ended=[s.record_id for s in ending],
        )
        return [self.relation(caller, r) for r in [*(s.record_id for s in ending), rid]]

    # -- export and import ------------------------------------------------------------

    def export(self, caller: Caller | Principal) -> OrbatDocument:
        """Every unit and edge (all of time) the reader may see, in the exchange form."""
        units = sorted(self._states(caller, UNIT), key=lambda s: s.record_id)
        shown = {s.record_id for s in units}
        rels = [
            s
            for s in self._states(caller, RELATION)
            if s.fields["from_unit"] in shown and s.fields["to_unit"] in shown
        ]
        rels.sort(key=lambda s: s.record_id)
        return OrbatDocument(
            format="kizuna-orbat",
            version=1,
            exported_at=iso(time.time()),
            exported_by=self.ctx.node_id,
            units=[
                ExportUnit(
                    id=s.record_id,
                    origin=s.origin,
                    label=s.label.render(fgi=False),
                    name=v.name,
                    nation=v.nation,
                    sidc=v.sidc,
                    echelon=v.echelon,
                    hq=v.hq,
                    task_force=v.task_force,
                    holdings=v.holdings,
                    location=v.location,
                    home_facility=v.home_facility,
                    commanders=v.commanders,
                )
                for s in units
                for v in (unit_view(s),)
            ],
            relations=[
                ExportRelation(
                    id=s.record_id,
                    origin=s.origin,
                    label=s.label.render(fgi=False),
                    from_unit=r.from_unit,
                    to_unit=r.to_unit,
                    kind=r.kind,
                    valid_from=r.valid_from,
                    valid_to=r.valid_to,
                )
                for s in rels
                for r in (relation_view(s),)
            ],
        )

    def import_document(self, caller: Caller, doc: OrbatDocument) -> ImportResult:
        """Write a document's units and edges as this node's (ids kept, so a re-import
        updates): every item is checked first, then all are written in one commit, so a
        bad item leaves nothing applied."""
        self._editor(caller)
        drafts: list[Draft] = []
        held: dict[str, RecordState] = {}
        counts = {"uc": 0, "uu": 0, "rc": 0, "ru": 0}
        for i, u in enumerate(doc.units):
            where = f"units[{i}] ({u.id})"
            try:
                label = label_for_write(self.ctx, caller, u.label)
                payload = self._unit_payload(u, self._nation(u.nation, self.ctx.nation))
            except (Invalid, Forbidden) as exc:
                raise _within(where, exc) from None
            if u.id in held:
                raise Invalid(CATALOG.msg("error.id-twice", where=where))
            existing = self.ctx.events.get(UNIT, u.id)
            if existing is not None and existing.origin != self.ctx.node_id:
                raise Conflict(
                    CATALOG.msg("error.unit-id-owned", where=where, node=existing.origin)
                )
            op: Op = "create" if existing is None else "patch"
            counts["uc" if op == "create" else "uu"] += 1
            drafts.append(
                Draft(UNIT, u.id, op, label, payload, author=caller.name, new_record=op == "create")
            )
            held[u.id] = RecordState(
                record_type=UNIT,
                record_id=u.id,
                origin=self.ctx.node_id,
                label=label,
                precedence=drafts[-1].precedence,
                fields=payload,
                clocks={},
                base=(0, self.ctx.node_id, 0),
                created_hlc=0,
                updated_hlc=0,
            )
        pending: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, r in enumerate(doc.relations):
            where = f"relations[{i}] ({r.id})"
            if r.id in seen:
                raise Invalid(CATALOG.msg("error.id-twice", where=where))
            seen.add(r.id)
            try:
                label = label_for_write(self.ctx, caller, r.label)
                start = _time(r.valid_from, "valid_from", None)
                assert start is not None
                payload = self._edge_payload(
                    caller,
                    from_unit=r.from_unit,
                    to_unit=r.to_unit,
                    kind=r.kind,
                    start=start,
                    end=_time(r.valid_to, "valid_to", None),
                    pending=held,
                    pending_edges=pending,
                    skip=[r.id],
                )
            except (Invalid, Forbidden) as exc:
                raise _within(where, exc, reason=exc.extra.get("reason")) from None
            except KizunaError as exc:  # a unit neither in the document nor held here
                raise _within(where, exc) from None
            existing = self.ctx.events.get(RELATION, r.id)
            if existing is not None and existing.origin != self.ctx.node_id:
                raise Conflict(
                    CATALOG.msg("error.edge-id-owned", where=where, node=existing.origin)
                )
            op = "create" if existing is None else "patch"
            counts["rc" if op == "create" else "ru"] += 1
            pending.append(payload)
            drafts.append(
                Draft(
                    RELATION,
                    r.id,
                    op,
                    label,
                    payload,
                    author=caller.name,
                    new_record=op == "create",
                )
            )
        if drafts:
            self.ctx.events.append(drafts)
        self.ctx.audit.append(
            "orbat.import", caller.name, "ok", units=len(doc.units), relations=len(doc.relations)
        )
        return ImportResult(
            units_created=counts["uc"],
            units_updated=counts["uu"],
            relations_created=counts["rc"],
            relations_updated=counts["ru"],
        )
