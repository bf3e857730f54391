"""Small spherical geometry for the detectors (metres, degrees, knots)."""

from __future__ import annotations

from math import asin, atan2, cos, degrees, radians, sin, sqrt

EARTH_R = 6_371_008.8  # mean Earth radius, metres
M_PER_DEG = EARTH_R * 3.141592653589793 / 180.0  # metres per degree of latitude
KNOT = 1852.0 / 3600.0  # metres per second
NM = 1852.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = radians(lat1), radians(lat2)
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_R * asin(min(1.0, sqrt(h)))


def flat_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance in metres: within 0.1 % of haversine below ~100 km."""
    x = (lon2 - lon1) * cos(radians((lat1 + lat2) / 2))
    y = lat2 - lat1
    return M_PER_DEG * sqrt(x * x + y * y)


def speed_kn(dist_m: float, dt_s: float) -> float:
    """Implied speed in knots (inf for a distance at no time)."""
    if dt_s <= 0:
        return 0.0 if dist_m == 0 else float("inf")
    return dist_m / dt_s / KNOT


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` and ``east_m`` from (lat, lon) (local flat approximation)."""
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * cos(radians(lat)))


def destination(lat: float, lon: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` from (lat, lon) along the initial bearing (great circle)."""
    d = dist_m / EARTH_R
    b, p1, l1 = radians(bearing_deg), radians(lat), radians(lon)
    p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(b))
    l2 = l1 + atan2(sin(b) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2))
    return degrees(p2), (degrees(l2) + 540.0) % 360.0 - 180.0


def lerp(t: float, t0: float, a0: float, o0: float, t1: float, a1: float, o1: float):
    """Position at ``t`` on the straight line between two timed positions."""
    if t1 == t0:
        return a0, o0
    f = (t - t0) / (t1 - t0)
    return a0 + (a1 - a0) * f, o0 + (o1 - o0) * f
