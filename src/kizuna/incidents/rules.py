"""Pure rules of incidents: which incident a bulletin belongs to, the merge, the derivation.

An incident record holds each of its bulletins as one field, ``b.<digest of its key>``;
the raw document rides in the same event under ``raw.<digest>`` and is kept out of the
record's state (:func:`incident_merge`), so it stays in the event log for audit only. The
merge is the generic per-field one over those fields, hence commutative, associative and
idempotent; the incident's current state is derived on read by ordering the bulletins
(:func:`bulletin_order`) and folding them (:func:`derive`), the same on every node.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.core.merge import lww_merge, merge_envelope, set_field
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.incidents.models import INTENSITIES, Bulletin, IntensityArea, TsunamiArea

BULLETIN_PREFIX = "b."
RAW_PREFIX = "raw."

# JMA tsunami category codes (警報等情報要素／津波警報・注意報・予報) by what they mean.
TSUNAMI_CATEGORY = {
    "00": "none",
    "50": "lifted",  # 津波警報解除
    "51": "warning",  # 津波警報
    "52": "major_warning",  # 大津波警報
    "53": "major_warning",  # 大津波警報：発表
    "60": "lifted",  # 津波注意報解除
    "62": "advisory",  # 津波注意報
    "71": "forecast",  # 津波予報（若干の海面変動）
    "72": "lifted",  # 津波予報（若干の海面変動）：津波注意報解除
    "73": "lifted",  # 津波予報（若干の海面変動）：津波警報解除
}
TSUNAMI_RANK = {"none": 0, "lifted": 1, "forecast": 2, "advisory": 3, "warning": 4}
TSUNAMI_RANK["major_warning"] = 5

_KIND_RANK = {"issue": 0, "correction": 1, "cancel": 2}
_SAFE = re.compile(r"[^0-9A-Za-z]+")


def tsunami_category(code: str) -> str:
    return TSUNAMI_CATEGORY.get(code, "none")


def intensity_rank(value: str | None) -> int:
    """Order of an intensity class (-1: none or unknown)."""
    return INTENSITIES.index(value) if value in INTENSITIES else -1


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def incident_id(bulletin: Bulletin, root: str | None = None) -> str:
    """The incident a bulletin belongs to: the same on every node that reads the same
    documents. Drills get their own incident (``-x``), never the real one's.

    JMA: ``jma-<EventID>``; CAP: ``cap-<digest of the chain's first alert>``, ``root``
    being that alert's key when the caller resolved it from messages it holds."""
    drill = "-x" if bulletin.status == "exercise" else ""
    if bulletin.source == "jma":
        return f"jma-{_SAFE.sub('', bulletin.event)[:40]}{drill}"
    return f"cap-{digest(root or cap_root(bulletin))}{drill}"


def cap_sent(reference: str) -> str:
    parts = reference.split(",")
    return parts[2] if len(parts) == 3 else ""


def cap_root(bulletin: Bulletin) -> str:
    """The first message of a CAP chain as far as this message tells: the earliest (by
    ``sent``) of itself and every message it references. An Update or Cancel that names
    the original alert (as CAP senders do) lands on the same incident in any order."""
    candidates = [bulletin.event, *bulletin.references]
    return min(candidates, key=lambda ref: (cap_sent(ref), ref))


def precedence(bulletin: Bulletin) -> Precedence:
    """EEWs and tsunami warnings are FLASH; strong shaking and advisories IMMEDIATE."""
    cats = {tsunami_category(a.kind_code) for a in bulletin.tsunami_areas}
    if bulletin.type == "VXSE43" or cats & {"warning", "major_warning"}:
        return Precedence.FLASH
    strong = max(
        intensity_rank(bulletin.max_intensity), intensity_rank(bulletin.forecast_intensity)
    )
    severe = any(i.severity in ("Extreme", "Severe") for i in bulletin.infos)
    if "advisory" in cats or strong >= intensity_rank("5-") or severe:
        return Precedence.IMMEDIATE
    return Precedence.PRIORITY


# -- the merge -------------------------------------------------------------------


def incident_merge(state: RecordState | None, event: Event) -> RecordState:
    """Per-field last-writer-wins over the bulletins, raw documents left in the log."""
    if not any(k.startswith(RAW_PREFIX) for k in event.payload):
        return lww_merge(state, event)
    payload = {k: v for k, v in event.payload.items() if not k.startswith(RAW_PREFIX)}
    first = state is None
    state = merge_envelope(state, event)
    if first:
        state.fields.update(payload)
    else:
        for key, value in payload.items():
            set_field(state, key, value, event.order)
    return state


# -- derivation ------------------------------------------------------------------


@dataclass
class Filed:
    """A bulletin as filed: the bulletin and what the service recorded with it."""

    bulletin: Bulletin
    sha256: str
    size: int
    received_at: float
    cancelled: bool = False


@dataclass
class TsunamiTrack:
    area: TsunamiArea
    history: list[tuple[float, TsunamiArea]] = field(default_factory=list)


@dataclass
class Derived:
    """An incident's current state, folded from its bulletins in order."""

    source: str
    event: str
    state: str
    bulletins: list[Filed]
    latest: Bulletin
    hypocentre: Any = None
    magnitude: Any = None
    origin_time: float | None = None
    max_intensity: str | None = None
    forecast_intensity: str | None = None
    intensity_areas: list[IntensityArea] = field(default_factory=list)
    tsunami: dict[str, TsunamiTrack] = field(default_factory=dict)
    infos: list[Any] = field(default_factory=list)


def bulletin_order(b: Bulletin) -> tuple[float, int, int, str]:
    """A total order of bulletins: issue time, serial, issue before correction before
    cancellation, then the key (ties broken the same way everywhere)."""
    return (b.issued_at, b.serial or 0, _KIND_RANK[b.kind], b.key_text)


def filed(state: RecordState) -> list[Filed]:
    out = []
    for key, value in state.fields.items():
        if not key.startswith(BULLETIN_PREFIX) or not isinstance(value, dict):
            continue
        out.append(
            Filed(
                bulletin=msgspec.convert(value["bulletin"], Bulletin),
                sha256=str(value.get("sha256", "")),
                size=int(value.get("size", 0)),
                received_at=float(value.get("received_at", 0.0)),
            )
        )
    out.sort(key=lambda f: bulletin_order(f.bulletin))
    return out


def _cancels(cancel: Bulletin, earlier: Bulletin) -> bool:
    """JMA: a 取消 withdraws the earlier bulletins of its type; CAP: a Cancel withdraws
    the chain it references (and so everything of the chain issued before it)."""
    if cancel.source == "jma":
        return earlier.type == cancel.type
    return True


def derive(state: RecordState) -> Derived:
    items = filed(state)
    if not items:
        raise ValueError(f"incident {state.record_id} holds no bulletin")
    for n, item in enumerate(items):
        if item.bulletin.kind == "cancel":
            item.cancelled = True
            for prior in items[:n]:
                if _cancels(item.bulletin, prior.bulletin):
                    prior.cancelled = True
    live = [i.bulletin for i in items if not i.cancelled]
    first = items[0].bulletin
    d = Derived(
        source=first.source,
        event=str(state.fields.get("event", first.event)),
        state="active" if live else "cancelled",
        bulletins=items,
        latest=(live or [items[-1].bulletin])[-1],
    )
    for b in live:
        if b.hypocentre is not None:
            d.hypocentre = b.hypocentre
        if b.magnitude is not None:
            d.magnitude = b.magnitude
        if b.origin_time is not None:
            d.origin_time = b.origin_time
        if b.max_intensity is not None:
            d.max_intensity = b.max_intensity
            d.intensity_areas = list(b.intensity_areas)
        if b.forecast_intensity is not None:
            d.forecast_intensity = b.forecast_intensity
            if b.max_intensity is None and not d.intensity_areas:
                d.intensity_areas = list(b.intensity_areas)
        for area in b.tsunami_areas:
            track = d.tsunami.get(area.code)
            if track is None:
                track = d.tsunami[area.code] = TsunamiTrack(area=area)
            if not track.history or track.history[-1][1].kind_code != area.kind_code:
                track.history.append((b.issued_at, area))
            track.area = area
        if b.infos:
            d.infos = list(b.infos)
    return d


def magnitude_value(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value
