"""Helpers for picture tests: tracks, labels, principals."""

from __future__ import annotations

from typing import Any

from kizuna.core.labels import Classification, Label, parse_label
from kizuna.core.release import Principal, make_principal
from kizuna.picture.models import Provenance, Track

U = parse_label("U")
S_REL_JPN = parse_label("S//REL TO USA, JPN")
S_NOFORN = parse_label("SECRET//NOFORN")
LABELS = [U, S_REL_JPN, S_NOFORN, parse_label("C//REL TO USA, AUS")]

US_TS = make_principal("USA", Classification.TOP_SECRET)
JPN_S = make_principal("JPN", Classification.SECRET)
AUS_C = make_principal("AUS", Classification.CONFIDENTIAL)
PRINCIPALS: list[Principal] = [US_TS, JPN_S, AUS_C]


def track(
    tid: str,
    *,
    source: str = "ais",
    source_id: str | None = None,
    lat: float = 35.0,
    lon: float = 139.0,
    t: float = 1000.0,
    stale: float = 600.0,
    label: Label = U,
    **extra: Any,
) -> Track:
    sid = source_id if source_id is not None else tid
    return Track(
        id=tid,
        source=source,
        source_id=sid,
        lat=lat,
        lon=lon,
        observed_at=t,
        stale_at=t + stale,
        label=label,
        sidc="10030000000000000000",
        sources=[Provenance(source=source, source_id=sid, observed_at=t, connection="test")],
        **extra,
    )


def report(label: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    """A manual report for POST /api/v1/tracks."""
    return {"label": label, "lat": lat, "lon": lon, **extra}
