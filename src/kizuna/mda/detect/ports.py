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

    __slots__ = ("_cells", "ports")

    def __init__(self, ports: Iterable[tuple[float, float]] = ()) -> None:
        self.ports = [(float(a), float(o)) for a, o in ports]
        self._cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
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
        """Whether a port lies within ``within_m`` metres."""
        return self.nearest_m(lat, lon, within_m) is not None
