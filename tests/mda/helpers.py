"""Small builders for detector unit tests."""

from __future__ import annotations

from kizuna.core.labels import Classification, Label
from kizuna.mda.detect.base import Fix
from kizuna.mda.detect.geo import offset

LABEL = Label(classification=Classification.UNCLASSIFIED)
T0 = 1_452_600_000.0  # 2016-01-12 12:00 UTC


def fix(mmsi: int, t: float, lat: float | None, lon: float | None, **kw) -> Fix:
    kw.setdefault("label", LABEL)
    return Fix(mmsi=mmsi, t=t, lat=lat, lon=lon, **kw)


def drift(mmsi: int, t0: float, dur: float, at: tuple[float, float], every: float = 10.0, **kw):
    """A vessel at anchor: a few metres of jitter around ``at``, SOG 0.1."""
    out = []
    n = int(dur // every)
    for i in range(n + 1):
        lat, lon = offset(at[0], at[1], 8.0 * ((i * 7) % 5 - 2), 8.0 * ((i * 3) % 5 - 2))
        out.append(fix(mmsi, t0 + i * every, lat, lon, sog=0.1, **kw))
    return out


def steam(mmsi: int, t0: float, dur: float, at: tuple[float, float], kn: float, every=10.0, **kw):
    """A vessel steaming due east at ``kn`` knots from ``at``."""
    out = []
    for i in range(int(dur // every) + 1):
        lat, lon = offset(at[0], at[1], 0.0, kn * 1852.0 / 3600.0 * i * every)
        out.append(fix(mmsi, t0 + i * every, lat, lon, sog=kn, cog=90.0, **kw))
    return out
