"""Pure rules of access: which instrument covers a nation's activity at a place on dates.

An instrument covers a request when, in this order (the first that fails is the reason):

1. it names the requesting nation (else it is not considered; none at all: ``no_instrument``);
2. it is in force over the whole window: from 00:00 JST of ``in_force`` to the end of the
   day of ``expires`` in Japan (``not_in_force``);
3. it covers the activity (``activity_not_covered``);
4. the place is open to it: not ``excluded``, and granted by id (``facilities``) or of a
   basis it lists (``bases``) (``facility_not_covered``). This is how a partner's use of a
   U.S. SOFA facility is decided: the RAAs list the joint-use (II-4(a)) and limited-period
   (II-4(b)) bases, not exclusive use (II-1), which needs an explicit grant (ADR 0015).

Japan's own forces need no instrument (``host_nation``). Of several instruments of one
nation, one that covers wins; else the one that got furthest names the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from kizuna.access.models import ACTIVITIES, AccessVerdict, Arrangement
from kizuna.core.catalog import Catalog
from kizuna.core.records import Text

CATALOG = Catalog("kizuna.access")
HOST = "JPN"
JST = dt.timezone(dt.timedelta(hours=9), "JST")
_STAGES = ("not_in_force", "activity_not_covered", "facility_not_covered")


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """A facility or area as the check sees it: its id, basis and name."""

    id: str
    basis: str
    name: Text = Text()


def day_start(date: str) -> dt.datetime:
    """00:00 in Japan of ``date`` (YYYY-MM-DD), as an aware datetime."""
    return dt.datetime.combine(dt.date.fromisoformat(date), dt.time(), JST)


def in_force_over(arr: Arrangement, start: dt.datetime, end: dt.datetime) -> bool:
    if start < day_start(arr.in_force):
        return False
    return arr.expires is None or end <= day_start(arr.expires) + dt.timedelta(days=1)


def place_open(arr: Arrangement, place: Place) -> bool:
    if place.id in arr.excluded:
        return False
    return place.id in arr.facilities or place.basis in arr.bases


def stage(
    arr: Arrangement, activity: str, place: Place | None, start: dt.datetime, end: dt.datetime
) -> str | None:
    """None if ``arr`` covers the request (its nation already matched); else the reason."""
    if not in_force_over(arr, start, end):
        return "not_in_force"
    if activity not in arr.activities:
        return "activity_not_covered"
    if place is not None and not place_open(arr, place):
        return "facility_not_covered"
    return None


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def check(
    arrangements: Iterable[Arrangement],
    nation: str,
    activity: str,
    facility_id: str | None,
    place: Place | None,
    start: dt.datetime,
    end: dt.datetime,
) -> AccessVerdict:
    """The verdict on ``nation`` doing ``activity`` at ``facility_id`` (``place``: what it
    is, None when unknown or not given) from ``start`` to ``end``."""
    start, end = aware(start), aware(end)
    nation = nation.upper()
    if activity not in ACTIVITIES:
        return _verdict("unknown_activity", None, None, activity=activity, nation=nation)
    if facility_id is not None and place is None:
        return _verdict("unknown_facility", None, None, facility=facility_id, nation=nation)
    if nation == HOST:
        return _verdict("host_nation", None, None, allowed=True, nation=nation)
    facility = _place_name(place)
    best: tuple[int, Arrangement, str] | None = None
    for arr in sorted(arrangements, key=lambda a: (a.in_force, a.key)):
        if nation not in arr.nations:
            continue
        reason = stage(arr, activity, place, start, end)
        if reason is None:
            return _verdict(
                "covered",
                arr,
                None,
                allowed=True,
                nation=nation,
                activity=activity,
                facility=facility,
            )
        rank = _STAGES.index(reason)
        if best is None or rank > best[0]:
            best = (rank, arr, reason)
    if best is None:
        needed = _text("needed.no_instrument", nation=nation)
        return _verdict("no_instrument", None, needed, nation=nation, activity=activity)
    _, arr, reason = best
    period = (
        _text("period.open", in_force=arr.in_force)
        if arr.expires is None
        else _text("period.closed", in_force=arr.in_force, expires=arr.expires)
    )
    values: dict[str, Any] = {
        "nation": nation,
        "activity": activity,
        "facility": facility,
        "period": period,
        "start": start.astimezone(JST).date().isoformat(),
        "end": end.astimezone(JST).date().isoformat(),
    }
    needed = (
        _text(f"needed.{reason}", **values, instrument=arr.short)
        if reason in ("facility_not_covered", "activity_not_covered")
        else arr.short
    )
    return _verdict(reason, arr, needed, **values)


def _text(key: str, **values: Any) -> Text:
    """The catalog's message in both languages, each filled with its language's values."""
    return Text(**{lang: CATALOG.get(lang, key, **_filled(values, lang)) for lang in ("en", "ja")})


def _filled(values: dict[str, Any], lang: str) -> dict[str, str]:
    filled = {k: _lang(v, lang) for k, v in values.items()}
    if "activity" in values:
        filled["activity"] = _activity(str(values["activity"]), lang)
    return filled


def _place_name(place: Place | None) -> Text:
    if place is None:
        return Text()
    return Text(en=place.name.en or place.id, ja=place.name.ja or place.name.en or place.id)


def _verdict(
    reason: str,
    arr: Arrangement | None,
    needed: Text | None,
    *,
    allowed: bool = False,
    **values: Any,
) -> AccessVerdict:
    detail: dict[str, str] = {}
    for lang in ("en", "ja"):
        filled = _filled(values, lang)
        filled["instrument"] = _lang(arr.short, lang) if arr is not None else ""
        filled["needed"] = _lang(needed, lang) if needed is not None else ""
        detail[lang] = CATALOG.get(lang, f"reason.{reason}", **filled)
    return AccessVerdict(
        allowed=allowed,
        instrument=arr.key if arr is not None else None,
        reason=reason,
        needed=needed.en if needed is not None else None,
        detail=detail,
    )


def _lang(value: Any, lang: str) -> str:
    if isinstance(value, Text):
        return value.ja or value.en if lang == "ja" else value.en or value.ja
    return str(value)


def _activity(activity: str, lang: str) -> str:
    key = f"activity.{activity}"
    return CATALOG.get(lang, key) if CATALOG.has(key) else activity


def arrangement_from(fields: Mapping[str, Any]) -> Arrangement:
    """An instrument from a record's fields or a seed table (raises ``msgspec`` errors)."""
    return msgspec.convert(dict(fields), Arrangement)
