"""GeoJSON geometries as the exports and imports handle them: checked, bounded, flattened."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from kizuna.interop.messages import MESSAGES, MessageError

Position = tuple[float, float]  # lon, lat
BBox = tuple[float, float, float, float]  # minlon, minlat, maxlon, maxlat

TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


class GeometryError(MessageError):
    """A geometry that is not a usable GeoJSON geometry (``message``: why, from the catalog)."""


def _position(p: Any) -> Position:
    if not isinstance(p, list | tuple) or len(p) < 2:
        raise GeometryError(MESSAGES.msg("geometry.position"))
    lon, lat = p[0], p[1]
    if isinstance(lon, bool) or isinstance(lat, bool):
        raise GeometryError(MESSAGES.msg("geometry.number"))
    if not isinstance(lon, int | float) or not isinstance(lat, int | float):
        raise GeometryError(MESSAGES.msg("geometry.number"))
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryError(MESSAGES.msg("geometry.finite"))
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise GeometryError(MESSAGES.msg("geometry.range", lon=lon, lat=lat))
    return lon, lat


def parts(geometry: dict[str, Any]) -> Iterator[tuple[str, list[list[Position]]]]:
    """A geometry as simple parts: ("Point", [[p]]), ("LineString", [[p, …]]),
    ("Polygon", [outer, *holes]). Raises :class:`GeometryError`."""
    if not isinstance(geometry, dict):
        raise GeometryError(MESSAGES.msg("geometry.object"))
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in TYPES:
        raise GeometryError(MESSAGES.msg("geometry.type", kind=repr(kind)))
    if not isinstance(coords, list):
        raise GeometryError(MESSAGES.msg("geometry.no-coordinates", kind=kind))
    if kind == "Point":
        yield "Point", [[_position(coords)]]
    elif kind == "MultiPoint":
        for p in coords:
            yield "Point", [[_position(p)]]
    elif kind == "LineString":
        yield "LineString", [_line(coords, 2)]
    elif kind == "MultiLineString":
        for line in coords:
            yield "LineString", [_line(line, 2)]
    elif kind == "Polygon":
        yield "Polygon", _rings(coords)
    else:
        for poly in coords:
            yield "Polygon", _rings(poly)


def _line(coords: Any, least: int) -> list[Position]:
    if not isinstance(coords, list) or len(coords) < least:
        raise GeometryError(MESSAGES.msg("geometry.too-short", least=least))
    return [_position(p) for p in coords]


def _rings(coords: Any) -> list[list[Position]]:
    if not isinstance(coords, list) or not coords:
        raise GeometryError(MESSAGES.msg("geometry.no-outer-ring"))
    rings = []
    for ring in coords:
        pts = _line(ring, 3)
        if pts[0] != pts[-1]:
            pts.append(pts[0])
        if len(pts) < 4:
            raise GeometryError(MESSAGES.msg("geometry.ring-distinct"))
        rings.append(pts)
    return rings


def count(geometry: dict[str, Any]) -> int:
    return sum(len(r) for _, rings in parts(geometry) for r in rings)


def bounds(geometry: dict[str, Any]) -> BBox:
    pts = [p for _, rings in parts(geometry) for r in rings for p in r]
    lons = [p[0] for p in pts]
    lats = [p[1] for p in pts]
    return min(lons), min(lats), max(lons), max(lats)


def intersects(geometry: dict[str, Any], box: BBox) -> bool:
    """Whether the geometry's bounds meet ``box`` (minlon > maxlon crosses the antimeridian)."""
    w, s, e, n = bounds(geometry)
    minlon, minlat, maxlon, maxlat = box
    if n < minlat or s > maxlat:
        return False
    if minlon <= maxlon:
        return not (e < minlon or w > maxlon)
    return not (e < minlon and w > maxlon)


def anchor(geometry: dict[str, Any]) -> Position:
    """A point for the geometry: the point, or the mean of the first part's outer ring."""
    _, rings = next(parts(geometry))
    ring = rings[0][:-1] if len(rings[0]) > 1 and rings[0][0] == rings[0][-1] else rings[0]
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


def wkt(geometry: dict[str, Any]) -> str:
    """The geometry as WKT (for the CSV)."""

    def ring(r: list[Position]) -> str:
        return "(" + ", ".join(f"{p[0]:.6f} {p[1]:.6f}" for p in r) + ")"

    items = list(parts(geometry))
    kinds = {k for k, _ in items}
    if len(items) == 1:
        kind, rings = items[0]
        if kind == "Point":
            p = rings[0][0]
            return f"POINT ({p[0]:.6f} {p[1]:.6f})"
        if kind == "LineString":
            return "LINESTRING " + ring(rings[0])
        return "POLYGON (" + ", ".join(ring(r) for r in rings) + ")"
    if kinds == {"Point"}:
        return "MULTIPOINT (" + ", ".join(ring(r) for _, rs in items for r in rs) + ")"
    if kinds == {"LineString"}:
        return "MULTILINESTRING (" + ", ".join(ring(rs[0]) for _, rs in items) + ")"
    if kinds == {"Polygon"}:
        polys = ["(" + ", ".join(ring(r) for r in rs) + ")" for _, rs in items]
        return "MULTIPOLYGON (" + ", ".join(polys) + ")"
    raise GeometryError(MESSAGES.msg("geometry.mixed"))
