"""Reservations as map features for export: their place's shape, their window."""

from __future__ import annotations

from typing import Any

from kizuna.core.release import Principal
from kizuna.kernel.contract import Feature
from kizuna.reservations.models import RESERVATION
from kizuna.reservations.service import ReservationService


def _principal(reader: Any) -> Principal:
    found = reader.principal if hasattr(reader, "principal") else reader  # a Caller or a Principal
    assert isinstance(found, Principal)
    return found


def _geometry(place: dict[str, Any]) -> dict[str, Any]:
    polygon = place.get("polygon") or []
    if polygon:
        ring = [[p[1], p[0]] for p in polygon]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    return {"type": "Point", "coordinates": [place.get("lon", 0.0), place.get("lat", 0.0)]}


def features(service: ReservationService, reader: Any) -> list[Feature]:
    """The reservations ``reader`` may see, on their place, from start to end."""
    out = []
    for state in service.visible_states(_principal(reader)):
        view = service.view(state)
        place = state.fields.get("place") or {}
        out.append(
            Feature(
                id=view.id,
                record_type=RESERVATION,
                name={
                    "en": view.title.en or f"{view.nation} {view.activity} {view.place.name.en}",
                    "ja": view.title.ja or f"{view.nation} {view.activity} {view.place.name.ja}",
                },
                geometry=_geometry(place),
                label=state.label.render(),
                description={"en": view.access.en, "ja": view.access.ja},
                properties={
                    "place_id": view.place.id,
                    "activity": view.activity,
                    "nation": view.nation,
                    "unit": view.unit,
                    "status": view.status,
                    "floor_m": view.altitude.floor_m,
                    "ceiling_m": view.altitude.ceiling_m,
                    "instrument": view.instrument,
                    "exercise_id": view.exercise_id,
                },
                time=view.start,
                end=view.end,
            )
        )
    return out
