"""Facilities and areas on one node.

Reference facilities are read once from the CSV the settings name and shown under an
UNCLASSIFIED label of this node's nation, each with its basis and managing authority
(``data/bases.toml``). Training areas, ranges, airspace and sea areas are ``training_area``
records (labelled, federated, owned by their origin), pushed on the bus topic of that name.
"""

from __future__ import annotations

import csv
import os
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import structlog

from kizuna.core.catalog import Message
from kizuna.core.errors import Forbidden, Invalid
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Classification, Label
from kizuna.core.records import Event, RecordState, Text
from kizuna.core.release import may_release
from kizuna.core.time import iso
from kizuna.facilities import rules
from kizuna.facilities.models import (
    TRAINING_AREA,
    AltitudeBandIn,
    Facility,
    Place,
    TrainingAreaIn,
    TrainingAreaOut,
    TrainingAreaPatch,
)
from kizuna.facilities.rules import CATALOG, ROW_ERRORS, facility_from_row
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import audit_relabel, authorize_relabel
from kizuna.kernel.context import Caller, NodeContext
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.facilities")

ENV = "KIZUNA_FACILITIES"  # read when the settings name no file
MAX_IMPORT = 500  # features in one import


def load_facilities(path: Path | None) -> list[Facility]:
    """Reference facilities from CSV (id,name_en,name_ja,nation,kind,lat,lon); bad rows skipped."""
    if path is None:
        return []
    out: list[Facility] = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    fac = facility_from_row(row)
                except ROW_ERRORS as exc:
                    log.warning("facilities.bad_row", path=str(path), line=n, error=str(exc))
                    continue
                out.append(fac)
    except OSError as exc:
        log.warning("facilities.unreadable", path=str(path), error=str(exc))
    return out


@cache
def bases_table() -> dict[str, Any]:
    text = resources.files("kizuna.facilities").joinpath("data", "bases.toml").read_text("utf-8")
    return tomllib.loads(text)


def basis_of(fac: Facility) -> tuple[str, Text]:
    """A reference facility's basis and managing authority (``data/bases.toml``)."""
    table = bases_table()
    row = table.get("facility", {}).get(fac.id) or table.get("defaults", {}).get(fac.nation)
    if not row:
        return "other", Text()
    return str(row["basis"]), msgspec.convert(row.get("authority") or {}, Text)


def may_act(caller: Caller) -> bool:
    """Planners keep training areas; a viewer only reads."""
    roles = set(caller.user.roles)
    return not roles or bool(roles - {"viewer"})


def area_view(state: RecordState) -> TrainingAreaOut:
    f = state.fields
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "name": f.get("name") or {},
            "kind": f.get("kind", "training_area"),
            "polygon": f.get("polygon") or [],
            "altitude": {"floor_m": f.get("floor_m", 0.0), "ceiling_m": f.get("ceiling_m")},
            "basis": f.get("basis", "other"),
            "authority": f.get("authority") or {},
            "facility_id": f.get("facility_id"),
            "notes": f.get("notes") or {},
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        TrainingAreaOut,
    )


def area_place(state: RecordState) -> Place:
    view = area_view(state)
    lat, lon = rules.centroid(view.polygon)
    return Place(
        id=view.id,
        kind=view.kind,
        basis=view.basis,
        name=view.name,
        authority=view.authority,
        lat=lat,
        lon=lon,
        polygon=tuple((p[0], p[1]) for p in view.polygon),
        floor_m=view.altitude.floor_m,
        ceiling_m=view.altitude.ceiling_m,
        label=state.label.render(),
        facility_id=view.facility_id,
    )


class FacilityService:
    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._facilities: list[Facility] | None = None
        ctx.events.on_commit(self._committed)

    @property
    def label(self) -> Label:
        """Every facility is UNCLASSIFIED, originated by this node's nation."""
        return Label(classification=Classification.UNCLASSIFIED, originator=self.ctx.nation)

    @property
    def path(self) -> Path | None:
        configured = getattr(self.ctx.settings, "csv", "") or os.environ.get(ENV, "")
        if not configured:
            return None
        path = Path(configured)
        return path if path.is_absolute() else self.ctx.root / path

    def all(self) -> list[Facility]:
        """Every facility (read from the file on first use)."""
        if self._facilities is None:
            self._facilities = load_facilities(self.path)
        return self._facilities

    def visible(self, caller: Caller) -> list[Facility]:
        """The facilities ``caller`` may see (all or none: they share one label)."""
        if not may_release(self.label, caller.principal):
            return []
        return self.all()

    # -- places: what access and reservations ask -------------------------------------

    def facility_place(self, fac: Facility) -> Place:
        basis, authority = basis_of(fac)
        return Place(
            id=fac.id,
            kind=fac.kind,
            basis=basis,
            name=Text(en=fac.name_en, ja=fac.name_ja),
            authority=authority,
            lat=fac.lat,
            lon=fac.lon,
            label=self.label.render(),
        )

    def place(self, place_id: str) -> Place | None:
        """A facility (by its CSV id) or an area (by record id) this node holds, unread by
        any caller: callers' reads go through :meth:`visible_place`."""
        for fac in self.all():
            if fac.id == place_id:
                return self.facility_place(fac)
        state = self.ctx.events.get(TRAINING_AREA, place_id)
        if state is None or state.deleted:
            return None
        return area_place(state)

    def visible_place(self, caller: Caller, place_id: str) -> Place | None:
        """The place if ``caller`` may see it (None: unknown or not releasable)."""
        for fac in self.visible(caller):
            if fac.id == place_id:
                return self.facility_place(fac)
        state = self.ctx.events.get(TRAINING_AREA, place_id)
        if state is None or state.deleted or not may_release(state.label, caller.principal):
            return None
        return area_place(state)

    def overlap(self, a: Place, b: Place) -> bool:
        return rules.places_overlap(a, b)

    @staticmethod
    def place_of(snapshot: dict[str, Any]) -> Place:
        """A place from the snapshot another domain keeps (``msgspec.to_builtins(place)``)."""
        return msgspec.convert(snapshot, Place)

    # -- training areas ---------------------------------------------------------------

    def areas(self, caller: Caller) -> list[TrainingAreaOut]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(TRAINING_AREA))
        return sorted((area_view(s) for s in states), key=lambda a: (a.name.en or a.name.ja, a.id))

    def area(self, caller: Caller, rid: str) -> TrainingAreaOut:
        return area_view(get_visible(self.ctx, caller, TRAINING_AREA, rid))

    def _fields(self, data: TrainingAreaIn | TrainingAreaPatch) -> dict[str, Any]:
        out: dict[str, Any] = {}
        problems: list[Message] = []
        if data.name is not None:
            if not (data.name.en.strip() or data.name.ja.strip()):
                problems.append(CATALOG.msg("problem.name"))
            out["name"] = msgspec.to_builtins(data.name)
        if data.polygon is not None:
            problems += rules.polygon_problems(data.polygon)
            out["polygon"] = rules.ring(data.polygon)
        if data.altitude is not None:
            try:
                out["floor_m"], out["ceiling_m"] = rules.band(data.altitude)
            except rules.AreaError as exc:
                problems.append(exc.message)
        if data.facility_id is not None and not any(f.id == data.facility_id for f in self.all()):
            problems.append(CATALOG.msg("problem.facility", id=repr(data.facility_id)))
        for key in ("kind", "basis", "facility_id"):
            if (value := getattr(data, key)) is not None:
                out[key] = value
        for key in ("authority", "notes"):
            if (value := getattr(data, key)) is not None:
                out[key] = msgspec.to_builtins(value)
        if problems:
            detail = CATALOG.msg("error.bad-area", problems=rules.Joined(problems))
            raise Invalid(detail, errors=[str(p) for p in problems])
        return out

    def create_area(self, caller: Caller, data: TrainingAreaIn) -> TrainingAreaOut:
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-add"))
        fields = {"floor_m": 0.0, "ceiling_m": None, "facility_id": None, **self._fields(data)}
        label = label_for_write(self.ctx, caller, data.label)
        rid = new_id()
        self.ctx.events.append(
            [
                Draft(
                    TRAINING_AREA, rid, "create", label, fields, author=caller.name, new_record=True
                )
            ]
        )
        self.ctx.audit.append(
            "training_area.create", caller.name, "ok", id=rid, label=label.render()
        )
        return self.area(caller, rid)

    def update_area(self, caller: Caller, rid: str, data: TrainingAreaPatch) -> TrainingAreaOut:
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-change"))
        state = get_visible(self.ctx, caller, TRAINING_AREA, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.not-own-change", id=rid, node=state.origin))
        fields = self._fields(data)
        label = label_for_write(self.ctx, caller, data.label) if data.label else state.label
        decision = authorize_relabel(
            self.ctx, caller, TRAINING_AREA, rid, state.origin, state.label, label
        )
        if decision.widened:
            fields = {**state.fields, **fields}
        self.ctx.events.append(
            [Draft(TRAINING_AREA, rid, "patch", label, fields, author=caller.name)]
        )
        self.ctx.audit.append(
            "training_area.update", caller.name, "ok", id=rid, label=label.render()
        )
        audit_relabel(self.ctx, caller, TRAINING_AREA, rid, decision)
        return self.area(caller, rid)

    def delete_area(self, caller: Caller, rid: str) -> None:
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-remove"))
        state = get_visible(self.ctx, caller, TRAINING_AREA, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.not-own-remove", id=rid, node=state.origin))
        self.ctx.events.append(
            [Draft(TRAINING_AREA, rid, "tombstone", state.label, {}, author=caller.name)]
        )
        self.ctx.audit.append("training_area.delete", caller.name, "ok", id=rid)

    def import_areas(
        self, caller: Caller, features: Sequence[dict[str, Any]], marking: str
    ) -> list[TrainingAreaOut]:
        """Training areas from GeoJSON features (Polygon geometry; ``properties``: name or
        name_en/name_ja, kind, basis, floor_m, ceiling_m): all validated, then all written."""
        if len(features) > MAX_IMPORT:
            raise Invalid(CATALOG.msg("error.import-max", max=MAX_IMPORT))
        items: list[TrainingAreaIn] = []
        for n, feature in enumerate(features, start=1):
            try:
                items.append(area_from_feature(feature, marking))
                self._fields(items[-1])  # validate all before writing any
            except (ValueError, TypeError, msgspec.ValidationError) as exc:
                # a library's own words (msgspec, float()) are English
                why = exc.message if isinstance(exc, rules.AreaError) else str(exc)
                detail = CATALOG.msg("error.feature", n=n, text=why)
                raise Invalid(detail, errors=[str(detail)]) from None
            except Invalid as exc:
                detail = CATALOG.msg("error.feature", n=n, text=exc.message or exc.detail)
                raise Invalid(detail, item=n) from None
        return [self.create_area(caller, item) for item in items]

    # -- pushes -----------------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        if self.ctx.bus.subscribers == 0:
            return
        for e in events:
            if e.record_type != TRAINING_AREA:
                continue
            state = self.ctx.events.get(TRAINING_AREA, e.record_id)
            if state is None:
                continue
            try:
                item = (
                    {"id": e.record_id, "deleted": True}
                    if state.deleted
                    else msgspec.to_builtins(area_view(state))
                )
                self.ctx.bus.publish(TRAINING_AREA, item, state.label)
            except Exception:
                log.exception("facilities.push_failed", record_id=e.record_id)


def area_from_feature(feature: dict[str, Any], marking: str) -> TrainingAreaIn:
    """An :class:`TrainingAreaIn` from one GeoJSON feature (ValueError naming what is
    wrong: :class:`~kizuna.facilities.rules.AreaError` where the words are ours)."""
    if not isinstance(feature, dict):
        raise rules.AreaError(CATALOG.msg("problem.feature-object"))
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise rules.AreaError(CATALOG.msg("problem.properties-object"))
    name = props.get("name")
    text = (
        name
        if isinstance(name, dict)
        else {"en": str(props.get("name_en") or name or ""), "ja": str(props.get("name_ja") or "")}
    )
    altitude = None
    if props.get("floor_m") is not None or props.get("ceiling_m") is not None:
        altitude = AltitudeBandIn(
            floor=float(props.get("floor_m") or 0.0), ceiling=props.get("ceiling_m")
        )
    raw = {
        "label": str(props.get("label") or marking),
        "name": text,
        "kind": props.get("kind") or "training_area",
        "polygon": rules.polygon_from_geojson(feature.get("geometry") or {}),
        "basis": props.get("basis") or "other",
    }
    data = msgspec.convert(raw, TrainingAreaIn)
    return msgspec.structs.replace(data, altitude=altitude) if altitude is not None else data
