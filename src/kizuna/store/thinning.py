"""Trail thinning as a pure function, for backends that keep trail state in their database.

The rule is the one :mod:`kizuna.store.trails` documents, per trail, against the last
point kept:

* not later than it: dropped (a late or replayed report never enters a trail);
* less than ``interval`` later: kept only if more than ``distance`` metres away;
* less than ``heartbeat`` later: kept only if it moved more than ``min_move`` metres;
* otherwise kept (``interval`` 0 turns the distance rules off).

The caller finds (or creates) each item's trail with its last kept point; :func:`thin`
returns the items kept per trail and moves each trail's last point forward.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from kizuna.store.base import Positioned

METRES_PER_DEGREE = 111_195.0  # of latitude (and of longitude at the equator)


class TrailState:
    """One trail: its id, its entry's id in the database, and its last kept point."""

    __slots__ = ("cos", "id", "lat", "lon", "rid", "when")

    def __init__(
        self, trail: int, rid: int, when: float = -math.inf, lat: float = 0.0, lon: float = 0.0
    ) -> None:
        self.id = trail
        self.rid = rid
        self.when = when
        self.lat = lat
        self.lon = lon
        self.cos = math.cos(math.radians(lat))

    def keep(self, when: float, lat: float, lon: float) -> None:
        self.when = when
        self.lat = lat
        self.lon = lon
        self.cos = math.cos(math.radians(lat))


class Thinning(NamedTuple):
    interval: float = 0.0
    heartbeat: float = 60.0
    min_move: float = 25.0
    distance: float = 500.0


def thin(
    history: Sequence[Positioned],
    trail_of: Callable[[Positioned], TrailState | None],
    rule: Thinning,
) -> dict[TrailState, list[Positioned]]:
    """The items of ``history`` each trail keeps, in order; ``trail_of`` ``None``: not kept."""
    gained: dict[TrailState, list[Positioned]] = {}
    thinning = rule.interval > 0.0
    interval, heartbeat = rule.interval, rule.heartbeat
    # distance thresholds in degrees of latitude, squared
    move2 = (rule.min_move / METRES_PER_DEGREE) ** 2
    far2 = (rule.distance / METRES_PER_DEGREE) ** 2
    for item in history:
        trail = trail_of(item)
        if trail is None:
            continue
        when, lat, lon = item.observed_at, item.lat, item.lon
        age = when - trail.when
        if age <= 0.0:
            continue  # not after the last kept point
        if thinning and age < heartbeat:
            dlon = lon - trail.lon
            if dlon > 180.0:
                dlon -= 360.0
            elif dlon < -180.0:
                dlon += 360.0
            dlon *= trail.cos
            dlat = lat - trail.lat
            if dlat * dlat + dlon * dlon <= (far2 if age < interval else move2):
                continue
        trail.keep(when, lat, lon)
        kept = gained.get(trail)
        if kept is None:
            kept = gained[trail] = []
        kept.append(item)
    return gained
