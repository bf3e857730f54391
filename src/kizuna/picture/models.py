"""Tracks of the common operational picture."""

from __future__ import annotations

import msgspec

from kizuna.core.labels import Label


class Provenance(msgspec.Struct, kw_only=True):
    """What one source last said about a track."""

    source: str  # "ais", "cot", …
    source_id: str  # MMSI, CoT uid, …
    observed_at: float  # UTC epoch seconds
    connection: str = ""  # feed or client that delivered it


class Track(msgspec.Struct, kw_only=True):
    """One object on the picture. ``id`` is stable across sources of the same object."""

    id: str  # e.g. "ais-431000000", "cot-ANDROID-1234"
    source: str
    source_id: str
    lat: float
    lon: float
    observed_at: float  # UTC epoch seconds
    stale_at: float
    label: Label
    sidc: str  # MIL-STD-2525D 20-digit symbol identification code
    cot_type: str = "a-u-G"
    affiliation: str = "unknown"  # pending, unknown, friend, neutral, hostile, …
    callsign: str = ""
    name: str = ""
    course: float | None = None  # degrees true
    speed: float | None = None  # metres per second
    hae: float | None = None  # metres
    exercise: bool = False
    ship_type: int | None = None
    mmsi: int | None = None
    remarks: str = ""
    sources: list[Provenance] = []
