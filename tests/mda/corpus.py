"""The MDA regression corpus: the real Solent hour, extended in time, with known events.

Base (:func:`base_rows`): every position of ``solent_ais_20160112.csv`` (91 vessels, 84.5
minutes, 18,623 fixes), *ping-ponged* to ``COPIES`` × the hour (~16.9 h): copy k is the
hour shifted by k × the hour's span, played backwards in time for odd k (course turned
by 180°). Every track stays continuous at the joins (no artificial jumps) and every vessel
reappears at least every ~2 h 50 min (so nobody falls silent for 6 h), and an anchored
vessel stays anchored. The real hour has one bad position (245188000, longitude 54.8° for
one fix): kept, as in the wild, in every copy.

Injections (:func:`injected`), hours after the start ``T0`` (2016-01-12 13:02:11 UTC):

- ``gap7``: 235069877 silent from 2.0 h to 9.0 h (7 h; a gap at 6 h, none at 12 h);
- ``gap13``: 235013375 silent from 1.5 h to 14.5 h (13 h; a gap at 6 h and at 12 h);
  its fixes alternate between two sources ("ais", "jjoc": sources_before = 2);
- ``jump``: 235031618 at 4.0 h: silent 5 min, then 20 min of its track 50 NM due south
  (50 NM in 5 min: 600 kn), silent 5 min, then back on its real track;
- ``clone``: 370869000 ("NORDIC DAWN", 25 km offshore) transmits 235061621's MMSI from
  6.1 h to 7.0 h while the real 235061621 ("WIGHT SPIRIT") sails in Portsmouth: one MMSI
  in two places with two names;
- ``circle``: at 8.0 h–8.5 h, 12 vessels in and off Portsmouth report positions on one
  circle (1.5 km radius about 50.790 N 1.110 W), each going round at one lap per 20 min
  from its own starting angle (area-level GNSS interference);
- ``rendezvous``: two new vessels (636092345, 273412345) arrive at 50.50 N 1.30 W (the
  Channel, ~29 km south of Cowes) at 11.0 h on the real tracks of 234586000 and 370869000
  (moved there), drift for 3 h ~250 m apart on the real anchored tracks of 245188000 and
  236112059 (moved there; the bad fix dropped), then leave the same way at 14.0 h and go
  out of range by 14.5 h;
- ``zone``: a new vessel 232099001 crosses ``ZONE`` (a 2 km box around 50.50 N 0.975 W)
  at 13.0 h on the real track of 234586000 (moved there).

:data:`TRUTH` lists the events (type, vessels, start, end) an analyst expects from these
with the pipeline's defaults (gap 6 h), computed from the injected fixes themselves (e.g.
a gap runs from the last fix before the silence to the first after it).
:data:`BACKGROUND_LOITERING`: vessels the real data shows anchored at least 5 km from any
port (the St Helens Roads and Nab anchorages east of the Isle of Wight), which loiter by
the issue's definition in the base corpus and in the injected one alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import msgspec

from kizuna.core.labels import Classification, Label
from kizuna.mda.detect.base import KNOT, Fix
from kizuna.mda.detect.geo import NM, destination, flat_m, offset

LABEL = Label(classification=Classification.UNCLASSIFIED)
H = 3600.0
COPIES = 12

GAP7 = 235069877
GAP13 = 235013375
JUMPER = 235031618
CLONED, CLONER = 235061621, 370869000
CIRCLERS = (
    235024149,
    235070762,
    235099969,
    235072757,
    235070763,
    311855000,
    227273000,
    235051664,
    235086588,
    235074703,
    212890000,
    232002833,
)
RDV = (636092345, 273412345)
CROSSER = 232099001
NAMES = {CLONED: "WIGHT SPIRIT", CLONER: "NORDIC DAWN"}

RDV_POINT = (50.50, -1.30)
CIRCLE_CENTRE, CIRCLE_R = (50.790, -1.110), 1500.0
ZONE_CENTRE = (50.50, -0.975)


def _box(lat: float, lon: float, half_m: float) -> tuple[tuple[float, float], ...]:
    n, _ = offset(lat, lon, half_m, 0)
    s, _ = offset(lat, lon, -half_m, 0)
    _, e = offset(lat, lon, 0, half_m)
    _, w = offset(lat, lon, 0, -half_m)
    return ((s, w), (s, e), (n, e), (n, w))


class CorpusZone(msgspec.Struct, frozen=True, kw_only=True):
    """A zone as the domain hands it to the pipeline (``polygon`` of (lat, lon))."""

    id: str
    name: str
    polygon: tuple[tuple[float, float], ...]
    label: Label = LABEL
    kind: str = "alert"


ZONE = CorpusZone(id="corpus-box", name="Corpus box", polygon=_box(*ZONE_CENTRE, 1000.0))


@dataclass(frozen=True)
class Truth:
    type: str
    vessels: tuple[str, ...]
    start: float
    end: float | None
    kind: str = ""  # detail.kind for spoofing and zone events
    needs: str = ""  # the detector module the event waits for ("spoof", "zone"), if not ours


Row = tuple[int, float, float, float, float, float]  # mmsi, t, lat, lon, cog, sog


def data_file() -> Path:
    from tests.conftest import SHARED_DATA

    return SHARED_DATA / "ais" / "solent_ais_20160112.csv"


@lru_cache(maxsize=1)
def solent_hour() -> tuple[Row, ...]:
    rows: list[Row] = []
    with open(data_file(), newline="") as fh:
        for r in csv.DictReader(fh):
            t = dt.datetime.fromisoformat(r["Time"]).replace(tzinfo=dt.UTC).timestamp()
            rows.append(
                (
                    int(r["MMSI"]),
                    t,
                    float(r["Latitude_degrees"]),
                    float(r["Longitude_degrees"]),
                    float(r["COG_degrees"]),
                    float(r["SOG_knots"]),
                )
            )
    rows.sort(key=lambda x: x[1])
    return tuple(rows)


def t0() -> float:
    return solent_hour()[0][1]


def span() -> float:
    hour = solent_hour()
    return hour[-1][1] - hour[0][1]


@lru_cache(maxsize=1)
def base_rows() -> tuple[Row, ...]:
    """The hour ping-ponged ``COPIES`` times (see the module docstring), time-ordered."""
    hour, start, p = solent_hour(), t0(), span()
    out: list[Row] = []
    for k in range(COPIES):
        if k % 2 == 0:
            src: Iterable[Row] = hour
        else:
            src = reversed(hour)
        for mmsi, t, lat, lon, cog, sog in src:
            off = t - start
            if k % 2:
                off = p - off
                cog = (cog + 180.0) % 360.0
            if k and off == 0.0:
                continue  # the join: already the last fix of the previous copy
            out.append((mmsi, start + k * p + off, lat, lon, cog, sog))
    out.sort(key=lambda x: x[1])
    return tuple(out)


def _track(rows: Iterable[Row], mmsi: int) -> list[Row]:
    return [r for r in rows if r[0] == mmsi]


def _transplant(
    track: list[Row], mmsi: int, t_start: float, anchor: tuple[float, float], at_end: bool
) -> list[Row]:
    """``track`` (time-ordered) moved to start at ``t_start`` with its first point (or its
    last, ``at_end``: then it *ends* at ``t_start``) on ``anchor``, renamed ``mmsi``."""
    ref = track[-1] if at_end else track[0]
    dn = (anchor[0] - ref[2]) * 111_195.0
    de = (anchor[1] - ref[3]) * 111_195.0 * math.cos(math.radians(anchor[0]))
    base = ref[1]
    out = []
    for _, t, lat, lon, cog, sog in track:
        nlat, nlon = offset(lat, lon, dn, de)
        out.append((mmsi, t_start + (t - base), nlat, nlon, cog, sog))
    return out


def _window(track: list[Row], a: float, b: float) -> list[Row]:
    return [r for r in track if a <= r[1] < b]


def _fast(track: list[Row], dur: float) -> list[Row]:
    """The ``dur`` seconds of ``track`` that cover the most ground (a vessel under way)."""
    best: list[Row] = []
    best_d = -1.0
    for i in range(0, len(track), 10):
        w = _window(track, track[i][1], track[i][1] + dur)
        if w and w[-1][1] - w[0][1] > 0.95 * dur:
            d = flat_m(w[0][2], w[0][3], w[-1][2], w[-1][3])
            if d > best_d:
                best, best_d = w, d
    return best


def _drift(track: list[Row], mmsi: int, t_start: float, dur: float, centre) -> list[Row]:
    """An anchored track (bad fixes dropped), ping-ponged to ``dur``, centred on ``centre``."""
    lat0 = sorted(r[2] for r in track)[len(track) // 2]
    lon0 = sorted(r[3] for r in track)[len(track) // 2]
    good = [r for r in track if flat_m(lat0, lon0, r[2], r[3]) < 1000.0]
    p = good[-1][1] - good[0][1]
    dn, de = (
        (centre[0] - lat0) * 111_195.0,
        (centre[1] - lon0) * 111_195.0 * math.cos(math.radians(centre[0])),
    )
    out: list[Row] = []
    k = 0
    while k * p < dur:
        seq = good if k % 2 == 0 else list(reversed(good))
        for _, t, lat, lon, cog, sog in seq:
            off = t - good[0][1]
            if k % 2:
                off = p - off
            tt = t_start + k * p + off
            if tt >= t_start + dur or (k and off == 0.0):
                continue
            nlat, nlon = offset(lat, lon, dn, de)
            out.append((mmsi, tt, nlat, nlon, cog, sog))
        k += 1
    return out


@dataclass
class Corpus:
    rows: list[Row]
    truth: list[Truth] = field(default_factory=list)
    renamed: set[tuple[int, float]] = field(default_factory=set)  # (mmsi, t): the clone's name

    def fixes(self) -> list[Fix]:
        out = []
        n13 = 0
        for mmsi, t, lat, lon, cog, sog in self.rows:
            source = "ais"
            if mmsi == GAP13:
                n13 += 1
                source = "jjoc" if n13 % 2 else "ais"
            out.append(
                Fix(
                    mmsi=mmsi,
                    t=t,
                    lat=lat,
                    lon=lon,
                    sog=sog,
                    cog=cog,
                    name=NAMES[CLONER] if (mmsi, t) in self.renamed else NAMES.get(mmsi, ""),
                    source=source,
                    label=LABEL,
                )
            )
        return out


def untouched() -> Corpus:
    return Corpus(list(base_rows()))


def injected() -> Corpus:
    """The base corpus with the events of the module docstring, and their truth."""
    start = t0()
    rows = list(base_rows())
    truth: list[Truth] = []
    keep: list[Row] = []

    # gaps: cut the silences
    for mmsi, a, b, _name in ((GAP7, 2.0, 9.0, "gap7"), (GAP13, 1.5, 14.5, "gap13")):
        ta, tb = start + a * H, start + b * H
        before = max(r[1] for r in rows if r[0] == mmsi and r[1] < ta)
        after = min(r[1] for r in rows if r[0] == mmsi and r[1] >= tb)
        rows = [r for r in rows if not (r[0] == mmsi and ta <= r[1] < tb)]
        truth.append(Truth("gap", (str(mmsi),), before, after))

    # the 600 kn jump: 5 min silent, 20 min 50 NM south, 5 min silent
    tj = start + 4.0 * H
    before = max(r[1] for r in rows if r[0] == JUMPER and r[1] < tj - 300)
    assert tj - before < 330, "the jumper must be reporting before the jump"
    shifted: list[Row] = []
    for r in rows:
        if r[0] == JUMPER and tj - 300 <= r[1] < tj + 1500:
            if tj <= r[1] < tj + 1200:
                lat, lon = destination(r[2], r[3], 180.0, 50 * NM)
                shifted.append((r[0], r[1], lat, lon, r[4], r[5]))
            continue
        keep.append(r)
    rows = keep + shifted
    jump = flat_m(
        *next(r for r in rows if r[0] == JUMPER and r[1] == before)[2:4], *shifted[0][2:4]
    )
    assert 550 < jump / (shifted[0][1] - before) / KNOT < 650, "not a 600 kn jump"
    truth.append(
        Truth("spoofing", (str(JUMPER),), before, shifted[0][1], "impossible_movement", "spoof")
    )

    # the clone: 370869000 transmits 235061621's MMSI (with its own name) for 0.9 h
    ca, cb = start + 6.1 * H, start + 7.0 * H
    clone_ts = []
    keep = []
    for r in rows:
        if r[0] == CLONER and ca <= r[1] < cb:
            keep.append((CLONED, *r[1:]))
            clone_ts.append(r[1])
        else:
            keep.append(r)
    rows = keep
    truth.append(
        Truth(
            "spoofing", (str(CLONED),), min(clone_ts), max(clone_ts), "identity_conflict", "spoof"
        )
    )
    clone_rows = {(CLONED, t) for t in clone_ts}

    # the circle: 12 vessels' positions on one circle for 30 min
    sa, sb = start + 8.0 * H, start + 8.5 * H
    keep = []
    for r in rows:
        if r[0] in CIRCLERS and sa <= r[1] < sb:
            i = CIRCLERS.index(r[0])
            theta = 2 * math.pi * (i / len(CIRCLERS) + (r[1] - sa) / 1200.0)
            lat, lon = offset(
                *CIRCLE_CENTRE, CIRCLE_R * math.cos(theta), CIRCLE_R * math.sin(theta)
            )
            keep.append((r[0], r[1], lat, lon, r[4], r[5]))
        else:
            keep.append(r)
    rows = keep
    circ = [r[1] for r in rows if r[0] in CIRCLERS and sa <= r[1] < sb]
    truth.append(
        Truth(
            "spoofing",
            tuple(sorted(map(str, CIRCLERS))),
            min(circ),
            max(circ),
            "gnss_interference",
            "spoof",
        )
    )

    # the rendezvous
    hour = solent_hour()
    ra, rb = start + 11.0 * H, start + 14.0 * H
    legs = (
        (RDV[0], 234586000, 245188000, (0.0, -125.0)),
        (RDV[1], 370869000, 236112059, (0.0, 125.0)),
    )
    for mmsi, mover, anchored, (dn, de) in legs:
        centre = offset(*RDV_POINT, dn, de)
        drift = _drift(_track(hour, anchored), mmsi, ra, rb - ra, centre)
        leg = _fast(_track(hour, mover), 1800.0)
        arrive = _transplant(leg, mmsi, ra - 1.0, drift[0][2:4], at_end=True)
        leave_src = list(reversed(leg))  # the same water, the other way
        leave_src = [
            (m, leg[-1][1] + (leg[-1][1] - t), la, lo, (c + 180) % 360, s)
            for m, t, la, lo, c, s in leave_src
        ]
        leave = _transplant(leave_src, mmsi, drift[-1][1] + 1.0, drift[-1][2:4], at_end=False)
        rows += arrive + drift + leave
        truth.append(Truth("loitering", (str(mmsi),), drift[0][1], drift[-1][1]))
    truth.append(Truth("encounter", tuple(sorted(map(str, RDV))), ra, rb))

    # the zone crossing: 30 min of 234586000's track, through the box at 13.0 h
    leg = _fast(_track(hour, 234586000), 2400.0)
    mid = leg[len(leg) // 2]
    cross = _transplant(
        [r for r in leg if r[1] >= mid[1]], CROSSER, start + 13.0 * H, ZONE_CENTRE, at_end=False
    )
    first_half = _transplant(
        [r for r in leg if r[1] <= mid[1]], CROSSER, start + 13.0 * H, ZONE_CENTRE, at_end=True
    )
    path = first_half + cross[1:]
    rows += path
    inside = [r[1] for r in path if _in_box(r[2], r[3])]
    truth.append(Truth("zone", (str(CROSSER),), min(inside), min(inside), "entry", "zone"))
    truth.append(Truth("zone", (str(CROSSER),), max(inside), max(inside), "exit", "zone"))

    rows.sort(key=lambda x: x[1])
    return Corpus(rows, truth, clone_rows)


def _in_box(lat: float, lon: float) -> bool:
    lats = [p[0] for p in ZONE.polygon]
    lons = [p[1] for p in ZONE.polygon]
    return min(lats) <= lat <= max(lats) and min(lons) <= lon <= max(lons)


# Anchored at least 5 km from any port in the real hour (SOG ~0, St Helens Roads / the
# Nab): loitering in the base and the injected corpus alike.
# Checked against the hour: mean SOG ≤ 0.4 kn and 5.4–26 km from the nearest port (245188000,
# also at ~0 kn, is 1.3 km from Portsmouth: not loitering; 311758000 is 4.5 km out).
BACKGROUND_LOITERING: frozenset[str] = frozenset(
    {
        "229847000",
        "232003387",
        "235072654",
        "235110094",
        "236112059",
        "240244000",
        "247006000",
        "249050000",
        "355920000",
        "371172000",
        "372926000",
        "538003523",
    }
)
