"""Events, precedence and bilingual text: the shapes every layer shares."""

from __future__ import annotations

import enum
from typing import Any, Literal

import msgspec

from kizuna.core.labels import Label

Op = Literal["create", "patch", "tombstone"]


class Precedence(enum.IntEnum):
    """ACP 121 precedence; lower value goes first."""

    FLASH = 0
    IMMEDIATE = 1
    PRIORITY = 2
    ROUTINE = 3

    @property
    def handling_seconds(self) -> int:
        """Handling-time objective."""
        return _HANDLING[self]


_HANDLING = {
    Precedence.FLASH: 10 * 60,
    Precedence.IMMEDIATE: 30 * 60,
    Precedence.PRIORITY: 3 * 3600,
    Precedence.ROUTINE: 6 * 3600,
}


class Text(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A bilingual text field; either side may be empty until translated."""

    en: str = ""
    ja: str = ""


class Position(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise ValueError("position out of range (lat -90..90, lon -180..180)")


class Event(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One change to one record. ``(origin, seq)`` is the idempotency key."""

    origin: str
    seq: int
    hlc: int
    record_type: str
    record_id: str
    op: Op
    label: Label
    precedence: Precedence = Precedence.ROUTINE
    payload: dict[str, Any] = {}
    author: str = ""
    hops: int = 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.origin, self.seq)

    @property
    def order(self) -> tuple[int, str, int]:
        """Total order used to break ties deterministically on every node."""
        return (self.hlc, self.origin, self.seq)


class RecordState(msgspec.Struct, kw_only=True, array_like=True):
    """Current state of one record, derived from its events.

    ``clocks`` holds the (hlc, origin, seq) of the last write of each field,
    but only where it differs from ``base`` (the event that first made this
    state): a record written once carries no clocks at all.
    """

    record_type: str
    record_id: str
    origin: str
    label: Label
    precedence: Precedence
    fields: dict[str, Any]
    clocks: dict[str, tuple[int, str, int]]
    base: tuple[int, str, int]
    created_hlc: int
    updated_hlc: int
    deleted: bool = False
    created_by: str = ""
    updated_by: str = ""
