"""Map features (``Domain.features``) as CoT markers and shapes for TAK clients.

A point becomes a spot marker (``b-m-p-s-m``), a line or an area a drawing (``u-d-f``,
one ``<link point="lat,lon"/>`` per vertex, the ring closed), each carrying its feature's
label in ``access``/``caveat``/``releaseableTo`` (the server re-checks it per client).
Features are built per distinct TAK principal through each plugin's released reads, so a
client is sent only what its principal may see (:class:`ShapeFeed`).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

import structlog

from kizuna.core.labels import GroupRegistry, LabelError, parse_label
from kizuna.core.release import Principal, may_release
from kizuna.kernel.context import Caller
from kizuna.kernel.contract import Feature
from kizuna.sources.cot.codec import CotEvent
from kizuna.store.base import User

if TYPE_CHECKING:
    from kizuna.kernel.context import NodeContext

log = structlog.get_logger(__name__)

MARKER = "b-m-p-s-m"
SHAPE = "u-d-f"
DEFAULT_TYPES = ("incident", "mda_event", "reservation")
_UID = re.compile(r"[^A-Za-z0-9._:-]")
_COLOURS = {"incident": "-65536", "mda_event": "-256", "reservation": "-16776961"}


def _positions(geometry: dict[str, Any]) -> tuple[str, list[tuple[float, float]]]:
    """(kind, [(lon, lat), …]) of the first part of a GeoJSON geometry."""
    kind = geometry.get("type")
    coords: Any = geometry["coordinates"]
    if kind == "Point":
        return "Point", [(float(coords[0]), float(coords[1]))]
    if kind == "MultiPoint":
        return "Point", [(float(coords[0][0]), float(coords[0][1]))]
    if kind == "LineString":
        return "LineString", [(float(p[0]), float(p[1])) for p in coords]
    if kind == "MultiLineString":
        return "LineString", [(float(p[0]), float(p[1])) for p in coords[0]]
    if kind == "Polygon":
        return "Polygon", [(float(p[0]), float(p[1])) for p in coords[0]]
    if kind == "MultiPolygon":
        return "Polygon", [(float(p[0]), float(p[1])) for p in coords[0][0]]
    raise ValueError(f"unsupported geometry {kind!r}")


def event_for(
    feature: Feature, node_id: str, groups: GroupRegistry, now: float, stale_s: float
) -> CotEvent | None:
    """The CoT event of one feature (None if its label or geometry is unusable)."""
    try:
        label = parse_label(feature.label, groups=groups)
        kind, points = _positions(feature.geometry)
    except (LabelError, ValueError, TypeError, KeyError, IndexError):
        return None
    if not points or not all(
        math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        for lon, lat in points
    ):
        return None
    if kind == "Polygon" and points[0] != points[-1]:
        points.append(points[0])
    ring = points[:-1] if kind == "Polygon" else points
    lon = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    name = feature.name.get("en") or feature.name.get("ja") or feature.id
    colour = _COLOURS.get(feature.record_type, "-1")
    extra: list[Element] = []
    if kind == "Point":
        extra.append(Element("color", {"argb": colour}))
    else:
        extra += [Element("link", {"point": f"{plat:.7f},{plon:.7f}"}) for plon, plat in points]
        extra.append(Element("strokeColor", {"value": colour}))
        extra.append(Element("strokeWeight", {"value": "3.0"}))
        extra.append(Element("fillColor", {"value": "1090453504" if kind == "Polygon" else "0"}))
        extra.append(Element("labels_on", {"value": "true"}))
    description = feature.description.get("en") or feature.description.get("ja") or ""
    return CotEvent(
        uid=_UID.sub("_", f"kizuna.{node_id}.{feature.record_type}.{feature.id}")[:200],
        type=MARKER if kind == "Point" else SHAPE,
        how="h-g-i-g-o",
        time=now,
        start=now,
        stale=now + stale_s,
        lat=lat,
        lon=lon,
        callsign=f"({label.render()}) {name}"[:200],
        remarks=f"{label.render()} {feature.record_type}: {description}".strip()[:2000],
        extra=extra,
        label=label,
    )


def tak_caller(principal: Principal) -> Caller:
    """A TAK client's principal as a caller of the plugins' released reads."""
    user = User(
        name=principal.name or f"tak-{principal.nation.lower()}",
        nation=principal.nation,
        clearance=principal.clearance.name,
        groups=sorted(principal.groups),
    )
    return Caller(user, principal)


class ShapeFeed:
    """Builds, per principal, the CoT events of the record types sent to TAK clients."""

    def __init__(
        self, ctx: NodeContext, types: Sequence[str] = DEFAULT_TYPES, stale_s: float = 180.0
    ) -> None:
        self.ctx = ctx
        self.types = frozenset(types)
        self.stale_s = stale_s

    def features(self, caller: Caller) -> list[Feature]:
        out: list[Feature] = []
        for domain, service in self.ctx.exports.started():
            # Only plugins holding a shape type (not, say, the picture's every track).
            if domain.name == self.ctx.name or not self.types & set(domain.federated_types()):
                continue
            try:
                offered = domain.features(service, caller)
            except Exception:
                log.exception("cot.shapes_failed", plugin=domain.name)
                continue
            out += [f for f in offered if f.record_type in self.types]
        return out

    def events(self, principal: Principal, now: float | None = None) -> list[CotEvent]:
        """What ``principal`` may see of the shape types, as CoT events (each label checked
        once more: a feature whose label does not release to it is dropped and counted)."""
        moment = time.time() if now is None else now
        out = []
        for feature in self.features(tak_caller(principal)):
            event = event_for(feature, self.ctx.node_id, self.ctx.groups, moment, self.stale_s)
            if event is None or event.label is None or not may_release(event.label, principal):
                self.ctx.metrics.released_denied.labels("cot_shapes").inc()
                continue
            out.append(event)
        return out

    def by_principal(self, principals: Iterable[Principal]) -> dict[Principal, list[CotEvent]]:
        return {p: self.events(p) for p in set(principals)}
