"""Pure rules of MDA records: the event merge and owner rule, verdicts, coverage, geometry.

**An event record** (``mda_event``) has one id on every node: the detector's deterministic
id (type, vessels, start), so a replay, a second worker or a partner detecting the same thing
never makes a second event. Its fields are kept apart by who wrote them:

* detection (``type``, ``status``, ``start``, ``end``, ``vessels``, ``lat``, ``lon``,
  ``evidence``, ``detail``, ``covered_by``) comes from the detecting node, the origin of the
  record's earliest create. Writes are held per origin (``w``: origin → field → [value,
  hlc, seq]), last writer wins within an origin, and reading takes the owner's, so arrival
  order never shows; the record's label is the owner's latest detection label;
* verdicts (``verdicts``: node → entry): an analyst's verdict (confirmed, false_positive,
  interference, a note) is owned by the node that gave it: one per node, the latest by
  (hlc, seq) within that node, each with its own label (never wider than the event's).

The owner rule (:func:`event_owner`, applied by federation at receipt) refuses a peer's
detection write, create or tombstone on a record another node created (``not_owner``) and
a verdict naming another node (``not_verdict_owner``). The merge keys verdicts by the
event's origin anyway, so a node can never overwrite another's.

**Coverage** (:func:`covering`): a gap is a gap of *this node's* sensors (the pipeline is fed
this node's own observations only); a partner's position of the same vessel that this node
may see (the picture holds tracks peers delivered, provenance naming the peer) and that falls
inside the gap marks it covered, naming the source. It is evaluated on the detecting node at
two moments, so the result does not depend on which arrives first: when the gap is written
(opened, updated, closed) against the partner fixes held for that vessel, and when a partner
fix arrives for a vessel with a gap held (open, or closed within ``coverage_s``) whose span
contains the fix's time. A retracted gap is never covered. The covering fix's label joins the
event's (the strictest), so a partner's position never travels further than its own label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kizuna.core.label_math import restrict
from kizuna.core.labels import DEFAULT_GROUPS, GroupRegistry, Label
from kizuna.core.lifecycle import keep_first, label_from_dict, label_to_dict, order_key
from kizuna.core.records import Event, Precedence, RecordState

DETECTION_FIELDS = frozenset(
    {
        "type",
        "status",
        "start",
        "end",
        "vessels",
        "lat",
        "lon",
        "evidence",
        "detail",
        "covered_by",
    }
)
VERDICT_VALUES = frozenset({"confirmed", "false_positive", "interference"})
_LABEL = "__label"
_PRECEDENCE = "__precedence"
_ZERO = (0, "", 0)


# -- the event merge ----------------------------------------------------------------


def event_merge(state: RecordState | None, event: Event) -> RecordState:
    """Merge one event into an MDA event record (pure, commutative, idempotent).

    Payloads: ``{"set": {detection field: value}}`` (the detecting node's create and patches)
    and ``{"verdict": {"node", "verdict", "note", "at"}}`` (any node's verdict)."""
    if state is None:
        state = RecordState(
            record_type=event.record_type,
            record_id=event.record_id,
            origin=event.origin,
            label=event.label,
            precedence=event.precedence,
            fields={},
            clocks={},
            base=_ZERO,
            created_hlc=event.hlc,
            updated_hlc=event.hlc,
        )
    f = state.fields
    payload = event.payload if isinstance(event.payload, dict) else {}
    me = {"hlc": event.hlc, "node": event.origin, "seq": event.seq, "by": event.author}
    sets = payload.get("set")
    if isinstance(sets, dict):
        bucket = f.setdefault("w", {}).setdefault(event.origin, {})
        writes = {k: v for k, v in sets.items() if k in DETECTION_FIELDS}
        writes[_LABEL] = label_to_dict(event.label)
        writes[_PRECEDENCE] = int(event.precedence)
        for key, value in writes.items():
            current = bucket.get(key)
            if current is None or (current[1], current[2]) < (event.hlc, event.seq):
                bucket[key] = [value, event.hlc, event.seq]
    if event.op == "create":
        keep_first(f, "create", me)
    if event.op == "tombstone":
        f.setdefault("tombstones", {})[event.origin] = True
    verdict = payload.get("verdict")
    if isinstance(verdict, dict) and verdict.get("verdict") in VERDICT_VALUES:
        table = f.setdefault("verdicts", {})
        entry = {
            **me,
            "verdict": str(verdict["verdict"]),
            "note": str(verdict.get("note", ""))[:2000],
            "at": float(verdict.get("at", 0.0) or 0.0),
            "label": label_to_dict(event.label),
        }
        current = table.get(event.origin)
        if current is None or order_key(current) < order_key(entry):
            table[event.origin] = entry
    stamped = {**me, "label": label_to_dict(event.label), "precedence": int(event.precedence)}
    keep_first(f, "first", stamped)
    last = f.get("last")
    if last is None or order_key(stamped) > order_key(last):
        f["last"] = stamped
    _settle(state)
    return state


def _settle(state: RecordState) -> None:
    """The envelope from the merged fields alone: origin, times, the owner's label."""
    f = state.fields
    create, first, last = f.get("create"), f["first"], f["last"]
    genesis = create or first
    state.origin = genesis["node"]
    state.created_hlc = genesis["hlc"]
    state.created_by = genesis["by"]
    state.updated_hlc = last["hlc"]
    state.updated_by = last["by"]
    owned = f.get("w", {}).get(state.origin, {}) if create is not None else {}
    label = label_from_dict(owned[_LABEL][0]) if _LABEL in owned else None
    if label is not None:
        state.label = label
        state.precedence = Precedence(owned[_PRECEDENCE][0])
    else:  # no detection from the owner yet (a verdict overtook it): the latest envelope
        state.label = label_from_dict(last["label"]) or state.label
        state.precedence = Precedence(last["precedence"])
    state.deleted = create is not None and state.origin in f.get("tombstones", {})


def event_owner(state: RecordState | None, event: Event) -> str | None:
    """Whether a peer's event may write what it writes (None: it may). See the module doc."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    verdict = payload.get("verdict")
    if verdict is not None and (
        not isinstance(verdict, dict) or verdict.get("node") != event.origin
    ):
        return "not_verdict_owner"
    detection = event.op in ("create", "tombstone") or "set" in payload
    if detection and state is not None:
        create = state.fields.get("create")
        if create is not None and create["node"] != event.origin:
            return "not_owner"
    return None


def is_complete(state: RecordState) -> bool:
    """Whether the owner's detection is here (a verdict may arrive before it)."""
    return "create" in state.fields and not state.deleted and bool(detection(state))


def detection(state: RecordState) -> dict[str, Any]:
    """The detection fields as the record's owner last wrote them."""
    bucket = state.fields.get("w", {}).get(state.origin, {})
    return {k: v[0] for k, v in bucket.items() if k in DETECTION_FIELDS}


def verdicts(state: RecordState) -> list[tuple[str, dict[str, Any], Label]]:
    """(node, entry, label) of every verdict, by node."""
    out = []
    for node, entry in sorted(state.fields.get("verdicts", {}).items()):
        label = label_from_dict(entry.get("label"))
        if label is not None:
            out.append((node, entry, label))
    return out


# -- what the service writes -------------------------------------------------------------


def cap_evidence(points: Sequence[Any], limit: int) -> list[Any]:
    """At most ``limit`` points: the first and the last halves (how it began and ended)."""
    if len(points) <= limit:
        return list(points)
    head = limit // 2
    return [*points[:head], *points[len(points) - (limit - head) :]]


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``new`` that differ from ``old`` (a patch's payload)."""
    return {k: v for k, v in new.items() if k not in old or old[k] != v}


# -- coverage ------------------------------------------------------------------------

Cover = tuple[float, str, float, float, Label]  # (t, source, lat, lon, label) of a partner fix


def covering(start: float, end: float | None, now: float, fixes: Iterable[Cover]) -> list[Cover]:
    """Partner fixes inside a gap ``(start, end)`` (``end`` None: open, up to ``now``):
    the first of each source, by source."""
    stop = now if end is None else end
    first: dict[str, Cover] = {}
    for fix in fixes:
        t, source = fix[0], fix[1]
        if start < t < stop and (source not in first or t < first[source][0]):
            first[source] = fix
    return [first[s] for s in sorted(first)]


def cover_label(label: Label, covers: Iterable[Cover], groups: GroupRegistry) -> Label:
    """The event's label joined with its covering fixes' (the strictest)."""
    for cover in covers:
        label = restrict(label, cover[4], groups)
    return label


# -- geometry --------------------------------------------------------------------------


def polygon_problems(points: Sequence[Sequence[float]]) -> list[str]:
    """Why ``[[lat, lon], …]`` is not a usable zone (empty: it is). A closing point equal to
    the first is allowed and ignored."""
    pts = [(float(p[0]), float(p[1])) for p in points]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    problems = []
    for i, (lat, lon) in enumerate(pts):
        if not (math.isfinite(lat) and math.isfinite(lon)):
            problems.append(f"point {i}: not a number")
        elif not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            problems.append(f"point {i}: ({lat}, {lon}) out of range (lat -90..90, lon -180..180)")
    if problems:
        return problems
    if len(set(pts)) < 3:
        return ["a zone needs at least 3 distinct points"]
    if len(set(pts)) != len(pts):
        return ["a zone may not repeat a point (but the first as the last)"]
    n = len(pts)
    for i in range(n):
        a, b = pts[i], pts[(i + 1) % n]
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or j == (i + 1) % n:
                continue  # adjacent edges share a point
            c, d = pts[j], pts[(j + 1) % n]
            if _cross(a, b, c, d):
                return [f"the zone's edges {i}-{(i + 1) % n} and {j}-{(j + 1) % n} cross"]
    if abs(_area(pts)) < 1e-12:
        return ["the zone's points are collinear: it has no area"]
    return []


def _area(pts: Sequence[tuple[float, float]]) -> float:
    return sum(
        pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1]
        for i in range(len(pts))
    )


def _orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def _on(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> bool:
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def _cross(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]
) -> bool:
    """Whether segments ab and cd meet (touching included)."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if ((o1 > 0) != (o2 > 0)) and ((o3 > 0) != (o4 > 0)) and o1 and o2 and o3 and o4:
        return True
    return (
        (o1 == 0 and _on(a, c, b))
        or (o2 == 0 and _on(a, d, b))
        or (o3 == 0 and _on(c, a, d))
        or (o4 == 0 and _on(c, b, d))
    )


def closed_ring(points: Sequence[Sequence[float]]) -> list[list[float]]:
    """The polygon as stored: ``[[lat, lon], …]`` without a repeated closing point."""
    pts = [[float(p[0]), float(p[1])] for p in points]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    return pts


BBox = tuple[float, float, float, float]  # minlon, minlat, maxlon, maxlat


def parse_bbox(text: str) -> BBox:
    """``minlon,minlat,maxlon,maxlat`` (minlon > maxlon crosses the antimeridian);
    raises ``ValueError`` with the reason."""
    if len(text) > 200:
        raise ValueError("bbox is too long")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError("bbox needs exactly four numbers: minlon,minlat,maxlon,maxlat")
    try:
        minlon, minlat, maxlon, maxlat = (float(p) for p in parts)
    except ValueError:
        raise ValueError("bbox values must be numbers") from None
    for v in (minlon, minlat, maxlon, maxlat):
        if not math.isfinite(v):
            raise ValueError("bbox values must be finite numbers")
    if not (-180.0 <= minlon <= 180.0 and -180.0 <= maxlon <= 180.0):
        raise ValueError("bbox longitude outside -180..180")
    if not (-90.0 <= minlat <= 90.0 and -90.0 <= maxlat <= 90.0):
        raise ValueError("bbox latitude outside -90..90")
    if minlat > maxlat:
        raise ValueError("bbox minlat is greater than maxlat")
    return (minlon, minlat, maxlon, maxlat)


def in_bbox(bbox: BBox, lat: float, lon: float) -> bool:
    minlon, minlat, maxlon, maxlat = bbox
    if not minlat <= lat <= maxlat:
        return False
    if minlon > maxlon:
        return lon >= minlon or lon <= maxlon
    return minlon <= lon <= maxlon


def strictest(labels: Iterable[Label], groups: GroupRegistry = DEFAULT_GROUPS) -> Label | None:
    out: Label | None = None
    for label in labels:
        out = label if out is None else restrict(out, label, groups)
    return out
