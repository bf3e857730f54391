"""Ports as data: "how far from the nearest port" in a grid lookup.

The domain reads ``reference/ports.csv`` (:func:`parse_ports_csv` takes its text) and hands
the detectors a list of (lat, lon); the detectors never open a file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from math import cos, floor, radians

from kizuna.mda.detect.geo import M_PER_DEG, haversine_m

CELL_DEG = 0.25  # about 28 km of latitude
SURE_DEG = 0.01  # cells of the "near or not" cache: about 1.1 km of latitude
_MISS: object = object()


def parse_ports_csv(text: str) -> list[tuple[float, float]]:
    """(lat, lon) of each row of a CSV with ``lat`` and ``lon`` columns; bad rows skipped."""
    out: list[tuple[float, float]] = []
    for row in csv.DictReader(io.StringIO(text)):
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except (KeyError, TypeError, ValueError):
            continue
        if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
            out.append((lat, lon))
    return out


class PortIndex:
    """Nearest-port distance up to a radius, over a grid of ``CELL_DEG`` cells."""

    __slots__ = ("_cells", "_sure", "ports")

    def __init__(self, ports: Iterable[tuple[float, float]] = ()) -> None:
        self.ports = [(float(a), float(o)) for a, o in ports]
        self._cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
        # (radius, cell) of SURE_DEG -> True (every point of the cell is near a port),
        # False (none is) or None (it depends on the point: computed each time)
        self._sure: dict[tuple[float, int, int], bool | None] = {}
        for lat, lon in self.ports:
            self._cells.setdefault((floor(lat / CELL_DEG), floor(lon / CELL_DEG)), []).append(
                (lat, lon)
            )

    def nearest_m(self, lat: float, lon: float, within_m: float) -> float | None:
        """Distance to the nearest port if one is within ``within_m``, else None."""
        if not self._cells:
            return None
        rlat = int(within_m / M_PER_DEG / CELL_DEG) + 1
        rlon = int(within_m / (M_PER_DEG * max(cos(radians(lat)), 0.01)) / CELL_DEG) + 1
        ci, cj = floor(lat / CELL_DEG), floor(lon / CELL_DEG)
        best: float | None = None
        cells = self._cells
        for i in range(ci - rlat, ci + rlat + 1):
            for j in range(cj - rlon, cj + rlon + 1):
                for plat, plon in cells.get((i, j), ()):
                    d = haversine_m(lat, lon, plat, plon)
                    if d <= within_m and (best is None or d < best):
                        best = d
        return best

    def near(self, lat: float, lon: float, within_m: float) -> bool:
        """Whether a port lies within ``within_m`` metres (exact; cached per small cell
        when the whole cell is on one side: the distance from its centre, ± the distance
        from the centre to its farthest corner, decides the cell by the triangle
        inequality)."""
        i, j = floor(lat / SURE_DEG), floor(lon / SURE_DEG)
        key = (within_m, i, j)
        sure = self._sure
        got = sure.get(key, _MISS)
        if got is _MISS:
            got = sure[key] = self._decide(i, j, within_m)
        if got is None:
            return self.nearest_m(lat, lon, within_m) is not None
        return got  # type: ignore[return-value]

    def _decide(self, i: int, j: int, within_m: float) -> bool | None:
        if len(self._sure) >= 1 << 16:
            self._sure.clear()
        lat0, lon0 = i * SURE_DEG, j * SURE_DEG
        clat, clon = lat0 + SURE_DEG / 2, lon0 + SURE_DEG / 2
        if not (-89.0 < clat < 89.0):
            return None
        half = 1.001 * max(
            haversine_m(clat, clon, lat0 + a * SURE_DEG, lon0 + b * SURE_DEG)
            for a in (0, 1)
            for b in (0, 1)
        )
        d = self.nearest_m(clat, clon, within_m + half)
        if d is None or d - half > within_m:
            return False
        if d + half <= within_m:
            return True
        return None
