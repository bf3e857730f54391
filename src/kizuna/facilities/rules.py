"""Pure rules of facilities: one CSV row to a :class:`Facility`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kizuna.facilities.models import Facility

ROW_ERRORS = (KeyError, ValueError, TypeError, AttributeError)


def facility_from_row(row: Mapping[str, Any]) -> Facility:
    """A facility from a CSV row (id,name_en,name_ja,nation,kind,lat,lon; more columns
    are ignored). Raises one of :data:`ROW_ERRORS` for a bad row: a missing column or
    id, a coordinate that is not a number or out of range."""
    fac = Facility(
        id=row["id"].strip(),
        name_en=row.get("name_en", "").strip(),
        name_ja=row.get("name_ja", "").strip(),
        nation=row.get("nation", "").strip().upper(),
        kind=row.get("kind", "").strip(),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
    )
    if not fac.id or not (-90 <= fac.lat <= 90 and -180 <= fac.lon <= 180):
        raise ValueError("missing id or position out of range")
    return fac
