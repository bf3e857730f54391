"""Pure rules of reservations: conflicts, altitude bands, lead times, weeks.

Two reservations conflict when their places share area (the facilities domain decides:
a callable here), their altitude bands overlap and their windows overlap, all three;
bands and windows are half-open, so one ending where the other begins does not conflict.
A cancelled reservation conflicts with nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from kizuna.core.catalog import Catalog, Message

MESSAGES = Catalog("kizuna.reservations")
FT = 0.3048


class RuleError(ValueError):
    """A rule's refusal: ``message`` in the reader's language (``str()`` is the English)."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


JST = dt.timezone(dt.timedelta(hours=9), "JST")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class Slot(msgspec.Struct, frozen=True, kw_only=True):
    """A reservation as the conflict rule sees it."""

    id: str
    place: Any  # what ``overlap`` compares (the facilities domain's Place)
    start: float
    end: float
    floor_m: float = 0.0
    ceiling_m: float | None = None
    activity: str = ""
    active: bool = True


def metres(value: float, unit: str) -> float:
    return value * FT if unit == "ft" else value * 100 * FT if unit == "FL" else value


def band_of(floor: float, ceiling: float | None, unit: str) -> tuple[float, float | None]:
    """A band in metres; ValueError unless the ceiling is above the floor."""
    lo = round(metres(floor, unit), 2)
    hi = None if ceiling is None else round(metres(ceiling, unit), 2)
    if hi is not None and hi <= lo:
        raise RuleError(MESSAGES.msg("error.ceiling-below-floor"))
    return lo, hi


def bands_overlap(a: Slot, b: Slot) -> bool:
    return (b.ceiling_m is None or a.floor_m < b.ceiling_m) and (
        a.ceiling_m is None or b.floor_m < a.ceiling_m
    )


def windows_overlap(a: Slot, b: Slot) -> bool:
    return a.start < b.end and b.start < a.end


def conflict(a: Slot, b: Slot, overlap: Callable[[Any, Any], bool]) -> bool:
    """Place, altitude and time all overlap (and neither is cancelled, nor are they one)."""
    if a.id == b.id or not (a.active and b.active):
        return False
    return windows_overlap(a, b) and bands_overlap(a, b) and overlap(a.place, b.place)


def conflicts(new: Slot, others: Iterable[Slot], overlap: Callable[[Any, Any], bool]) -> list[Slot]:
    return [o for o in others if conflict(new, o, overlap)]


def refuses(activities: Sequence[str], refuse_on: Iterable[str]) -> bool:
    """Whether a conflict between these activities is refused (else flagged)."""
    return bool(set(activities) & set(refuse_on))


def lead_hours(kind: str, table: dict[str, float]) -> float:
    return float(table.get(kind, table.get("default", 0.0)))


def late_notice(kind: str, start: float, now: float, table: dict[str, float]) -> float | None:
    """The lead time (hours) a reservation starting at ``start`` misses (None: in time)."""
    hours = lead_hours(kind, table)
    return hours if hours > 0 and start - now < hours * 3600 else None


def week_bounds(week: str) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 JST of an ISO week (``2026-W10``) and the next Monday."""
    m = _WEEK.match(week)
    if not m:
        raise RuleError(MESSAGES.msg("error.week-format"))
    try:
        monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise RuleError(MESSAGES.msg("error.no-week", week=week)) from None
    start = dt.datetime.combine(monday, dt.time(), JST)
    return start, start + dt.timedelta(days=7)


def week_of(seconds: float) -> str:
    year, week, _ = dt.datetime.fromtimestamp(seconds, JST).isocalendar()
    return f"{year}-W{week:02d}"
