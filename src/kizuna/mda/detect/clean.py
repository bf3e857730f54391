"""Before any event logic: null "not available" values, check MMSIs, split identities.

- AIS "not available" and out-of-range values become None: latitude 91 (or outside ±90),
  longitude 181 (or outside ±180), 0°/0° ("null island", a receiver without a fix),
  SOG 102.3 (or negative, or above 102.2), heading 511 (or ≥ 360), course ≥ 360.
- MMSIs are classified by ITU-R M.585 (:func:`mmsi_kind`) and checked against known
  placeholders (:func:`mmsi_flag`): "invalid" or "placeholder" identities are kept so the
  spoofing detector can flag them, but the pipeline keeps them out of the behaviour
  detectors (gap, loitering, encounter), which would only see the noise of many
  transceivers sharing one number.
- :class:`Segmenter` splits one MMSI into identity segments when a position cannot come
  from the vessel of any recent segment: farther than ``jitter_m`` plus
  ``max_speed_kn`` × elapsed time. A fix joins the nearest feasible segment (so a clone or
  an excursion returning to the true track rejoins its old segment); up to ``max_segments``
  are remembered per MMSI, least recently used dropped; at most ``max_vessels`` MMSIs,
  oldest first.
"""

from __future__ import annotations

from functools import lru_cache
from math import cos, radians, sqrt
from typing import Any

import msgspec
from msgspec.structs import replace

from kizuna.core.label_math import restrict
from kizuna.core.labels import Label
from kizuna.mda.detect.base import KNOT, Fix
from kizuna.mda.detect.geo import M_PER_DEG, flat_m

# Transceivers left at factory defaults or typed in by hand (seen in the wild).
PLACEHOLDERS: frozenset[int] = frozenset(
    {
        0,
        1,
        1193046,  # 0x123456
        12345678,
        123456789,
        987654321,
        413000000,  # China MID + zeros
        416000000,  # Taiwan MID + zeros
        567000000,  # Thailand MID + zeros
        666000001,
        100000000,
        200000000,
        700000000,
        800000000,
        900000000,
    }
    | {int(str(d) * 9) for d in range(1, 10)}  # 111111111 … 999999999
)
INF = float("inf")
# Kinds whose movement the behaviour detectors judge (ships and their craft).
VESSEL_KINDS = frozenset({"ship", "craft"})


class CleanConfig(msgspec.Struct, frozen=True, kw_only=True):
    max_speed_kn: float = 50.0  # above this between two fixes: not one vessel
    jitter_m: float = 200.0  # GNSS jitter and receiver clock skew: never a split below this
    max_segments: int = 4  # remembered per MMSI
    max_vessels: int = 1_000_000  # MMSIs with segment state, oldest dropped beyond


def _mid(digits: str) -> bool:
    """A Maritime Identification Digits value in the allocated range (201–775)."""
    return 201 <= int(digits) <= 775


@lru_cache(maxsize=1 << 18)
def mmsi_kind(mmsi: int) -> str:
    """The ITU-R M.585 station kind of an MMSI, or "invalid"."""
    if not 0 < mmsi <= 999_999_999:
        return "invalid"
    s = f"{mmsi:09d}"
    c = s[0]
    if c in "234567":  # MIDXXXXXX ship station
        return "ship" if _mid(s[:3]) else "invalid"
    if s.startswith("00"):  # 00MIDXXXX coast station
        return "coast" if _mid(s[2:5]) else "invalid"
    if c == "0":  # 0MIDXXXXX group of ships
        return "group" if _mid(s[1:4]) else "invalid"
    if s.startswith("111"):  # 111MIDXXX SAR aircraft
        return "sar_aircraft" if _mid(s[3:6]) else "invalid"
    if c == "8":  # 8MIDXXXXX handheld VHF with DSC/GNSS
        return "handheld" if _mid(s[1:4]) else "invalid"
    if s.startswith("970"):
        return "sart"
    if s.startswith("972"):
        return "mob"
    if s.startswith("974"):
        return "epirb"
    if s.startswith("98"):  # 98MIDXXXX craft associated with a parent ship
        return "craft" if _mid(s[2:5]) else "invalid"
    if s.startswith("99"):  # 99MIDXXXX aid to navigation
        return "aton" if _mid(s[2:5]) else "invalid"
    return "invalid"


@lru_cache(maxsize=1 << 18)
def mmsi_flag(mmsi: int) -> str:
    """ "" for a usable identity, else "invalid" (no M.585 format) or "placeholder"."""
    if mmsi in PLACEHOLDERS:
        return "placeholder"
    kind = mmsi_kind(mmsi)
    if kind == "invalid":
        return "invalid"
    if kind == "ship" and mmsi % 1_000_000 == 0:  # a MID and nothing else
        return "placeholder"
    return ""


def null_values(fix: Fix) -> Fix:
    """The fix with "not available" and out-of-range values as None (the same object if clean)."""
    lat, lon, sog, cog, hdg = fix.lat, fix.lon, fix.sog, fix.cog, fix.heading
    bad_pos = lat is None or lon is None or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0)
    if not bad_pos and lat == 0.0 and lon == 0.0:
        bad_pos = True
    bad_sog = sog is not None and not (0.0 <= sog < 102.25)
    bad_cog = cog is not None and not (0.0 <= cog < 360.0)
    bad_hdg = hdg is not None and not (0.0 <= hdg < 360.0)
    if (bad_pos and lat is not None) or bad_sog or bad_cog or bad_hdg:
        return replace(
            fix,
            lat=None if bad_pos else lat,
            lon=None if bad_pos else lon,
            sog=None if bad_sog else sog,
            cog=None if bad_cog else cog,
            heading=None if bad_hdg else hdg,
        )
    return fix


class _Ident:
    """Segments of one MMSI: [segment, last t, lat, lon], most recently used last."""

    __slots__ = ("next", "segs")

    def __init__(self) -> None:
        self.next = 0
        self.segs: list[list[Any]] = []  # [segment (int), t, lat, lon]


class Segmenter:
    """Assigns each positioned fix an identity segment of its MMSI (see the module docstring)."""

    __slots__ = ("_ids", "_jitter", "_mps", "cfg", "late", "splits", "step_m", "step_s")

    def __init__(self, config: CleanConfig | None = None) -> None:
        self.cfg = config or CleanConfig()
        self._mps = self.cfg.max_speed_kn * KNOT
        self._jitter = self.cfg.jitter_m
        self._ids: dict[int, _Ident] = {}
        self.late = False  # the last assigned fix was older than its segment's newest
        self.splits = 0  # new segments opened after the first (counter)
        # The last assigned fix continued its MMSI's current segment: the distance (m) and
        # time (s) from that segment's previous fix; inf when it switched or split.
        self.step_m = float("inf")
        self.step_s = 0.0

    def assign(self, mmsi: int, t: float, lat: float, lon: float) -> int:
        ids = self._ids
        ident = ids.get(mmsi)
        if ident is None:
            if len(ids) >= self.cfg.max_vessels:
                del ids[next(iter(ids))]
            ident = ids[mmsi] = _Ident()
        segs = ident.segs
        if segs:
            cur = segs[-1]
            dt = t - cur[1]
            x = (lon - cur[3]) * cos(radians((cur[2] + lat) / 2))  # flat_m, inline
            y = lat - cur[2]
            d = M_PER_DEG * sqrt(x * x + y * y)
            if d <= self._jitter + self._mps * (dt if dt > 0 else -dt):
                self.step_m = d
                self.step_s = dt
                if dt >= 0:
                    self.late = False
                    cur[1], cur[2], cur[3] = t, lat, lon
                else:
                    self.late = True
                return cur[0]  # type: ignore[no-any-return]
            self.step_m = INF
            best = -1
            best_d = 0.0
            for i in range(len(segs) - 1):
                s = segs[i]
                dt = t - s[1]
                d = flat_m(s[2], s[3], lat, lon)
                if d <= self.cfg.jitter_m + self._mps * abs(dt) and (best < 0 or d < best_d):
                    best, best_d = i, d
            if best >= 0:
                s = segs.pop(best)
                segs.append(s)
                self.late = t < s[1]
                if not self.late:
                    s[1], s[2], s[3] = t, lat, lon
                return s[0]  # type: ignore[no-any-return]
            self.splits += 1
        self.step_m = INF
        seg = ident.next
        ident.next += 1
        segs.append([seg, t, lat, lon])
        if len(segs) > self.cfg.max_segments:
            del segs[0]
        self.late = False
        return seg

    def clean(self, fix: Fix) -> Fix:
        """:meth:`Cleaner.clean`: nulls, then the segment; the usual report (nothing to
        null, continuing its MMSI's current segment) without a further call."""
        lat, lon, sog, cog, hdg = fix.lat, fix.lon, fix.sog, fix.cog, fix.heading
        if not (  # the same tests as null_values
            lat is not None
            and lon is not None
            and -90.0 <= lat <= 90.0
            and -180.0 <= lon <= 180.0
            and (lat != 0.0 or lon != 0.0)
            and (sog is None or 0.0 <= sog < 102.25)
            and (cog is None or 0.0 <= cog < 360.0)
            and (hdg is None or 0.0 <= hdg < 360.0)
        ):
            fix = null_values(fix)
            if fix.lat is None or fix.lon is None:
                self.late = False
                s = self.current(fix.mmsi)
            else:
                s = self.assign(fix.mmsi, fix.t, fix.lat, fix.lon)
            return fix if s == fix.segment else replace(fix, segment=s)
        ident = self._ids.get(fix.mmsi)
        if ident is not None and ident.segs:
            cur = ident.segs[-1]  # assign's first case, inline
            t = fix.t
            dt = t - cur[1]
            x = (lon - cur[3]) * cos(radians((cur[2] + lat) / 2))
            y = lat - cur[2]
            d = M_PER_DEG * sqrt(x * x + y * y)
            if d <= self._jitter + self._mps * (dt if dt > 0 else -dt):
                self.step_m = d
                self.step_s = dt
                if dt >= 0:
                    self.late = False
                    cur[1], cur[2], cur[3] = t, lat, lon
                else:
                    self.late = True
                s = cur[0]
                return fix if s == fix.segment else replace(fix, segment=s)
        s = self.assign(fix.mmsi, fix.t, lat, lon)
        return fix if s == fix.segment else replace(fix, segment=s)

    def current(self, mmsi: int) -> int:
        """The most recently used segment of an MMSI (for a fix without a position)."""
        ident = self._ids.get(mmsi)
        return int(ident.segs[-1][0]) if ident is not None and ident.segs else 0

    def __len__(self) -> int:
        return len(self._ids)


class Cleaner:
    """Nulls, then segments: :meth:`clean` gives the fix the detectors see."""

    __slots__ = ("segmenter",)

    def __init__(self, config: CleanConfig | None = None) -> None:
        self.segmenter = Segmenter(config)

    @property
    def late(self) -> bool:
        return self.segmenter.late

    def clean(self, fix: Fix) -> Fix:
        return self.segmenter.clean(fix)


_RESTRICTED: dict[tuple[Label, Label], Label] = {}


def combine_labels(a: Label, b: Label) -> Label:
    """:func:`restrict` of two labels, cached (nearly every fix shares one label)."""
    if a is b or a == b:
        return a
    key = (a, b)
    got = _RESTRICTED.get(key)
    if got is None:
        if len(_RESTRICTED) >= 4096:
            _RESTRICTED.clear()
        got = _RESTRICTED[key] = restrict(a, b)
    return got
