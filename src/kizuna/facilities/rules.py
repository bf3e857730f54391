"""Pure rules of facilities and areas: CSV rows, polygons, altitude bands, overlap.

Polygons are ``[[lat, lon], …]`` (as MDA zones); geometry is planar in degrees (areas are
small and nowhere near the antimeridian), decided by shapely. Two places overlap when
their shapes share area (an edge or a corner touching is not overlap); a facility (a
point) overlaps an area that contains it, and another reservation of the same facility.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from shapely.geometry import Point  # type: ignore[import-untyped]
from shapely.geometry import Polygon as ShapelyPolygon

from kizuna.core.catalog import Catalog, Message
from kizuna.facilities.models import AltitudeBandIn, Facility, Place

CATALOG = Catalog("kizuna.facilities")


class AreaError(ValueError):
    """A training area that cannot be used; ``message`` says why (``str()``: its English)."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


class Joined(Message):
    """Problems (messages, or text not for a language) as one message, each rendered in
    the reader's language and joined with that language's separator."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Message | str]) -> None:
        super().__init__(CATALOG, "list.separator", {})
        self.parts = list(parts)

    def render(self, language: str) -> str:
        separator = super().render(language)
        return separator.join(
            p.render(language) if isinstance(p, Message) else p for p in self.parts
        )


ROW_ERRORS = (KeyError, ValueError, TypeError, AttributeError)
FT = 0.3048  # metres in a foot
MAX_VERTICES = 1000


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


# -- altitude bands --------------------------------------------------------------------


def metres(value: float, unit: str) -> float:
    if unit == "ft":
        return value * FT
    if unit == "FL":
        return value * 100 * FT
    return value


def band(alt: AltitudeBandIn | None) -> tuple[float, float | None]:
    """A band in metres (floor, ceiling; ceiling None: unlimited); :class:`AreaError` if
    the ceiling is not above the floor."""
    if alt is None:
        return 0.0, None
    floor = round(metres(alt.floor, alt.unit), 2)
    ceiling = None if alt.ceiling is None else round(metres(alt.ceiling, alt.unit), 2)
    if ceiling is not None and ceiling <= floor:
        raise AreaError(CATALOG.msg("problem.ceiling"))
    return floor, ceiling


def bands_overlap(a: tuple[float, float | None], b: tuple[float, float | None]) -> bool:
    """Half-open bands [floor, ceiling): 0–3000 m and 3000–6000 m do not overlap."""
    (af, ac), (bf, bc) = a, b
    return (bc is None or af < bc) and (ac is None or bf < ac)


def windows_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Half-open windows [start, end): one ending as the other starts does not overlap."""
    return a[0] < b[1] and b[0] < a[1]


# -- polygons -------------------------------------------------------------------------


def ring(points: Sequence[Sequence[float]]) -> list[list[float]]:
    """The polygon as stored: ``[[lat, lon], …]`` without a repeated closing point."""
    pts = [[float(p[0]), float(p[1])] for p in points]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    return pts


def polygon_problems(points: Sequence[Sequence[float]]) -> list[Message]:
    """Why ``[[lat, lon], …]`` is not a usable area (empty: it is)."""
    pts = ring(points)
    problems: list[Message] = []
    for i, (lat, lon) in enumerate(pts):
        if not (math.isfinite(lat) and math.isfinite(lon)):
            problems.append(CATALOG.msg("problem.point-number", i=i))
        elif not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            problems.append(CATALOG.msg("problem.point-range", i=i, lat=lat, lon=lon))
    if problems:
        return problems
    if len({(a, b) for a, b in pts}) < 3:
        return [CATALOG.msg("problem.distinct")]
    shape = ShapelyPolygon([(lon, lat) for lat, lon in pts])
    if not shape.is_valid:
        return [CATALOG.msg("problem.cross")]
    if shape.area <= 0:
        return [CATALOG.msg("problem.collinear")]
    return []


@lru_cache(maxsize=4096)
def _shape(polygon: tuple[tuple[float, float], ...]) -> ShapelyPolygon:
    return ShapelyPolygon([(lon, lat) for lat, lon in polygon])


# Shared area below this (square degrees, about 1 m² around Japan) is rounding noise of two
# areas drawn edge to edge, not overlap.
MIN_OVERLAP = 1e-10


def polygons_overlap(
    a: tuple[tuple[float, float], ...], b: tuple[tuple[float, float], ...]
) -> bool:
    """Whether two areas share area (touching edges or corners do not)."""
    sa, sb = _shape(a), _shape(b)
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = sa.bounds, sb.bounds
    if ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0:
        return False
    return bool(sa.intersection(sb).area > MIN_OVERLAP)


def places_overlap(a: Place, b: Place) -> bool:
    """Whether two places share ground (or water, or sky): the same place; a facility in
    an area; an area within a facility's (by ``facility_id``); two areas sharing area."""
    if a.id == b.id:
        return True
    if a.polygon and b.polygon:
        return polygons_overlap(a.polygon, b.polygon)
    if a.polygon or b.polygon:
        area, point = (a, b) if a.polygon else (b, a)
        if area.facility_id is not None and area.facility_id == point.id:
            return True
        return bool(_shape(area.polygon).contains(Point(point.lon, point.lat)))
    return False


def centroid(polygon: Sequence[Sequence[float]]) -> tuple[float, float]:
    c = _shape(tuple((float(p[0]), float(p[1])) for p in polygon)).centroid
    return float(c.y), float(c.x)


def geojson_polygon(polygon: Sequence[Sequence[float]]) -> dict[str, Any]:
    """A GeoJSON Polygon ([lon, lat], closed) of ``[[lat, lon], …]``."""
    coords = [[p[1], p[0]] for p in polygon]
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])
    return {"type": "Polygon", "coordinates": [coords]}


def polygon_from_geojson(geometry: Mapping[str, Any]) -> list[list[float]]:
    """``[[lat, lon], …]`` of a GeoJSON Polygon's outer ring (:class:`AreaError` otherwise)."""
    if geometry.get("type") != "Polygon":
        raise AreaError(CATALOG.msg("problem.not-polygon", type=repr(geometry.get("type"))))
    rings = geometry.get("coordinates")
    if not isinstance(rings, list | tuple) or not rings or not isinstance(rings[0], list | tuple):
        raise AreaError(CATALOG.msg("problem.outer-ring"))
    out = []
    for p in rings[0][: MAX_VERTICES + 1]:
        if not isinstance(p, list | tuple) or len(p) < 2:
            raise AreaError(CATALOG.msg("problem.ring-position"))
        out.append([float(p[1]), float(p[0])])
    return ring(out)
