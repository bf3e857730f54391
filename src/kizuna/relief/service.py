"""Relief on one node: capabilities, stocks, shelters and relief plans through the event
log (writes label-checked and audited, every read release-checked), the needs calculator
and capability matching. Every commit that changes a complete record, local or federated,
is published on the node's bus (topics ``capability``, ``stock``, ``shelter``,
``relief_plan``) as its API view, under its label.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import structlog

from kizuna.core.catalog import Message
from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Label
from kizuna.core.records import Event, RecordState
from kizuna.core.text import MAX_BODY, MAX_TITLE
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import audit_relabel, authorize_relabel
from kizuna.kernel.context import Caller, NodeContext
from kizuna.relief.items import CAPABILITIES, ITEMS, MODES
from kizuna.relief.models import (
    CAPABILITY,
    RELIEF_PLAN,
    SHELTER,
    STOCK,
    CapabilityCandidate,
    CapabilityCodeOut,
    CapabilityIn,
    CapabilityOut,
    CapabilityPatch,
    CatalogueOut,
    DraftLine,
    ItemOut,
    LineMatch,
    ModeOut,
    NeedsIn,
    NeedsOut,
    ReliefPlanIn,
    ReliefPlanOut,
    ReliefPlanPatch,
    ShelterIn,
    ShelterOut,
    ShelterPatch,
    StockIn,
    StockOut,
    StockPatch,
    Where,
)
from kizuna.relief.rules import (
    CATALOG,
    DAY,
    Offerable,
    RuleError,
    fits,
    joined,
    needs,
    needs_problems,
    over_capacity,
    owner_may_edit,
    plan_switch_problem,
    position_problem,
    quantity_problem,
    readiness_problem,
    shelter_problems,
    stock_quantity,
    text_problem,
    window_problem,
)
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.relief")

TOPICS = {CAPABILITY: "capability", STOCK: "stock", SHELTER: "shelter", RELIEF_PLAN: "relief_plan"}
# The field a state must hold to be a whole record (a peer's patch may arrive first).
REQUIRED = {CAPABILITY: "code", STOCK: "item", SHELTER: "name", RELIEF_PLAN: "mode"}
# What a peer needs to hold the whole record, sent again when a label is widened.
CONTENT = {
    CAPABILITY: (
        "nation",
        "code",
        "quantity",
        "unit_name",
        "military",
        "available_from",
        "available_to",
        "readiness_hours",
        "caveats",
        "position",
        "incident_id",
    ),
    STOCK: (
        "nation",
        "site_id",
        "site_name",
        "position",
        "item",
        "quantity",
        "pack_size",
        "incident_id",
    ),
    SHELTER: (
        "name",
        "municipality",
        "municipality_code",
        "position",
        "capacity_day",
        "capacity_night",
        "population_day",
        "population_night",
        "availability",
        "incident_id",
    ),
    RELIEF_PLAN: ("incident_id", "mode", "switched_at", "by", "reason", "history"),
}
EMPTY = {"en": "", "ja": ""}


# -- views ------------------------------------------------------------------------------


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else iso(seconds)


def _meta(state: RecordState) -> dict[str, Any]:
    return {
        "id": state.record_id,
        "origin": state.origin,
        **label_fields(state.label),
        "created_at": iso(to_seconds(state.created_hlc)),
        "updated_at": iso(to_seconds(state.updated_hlc)),
        "created_by": state.created_by,
        "updated_by": state.updated_by,
    }


def capability_view(state: RecordState) -> CapabilityOut:
    f = state.fields
    spec = CAPABILITIES[f["code"]]
    return msgspec.convert(
        {
            **_meta(state),
            "nation": f.get("nation", state.label.originator),
            "code": spec.code,
            "name": CATALOG.text(f"capability.{spec.code}"),
            "unit": spec.unit,
            "basis": spec.basis,
            "quantity": f.get("quantity", 0.0),
            "unit_name": f.get("unit_name", ""),
            "military": f.get("military", True),
            "available_from": _time(f.get("available_from")),
            "available_to": _time(f.get("available_to")),
            "readiness_hours": f.get("readiness_hours", 0.0),
            "caveats": f.get("caveats", EMPTY),
            "position": f.get("position"),
            "incident_id": f.get("incident_id"),
        },
        CapabilityOut,
    )


def stock_view(state: RecordState) -> StockOut:
    f = state.fields
    spec = ITEMS[f["item"]]
    size = f.get("pack_size")
    quantity = float(f.get("quantity", 0.0))
    return msgspec.convert(
        {
            **_meta(state),
            "nation": f.get("nation", state.label.originator),
            "site_id": f.get("site_id", ""),
            "site_name": f.get("site_name", EMPTY),
            "position": f.get("position"),
            "item": spec.code,
            "item_name": CATALOG.text(f"item.{spec.code}"),
            "unit": spec.unit,
            "quantity": quantity,
            "pack_size": size,
            "packs": None if not size else quantity / size,
            "incident_id": f.get("incident_id"),
        },
        StockOut,
    )


def shelter_view(state: RecordState) -> ShelterOut:
    f = state.fields
    counts = {
        k: int(f.get(k, 0))
        for k in ("capacity_day", "capacity_night", "population_day", "population_night")
    }
    availability = f.get("availability", "open")
    return msgspec.convert(
        {
            **_meta(state),
            "name": f["name"],
            "municipality": f.get("municipality", EMPTY),
            "municipality_code": f.get("municipality_code"),
            "position": f.get("position"),
            **counts,
            "availability": availability,
            "availability_name": CATALOG.text(f"availability.{availability}"),
            "over_capacity_day": over_capacity(counts["population_day"], counts["capacity_day"]),
            "over_capacity_night": over_capacity(
                counts["population_night"], counts["capacity_night"]
            ),
            "incident_id": f.get("incident_id"),
        },
        ShelterOut,
    )


def _change(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "mode": entry["mode"],
        "mode_name": CATALOG.text(f"mode.{entry['mode']}"),
        "switched_at": iso(entry["switched_at"]),
        "by": entry.get("by", ""),
        "reason": entry.get("reason", EMPTY),
    }


def plan_view(state: RecordState) -> ReliefPlanOut:
    f = state.fields
    current = {k: f.get(k) for k in ("mode", "switched_at", "by", "reason")}
    return msgspec.convert(
        {
            **_meta(state),
            "incident_id": f.get("incident_id", state.record_id),
            **_change({**current, "switched_at": current["switched_at"] or 0.0}),
            "history": [_change(e) for e in f.get("history", [])],
        },
        ReliefPlanOut,
    )


VIEWS: dict[str, Callable[[RecordState], Any]] = {
    CAPABILITY: capability_view,
    STOCK: stock_view,
    SHELTER: shelter_view,
    RELIEF_PLAN: plan_view,
}


def is_complete(state: RecordState) -> bool:
    return not state.deleted and REQUIRED[state.record_type] in state.fields


# -- input checks -------------------------------------------------------------------------


def _invalid(problems: Sequence[Message | None]) -> None:
    found = [p for p in problems if p]
    if found:
        raise Invalid(joined(found), errors=[str(p) for p in found])


def _position(where: Where | None, field: str = "position") -> dict[str, float] | None:
    _invalid([position_problem(where, field)])
    return None if where is None else {"lat": where.lat, "lon": where.lon}


def _when(text: str | None, field: str) -> float | None:
    if not text:
        return None
    try:
        return parse_iso(text)
    except (ValueError, TypeError):
        raise Invalid(CATALOG.msg("error.bad-time", field=field, text=text)) from None


def _text(value: Any) -> dict[str, str] | None:
    return None if value is None else msgspec.to_builtins(value)


def _as_line(raw: Any, n: int) -> DraftLine:
    """A line to match: a DraftLine, assistance's LineIn (quantity, or packs × pack_size)
    or an RFA's LineOut (its gap, what is still to be covered), as an object or a dict."""
    if isinstance(raw, DraftLine):
        return raw

    def field(name: str) -> Any:
        return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)

    quantity = field("quantity")
    if quantity is None and field("packs") is not None and field("pack_size") is not None:
        quantity = float(field("packs")) * float(field("pack_size"))
    for name in ("gap", "requested"):
        if quantity is None:
            quantity = field(name)
    try:
        return msgspec.convert(
            {
                "item": field("item"),
                "kind": field("kind") or "item",
                "description": msgspec.to_builtins(field("description") or EMPTY),
                "quantity": quantity,
                "unit": field("unit"),
                "pack_size": field("pack_size"),
                "packs": field("packs"),
            },
            DraftLine,
        )
    except msgspec.ValidationError as exc:
        raise Invalid(CATALOG.msg("error.bad-line", n=n, reason=str(exc)), item=n) from None


# -- the service ----------------------------------------------------------------------------


class ReliefService:
    """The relief domain on one node, started with the plugin's :class:`NodeContext`."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        ctx.events.on_commit(self._committed)

    # change feed
    def _committed(self, events: Sequence[Event]) -> None:
        """After each commit (local or federated): publish each changed whole record.
        Runs on the committing thread; must not block."""
        if self.ctx.bus.subscribers <= 0:
            return
        changed = dict.fromkeys(
            (e.record_type, e.record_id) for e in events if e.record_type in TOPICS
        )
        for rtype, rid in changed:
            state = self.ctx.events.get(rtype, rid)
            if state is None or not is_complete(state):
                continue
            try:
                item = msgspec.to_builtins(VIEWS[rtype](state))
                self.ctx.bus.publish(TOPICS[rtype], item, state.label)
            except Exception:
                log.exception("relief push failed", record_type=rtype, record_id=rid)

    # reads
    def _all(self, caller: Caller, rtype: str) -> list[RecordState]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(rtype))
        return sorted(
            (s for s in states if is_complete(s)), key=lambda s: s.updated_hlc, reverse=True
        )

    def _one(self, caller: Caller, rtype: str, rid: str) -> RecordState:
        state = get_visible(self.ctx, caller, rtype, rid)
        if not is_complete(state):
            raise NotFound(CATALOG.msg("error.not-found", record_type=rtype, id=rid))
        return state

    def capabilities(
        self, caller: Caller, code: str | None = None, nation: str | None = None
    ) -> list[CapabilityOut]:
        out = [capability_view(s) for s in self._all(caller, CAPABILITY)]
        return [c for c in out if (code in (None, c.code)) and (nation in (None, c.nation))]

    def capability(self, caller: Caller, rid: str) -> CapabilityOut:
        return capability_view(self._one(caller, CAPABILITY, rid))

    def stocks(
        self,
        caller: Caller,
        item: str | None = None,
        site_id: str | None = None,
        incident_id: str | None = None,
    ) -> list[StockOut]:
        out = [stock_view(s) for s in self._all(caller, STOCK)]
        return [
            s
            for s in out
            if item in (None, s.item)
            and site_id in (None, s.site_id)
            and incident_id in (None, s.incident_id)
        ]

    def stock(self, caller: Caller, rid: str) -> StockOut:
        return stock_view(self._one(caller, STOCK, rid))

    def shelters(self, caller: Caller, incident_id: str | None = None) -> list[ShelterOut]:
        out = [shelter_view(s) for s in self._all(caller, SHELTER)]
        return [s for s in out if incident_id in (None, s.incident_id)]

    def shelter(self, caller: Caller, rid: str) -> ShelterOut:
        return shelter_view(self._one(caller, SHELTER, rid))

    def plans(self, caller: Caller, incident_id: str | None = None) -> list[ReliefPlanOut]:
        out = [plan_view(s) for s in self._all(caller, RELIEF_PLAN)]
        return [p for p in out if incident_id in (None, p.incident_id)]

    def plan(self, caller: Caller, incident_id: str) -> ReliefPlanOut:
        return plan_view(self._one(caller, RELIEF_PLAN, incident_id))

    def mode(self, caller: Caller, incident_id: str) -> str:
        """The incident's support mode as the caller may see it: push until switched."""
        try:
            return self.plan(caller, incident_id).mode
        except NotFound:
            return "push"

    # writes
    def _commit(
        self, caller: Caller, rtype: str, rid: str, op: str, label: Label, payload: dict[str, Any]
    ) -> RecordState:
        self.ctx.events.append(
            [
                Draft(
                    rtype,
                    rid,
                    op,  # type: ignore[arg-type]
                    label,
                    payload,
                    author=caller.name,
                    new_record=op == "create",
                )
            ]
        )
        self.ctx.audit.append(f"{rtype}.{op}", caller.name, "ok", id=rid, label=label.render())
        state = self.ctx.events.get(rtype, rid)
        assert state is not None
        return state

    def _create(
        self, caller: Caller, rtype: str, marking: str, payload: dict[str, Any], rid: str = ""
    ) -> RecordState:
        label = label_for_write(self.ctx, caller, marking)
        return self._commit(caller, rtype, rid or new_id(), "create", label, payload)

    def _owned(self, caller: Caller, rtype: str, rid: str) -> RecordState:
        state = self._one(caller, rtype, rid)
        if not owner_may_edit(state.origin, self.ctx.node_id):
            raise Forbidden(
                CATALOG.msg("error.not-owner", record_type=rtype, id=rid, node=state.origin)
            )
        return state

    def _patch(
        self,
        caller: Caller,
        state: RecordState,
        marking: str | None,
        changes: dict[str, Any],
    ) -> RecordState:
        rtype, rid = state.record_type, state.record_id
        label = label_for_write(self.ctx, caller, marking) if marking else state.label
        decision = authorize_relabel(self.ctx, caller, rtype, rid, state.origin, state.label, label)
        payload: dict[str, Any] = {}
        if decision.widened:
            # Peers the old label kept out never had the record: send all of it.
            payload = {k: state.fields[k] for k in CONTENT[rtype] if k in state.fields}
        payload.update(changes)
        new = self._commit(caller, rtype, rid, "patch", label, payload)
        audit_relabel(self.ctx, caller, rtype, rid, decision)
        return new

    # capabilities
    def create_capability(self, caller: Caller, data: CapabilityIn) -> CapabilityOut:
        spec = CAPABILITIES.get(data.code)
        if spec is None:
            raise Invalid(
                CATALOG.msg(
                    "error.unknown-capability", code=data.code, known=", ".join(CAPABILITIES)
                )
            )
        start = _when(data.available_from, "available_from")
        end = _when(data.available_to, "available_to")
        _invalid(
            [
                quantity_problem(data.quantity, "quantity", positive=True),
                readiness_problem(data.readiness_hours),
                window_problem(start, end),
                text_problem(data.caveats, "caveats", needs_text=False, limit=MAX_BODY),
                None if data.unit_name.strip() else CATALOG.msg("error.unit-name"),
                position_problem(data.position),
            ]
        )
        payload = {
            "nation": self.ctx.nation,
            "code": spec.code,
            "quantity": float(data.quantity),
            "unit_name": data.unit_name.strip(),
            "military": data.military,
            "available_from": start,
            "available_to": end,
            "readiness_hours": float(data.readiness_hours),
            "caveats": _text(data.caveats),
            "position": _position(data.position),
            "incident_id": data.incident_id,
        }
        return capability_view(self._create(caller, CAPABILITY, data.label, payload))

    def update_capability(self, caller: Caller, rid: str, patch: CapabilityPatch) -> CapabilityOut:
        state = self._owned(caller, CAPABILITY, rid)
        f = state.fields
        changes: dict[str, Any] = {}
        if patch.available_from is not None:
            changes["available_from"] = _when(patch.available_from, "available_from")
        if patch.available_to is not None:
            changes["available_to"] = _when(patch.available_to, "available_to")
        window = {**f, **changes}
        _invalid(
            [
                quantity_problem(patch.quantity, "quantity", positive=True),
                readiness_problem(patch.readiness_hours),
                window_problem(window.get("available_from"), window.get("available_to")),
                text_problem(patch.caveats, "caveats", needs_text=False, limit=MAX_BODY),
                None
                if patch.unit_name is None or patch.unit_name.strip()
                else CATALOG.msg("error.unit-name"),
                position_problem(patch.position),
            ]
        )
        for key in ("quantity", "readiness_hours"):
            value = getattr(patch, key)
            if value is not None:
                changes[key] = float(value)
        if patch.unit_name is not None:
            changes["unit_name"] = patch.unit_name.strip()
        if patch.military is not None:
            changes["military"] = patch.military
        if patch.caveats is not None:
            changes["caveats"] = _text(patch.caveats)
        if patch.position is not None:
            changes["position"] = _position(patch.position)
        if patch.incident_id is not None:
            changes["incident_id"] = patch.incident_id
        return capability_view(self._patch(caller, state, patch.label, changes))

    # stocks
    def create_stock(self, caller: Caller, data: StockIn) -> StockOut:
        try:
            quantity, size = stock_quantity(data.item, data.quantity, data.packs, data.pack_size)
        except RuleError as exc:
            raise Invalid(exc.message) from None
        _invalid(
            [
                text_problem(data.site_name, "site_name", needs_text=True, limit=MAX_TITLE),
                position_problem(data.position),
            ]
        )
        for held in self.ctx.events.scan(STOCK):
            f = held.fields
            if (
                not held.deleted
                and held.origin == self.ctx.node_id
                and f.get("site_id") == data.site_id
                and f.get("item") == data.item
            ):
                raise Conflict(
                    CATALOG.msg(
                        "error.stock-exists",
                        site=data.site_id,
                        item=data.item,
                        id=held.record_id,
                    ),
                    id=held.record_id,
                )
        payload = {
            "nation": self.ctx.nation,
            "site_id": data.site_id,
            "site_name": _text(data.site_name),
            "position": _position(data.position),
            "item": data.item,
            "quantity": quantity,
            "pack_size": size,
            "incident_id": data.incident_id,
        }
        return stock_view(self._create(caller, STOCK, data.label, payload))

    def update_stock(self, caller: Caller, rid: str, patch: StockPatch) -> StockOut:
        state = self._owned(caller, STOCK, rid)
        item = state.fields["item"]
        changes: dict[str, Any] = {}
        if patch.quantity is not None or patch.packs is not None:
            size = patch.pack_size if patch.pack_size is not None else state.fields.get("pack_size")
            try:
                quantity, size = stock_quantity(item, patch.quantity, patch.packs, size)
            except RuleError as exc:
                raise Invalid(exc.message) from None
            changes.update(quantity=quantity, pack_size=size)
        elif patch.pack_size is not None:
            _invalid([quantity_problem(patch.pack_size, "pack_size", positive=True)])
            changes["pack_size"] = float(patch.pack_size)
        _invalid(
            [
                text_problem(patch.site_name, "site_name", needs_text=True, limit=MAX_TITLE),
                position_problem(patch.position),
            ]
        )
        if patch.site_name is not None:
            changes["site_name"] = _text(patch.site_name)
        if patch.position is not None:
            changes["position"] = _position(patch.position)
        if patch.incident_id is not None:
            changes["incident_id"] = patch.incident_id
        return stock_view(self._patch(caller, state, patch.label, changes))

    def stock_totals(self, caller: Caller, incident_id: str | None = None) -> dict[str, float]:
        """Base units of each item held at every site the caller may see."""
        totals: dict[str, float] = {}
        for s in self.stocks(caller, incident_id=incident_id):
            totals[s.item] = totals.get(s.item, 0.0) + s.quantity
        return totals

    # shelters
    def create_shelter(self, caller: Caller, data: ShelterIn) -> ShelterOut:
        counts = {
            k: getattr(data, k)
            for k in ("capacity_day", "capacity_night", "population_day", "population_night")
        }
        _invalid(
            [
                text_problem(data.name, "name", needs_text=True, limit=MAX_TITLE),
                text_problem(data.municipality, "municipality", needs_text=True, limit=MAX_TITLE),
                *shelter_problems(counts),
                position_problem(data.position),
            ]
        )
        payload = {
            "name": _text(data.name),
            "municipality": _text(data.municipality),
            "municipality_code": data.municipality_code,
            "position": _position(data.position),
            **counts,
            "availability": data.availability,
            "incident_id": data.incident_id,
        }
        return shelter_view(self._create(caller, SHELTER, data.label, payload))

    def update_shelter(self, caller: Caller, rid: str, patch: ShelterPatch) -> ShelterOut:
        state = self._owned(caller, SHELTER, rid)
        counts = {
            k: getattr(patch, k)
            for k in ("capacity_day", "capacity_night", "population_day", "population_night")
            if getattr(patch, k) is not None
        }
        _invalid(
            [
                text_problem(patch.name, "name", needs_text=True, limit=MAX_TITLE),
                text_problem(patch.municipality, "municipality", needs_text=True, limit=MAX_TITLE),
                *shelter_problems(counts),
                position_problem(patch.position),
            ]
        )
        changes: dict[str, Any] = dict(counts)
        for key in ("name", "municipality"):
            if getattr(patch, key) is not None:
                changes[key] = _text(getattr(patch, key))
        for key in ("municipality_code", "availability", "incident_id"):
            if getattr(patch, key) is not None:
                changes[key] = getattr(patch, key)
        if patch.position is not None:
            changes["position"] = _position(patch.position)
        return shelter_view(self._patch(caller, state, patch.label, changes))

    # relief plans: push first, then pull
    def create_plan(
        self, caller: Caller, data: ReliefPlanIn, now: float | None = None
    ) -> ReliefPlanOut:
        _invalid([text_problem(data.reason, "reason", needs_text=False, limit=MAX_BODY)])
        held = self.ctx.events.get(RELIEF_PLAN, data.incident_id)
        if held is not None and not held.deleted:
            if held.origin == self.ctx.node_id:
                raise Conflict(CATALOG.msg("error.plan-exists", incident=data.incident_id))
            raise Conflict(CATALOG.msg("error.plan-elsewhere", incident=data.incident_id))
        at = _when(data.switched_at, "switched_at") or (time.time() if now is None else now)
        entry = {
            "mode": data.mode,
            "switched_at": at,
            "by": caller.name,
            "reason": _text(data.reason),
        }
        payload = {"incident_id": data.incident_id, **entry, "history": [entry]}
        state = self._create(caller, RELIEF_PLAN, data.label, payload, rid=data.incident_id)
        return plan_view(state)

    def update_plan(
        self, caller: Caller, incident_id: str, patch: ReliefPlanPatch, now: float | None = None
    ) -> ReliefPlanOut:
        state = self._owned(caller, RELIEF_PLAN, incident_id)
        changes: dict[str, Any] = {}
        if patch.mode is not None:
            f = state.fields
            _invalid(
                [
                    text_problem(patch.reason, "reason", needs_text=False, limit=MAX_BODY),
                ]
            )
            problem = plan_switch_problem(f["mode"], patch.mode, patch.reason)
            if problem:
                raise (Conflict if patch.mode == f["mode"] else Invalid)(problem)
            at = _when(patch.switched_at, "switched_at") or (time.time() if now is None else now)
            if at < f.get("switched_at", 0.0):
                raise Invalid(CATALOG.msg("error.switched-at"))
            entry = {
                "mode": patch.mode,
                "switched_at": at,
                "by": caller.name,
                "reason": _text(patch.reason),
            }
            changes = {**entry, "history": [*f.get("history", []), entry]}
        elif patch.reason is not None or patch.switched_at is not None:
            raise Invalid(CATALOG.msg("error.switch-fields"))
        return plan_view(self._patch(caller, state, patch.label, changes))

    # needs
    def needs(self, population: int, days: float) -> list[DraftLine]:
        """Draft RFA lines from the Sphere figures (pure; Invalid on bad input)."""
        _invalid(needs_problems(population, days))
        return needs(population, days)

    def needs_for(self, caller: Caller, data: NeedsIn) -> NeedsOut:
        """The needs of ``population`` people, or of a shelter's (the larger of its day and
        night population) when only ``shelter_id`` is given."""
        shelter = self.shelter(caller, data.shelter_id) if data.shelter_id else None
        population = data.population
        if population is None:
            if shelter is None:
                raise Invalid(CATALOG.msg("error.population-or-shelter"))
            population = max(shelter.population_day, shelter.population_night)
        return NeedsOut(
            population=population,
            days=data.days,
            shelter_id=shelter.id if shelter else None,
            shelter_name=shelter.name if shelter else None,
            lines=self.needs(population, data.days),
        )

    # matching
    def matches(
        self,
        caller: Caller,
        lines: Sequence[Any],
        *,
        start: float | None = None,
        days: float = 1.0,
        now: float | None = None,
    ) -> list[LineMatch]:
        """For each line, the capabilities the caller may see that fit it over the need
        (from ``start``, default now, for ``days``), with how much of it each could cover."""
        _invalid([None if 0 < days <= 365 else CATALOG.msg("error.days", limit=365, value=days)])
        now = time.time() if now is None else now
        begin = now if start is None else start
        end = begin + days * DAY
        caps = self.capabilities(caller)
        offerable = [
            Offerable(
                code=c.code,
                quantity=c.quantity,
                available_from=_when(c.available_from, "available_from"),
                available_to=_when(c.available_to, "available_to"),
                readiness_hours=c.readiness_hours,
            )
            for c in caps
        ]
        out = []
        for n, raw in enumerate(lines):
            line = _as_line(raw, n)
            found = fits(line, offerable, begin, end, now)
            covered = min(line.quantity, sum(f.covers for f in found))
            out.append(
                LineMatch(
                    line=n,
                    item=line.item,
                    unit=line.unit,
                    quantity=line.quantity,
                    candidates=[
                        CapabilityCandidate(
                            capability=caps[f.index],
                            covers=f.covers,
                            fraction=f.fraction,
                            whole_window=f.whole_window,
                        )
                        for f in found
                    ],
                    covered=covered,
                    gap=max(0.0, line.quantity - covered),
                )
            )
        return out

    # the catalogue
    def catalogue(self) -> CatalogueOut:
        return CatalogueOut(
            items=[
                ItemOut(
                    code=i.code,
                    name=CATALOG.text(f"item.{i.code}"),
                    unit=i.unit,
                    unit_name=CATALOG.text(f"unit.{i.unit}"),
                    pack_size=i.pack_size,
                    pack=CATALOG.text(f"item.{i.code}.pack") if i.pack_size else None,
                    push_basic=i.push_basic,
                    stockable=i.stockable,
                )
                for i in ITEMS.values()
            ],
            capabilities=[
                CapabilityCodeOut(
                    code=c.code,
                    name=CATALOG.text(f"capability.{c.code}"),
                    unit=c.unit,
                    unit_name=CATALOG.text(f"unit.{c.unit}"),
                    basis=c.basis,
                )
                for c in CAPABILITIES.values()
            ],
            modes=[ModeOut(code=m, name=CATALOG.text(f"mode.{m}")) for m in MODES],
        )
