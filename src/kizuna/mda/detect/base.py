"""What every detector takes and gives: fixes in, event emissions out.

A detector is fed the fixes of each vessel in time order per identity segment (the
pipeline cleans and segments first, :mod:`kizuna.mda.detect.clean`) and is ticked with the
data's clock (the newest observation time seen), so that a file replayed and the same data
arriving live make the same decisions. Every emission carries a deterministic id
(:func:`event_id`: type, vessels, start), so a replay, a second worker or a partner that
detects the same thing never makes a second event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

import msgspec

from kizuna.core.labels import Label

EventType = Literal["gap", "loitering", "encounter", "spoofing", "zone"]
EventStatus = Literal["open", "closed", "retracted"]
KNOT = 1852.0 / 3600.0  # metres per second


class Fix(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One cleaned AIS position (or static report: ``lat``/``lon`` None) of one vessel.

    Not tracked by the garbage collector (``gc=False``): a Fix holds only numbers, strings
    and a Label, so it can never be part of a reference cycle, and the detectors make one
    per AIS report.
    """

    mmsi: int
    t: float  # observation time, UTC epoch seconds
    lat: float | None
    lon: float | None
    sog: float | None = None  # knots; None when not available (102.3)
    cog: float | None = None  # degrees; None when not available (>= 360)
    heading: float | None = None  # degrees; None when not available (511)
    name: str = ""
    imo: int | None = None
    source: str = "ais"  # receiver or feed (the picture's provenance), or a partner node
    label: Label
    segment: int = 0  # identity segment of this MMSI (clean.py splits impossible tracks)


class Evidence(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # no cycles: as Fix
    mmsi: str
    t: float
    lat: float
    lon: float
    sog: float | None = None
    source: str = ""


class Emission(msgspec.Struct, kw_only=True):
    """An event as a detector opens, updates, closes or retracts it."""

    id: str
    type: EventType
    status: EventStatus
    start: float
    end: float | None
    vessels: tuple[str, ...]  # MMSIs as strings, sorted
    lat: float  # mean position
    lon: float
    evidence: list[Evidence]
    label: Label  # the restriction of every contributing fix's label
    detail: dict[str, Any] = {}  # per type: kind, distance_m, implied_speed_kn, zone, …


def event_id(kind: EventType, vessels: Iterable[str], start: float, extra: str = "") -> str:
    """Deterministic: the same type, vessels and start (to the second) give the same id."""
    key = f"{kind}|{','.join(sorted(vessels))}|{int(start)}|{extra}"
    return f"mda-{kind}-{hashlib.blake2b(key.encode(), digest_size=10).hexdigest()}"


class Detector(Protocol):
    def feed(self, fix: Fix) -> Sequence[Emission]:
        """Take one fix (in time order per vessel segment); events it opens or changes."""
        ...

    def tick(self, now: float) -> Sequence[Emission]:
        """The data's clock moved to ``now``: events that open or close by time alone."""
        ...
