"""Facilities and areas as map features for export (``Domain.features``) and training areas
from imported features (``Domain.import_features``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from kizuna.core.errors import Invalid
from kizuna.core.release import Principal, may_release
from kizuna.facilities import rules
from kizuna.facilities.models import TRAINING_AREA, TrainingAreaOut
from kizuna.facilities.rules import CATALOG
from kizuna.facilities.service import FacilityService, area_view, basis_of
from kizuna.kernel.contract import Feature

FACILITY = "facility"


def _principal(reader: Any) -> Principal:
    found = reader.principal if hasattr(reader, "principal") else reader  # a Caller or a Principal
    assert isinstance(found, Principal)
    return found


def _basis_text(basis: str) -> dict[str, str]:
    return msgspec.to_builtins(CATALOG.text(f"basis.{basis}"))  # type: ignore[no-any-return]


def features(service: FacilityService, reader: Any) -> list[Feature]:
    """Facilities (points) and training areas (polygons) ``reader`` may see."""
    principal = _principal(reader)
    out: list[Feature] = []
    label = service.label
    if may_release(label, principal):
        for fac in service.all():
            basis, authority = basis_of(fac)
            out.append(
                Feature(
                    id=fac.id,
                    record_type=FACILITY,
                    name={"en": fac.name_en, "ja": fac.name_ja},
                    geometry={"type": "Point", "coordinates": [fac.lon, fac.lat]},
                    label=label.render(),
                    description=_basis_text(basis),
                    properties={
                        "nation": fac.nation,
                        "kind": fac.kind,
                        "basis": basis,
                        "authority": authority.en,
                    },
                )
            )
    for state in service.ctx.events.scan(TRAINING_AREA):
        if state.deleted or not may_release(state.label, principal):
            continue
        area: TrainingAreaOut = area_view(state)
        out.append(
            Feature(
                id=area.id,
                record_type=TRAINING_AREA,
                name={"en": area.name.en, "ja": area.name.ja},
                geometry=rules.geojson_polygon(area.polygon),
                label=state.label.render(),
                description=_basis_text(area.basis),
                properties={
                    "kind": area.kind,
                    "basis": area.basis,
                    "authority": area.authority.en,
                    "floor_m": area.altitude.floor_m,
                    "ceiling_m": area.altitude.ceiling_m,
                    "facility_id": area.facility_id,
                    "origin": area.origin,
                },
            )
        )
    return out


def import_features(
    service: FacilityService, caller: Any, kind: str, items: Sequence[Any], marking: str
) -> list[TrainingAreaOut]:
    """Training areas from imported features (a kernel :class:`Feature` or a GeoJSON feature
    object each), written for ``caller`` under ``marking`` (the ingress rule applies)."""
    if kind != TRAINING_AREA:
        raise Invalid(CATALOG.msg("error.imports-only", kind=TRAINING_AREA, given=repr(kind)))
    geo = []
    for item in items:
        if isinstance(item, Feature):
            props = {**item.properties, "name": item.name}
            geo.append({"type": "Feature", "geometry": item.geometry, "properties": props})
        else:
            geo.append(item)
    return service.import_areas(caller, geo, marking)
