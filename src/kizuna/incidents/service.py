"""Incidents through the event log: bulletins filed idempotently, reads release-checked,
changes pushed on the node's bus (topic ``incident``).

One incident per event: a JMA EventID, a CAP references chain (the incident of its first
alert). Each bulletin is one event on its incident (the first one creates it) carrying the
bulletin and its raw document; a bulletin already held changes nothing. Test bulletins are
counted and audited, never filed. The originating node owns each incident (sovereignty).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import structlog
from prometheus_client import Counter

from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Label
from kizuna.core.records import Event, RecordState
from kizuna.core.time import iso
from kizuna.incidents.gazetteer import prefecture_point
from kizuna.incidents.models import (
    INCIDENT,
    TOPIC,
    ApplyResult,
    Bulletin,
    FeatureProps,
    IncidentFeature,
    IncidentFeatures,
    IncidentOut,
    IncidentsSettings,
    IntensityArea,
    PointGeometry,
    PolygonGeometry,
)
from kizuna.incidents.rules import (
    BULLETIN_PREFIX,
    RAW_PREFIX,
    Derived,
    cap_root,
    derive,
    digest,
    incident_id,
    precedence,
    tsunami_category,
)
from kizuna.incidents.text import CATALOG, intensity_text, title_and_summary, tsunami_kind_text
from kizuna.kernel.access import filter_visible, get_visible, refusal_message
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.ingress import IngressRefused, rule
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.incidents")

MAX_RAW_BYTES = 1 << 20  # the largest raw document kept with a bulletin


def incident_view(state: RecordState) -> IncidentOut:
    d = derive(state)
    title, summary = title_and_summary(d)
    cancelled_keys = {f.bulletin.key_text for f in d.bulletins if f.cancelled}
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "source": d.source,
            "event": d.event,
            "state": d.state,
            "title": title,
            "summary": summary,
            "hypocentre": d.hypocentre,
            "magnitude": d.magnitude,
            "max_intensity": d.max_intensity,
            "max_intensity_text": intensity_text(d.max_intensity),
            "forecast_intensity": d.forecast_intensity,
            "origin_time": iso(d.origin_time) if d.origin_time is not None else None,
            "intensity_areas": [
                {
                    **msgspec.to_builtins(a),
                    "intensity_text": intensity_text(a.intensity),
                    **_position(a),
                }
                for a in d.intensity_areas
            ],
            "tsunami_areas": [
                {
                    "code": t.area.code,
                    "name": t.area.name,
                    "kind_code": t.area.kind_code,
                    "kind_name": tsunami_kind_text(t.area.kind_code, t.area.kind_name),
                    "category": tsunami_category(t.area.kind_code),
                    "history": [
                        {
                            "at": iso(at),
                            "kind_code": a.kind_code,
                            "kind_name": a.kind_name,
                            "category": tsunami_category(a.kind_code),
                        }
                        for at, a in t.history
                    ],
                }
                for t in sorted(d.tsunami.values(), key=lambda t: t.area.code)
            ],
            "cap_areas": _cap_areas(d),
            "cap_infos": d.infos,
            "timeline": [
                {
                    "key": f.bulletin.key_text,
                    "source": f.bulletin.source,
                    "type": f.bulletin.type,
                    "kind": f.bulletin.kind,
                    "status": f.bulletin.status,
                    "serial": f.bulletin.serial,
                    "issued_at": iso(f.bulletin.issued_at),
                    "received_at": iso(f.received_at),
                    "headline": f.bulletin.headline,
                    "cancelled": f.bulletin.key_text in cancelled_keys,
                    "sha256": f.sha256,
                    "size": f.size,
                }
                for f in d.bulletins
            ],
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        IncidentOut,
    )


def _position(area: IntensityArea) -> dict[str, float]:
    """A prefecture's point on the map (its office); finer areas carry none."""
    point = prefecture_point(area.code) if area.level == "pref" else None
    return {"lat": point[0], "lon": point[1]} if point else {}


def _cap_areas(d: Derived) -> list[Any]:
    """The areas of the CAP infos, each once (every language repeats them)."""
    seen: dict[bytes, Any] = {}
    for info in d.infos:
        for area in info.areas:
            shape = msgspec.json.encode([area.polygons, area.circles, area.geocodes])
            seen.setdefault(shape, area)
    return list(seen.values())


def incident_summary(state: RecordState) -> dict[str, Any]:
    """What the bus pushes on ``incident``: the incident as GET /api/v1/incidents/{id}."""
    item: dict[str, Any] = msgspec.to_builtins(incident_view(state))
    return item


def _ring(points: Sequence[Sequence[float]]) -> list[list[float]]:
    """A CAP ring (lat, lon) as a GeoJSON ring (lon, lat)."""
    return [[lon, lat] for lat, lon in points]


def _circle_ring(lat: float, lon: float, radius_km: float, steps: int = 32) -> list[list[float]]:
    import math

    ring = []
    for i in range(steps + 1):
        bearing = 2 * math.pi * (i % steps) / steps
        dlat = radius_km / 111.32 * math.cos(bearing)
        coslat = max(math.cos(math.radians(lat)), 1e-6)
        dlon = radius_km / (111.32 * coslat) * math.sin(bearing)
        ring.append([round(lon + dlon, 6), round(lat + dlat, 6)])
    return ring


def incident_features(state: RecordState) -> list[IncidentFeature]:
    view = incident_view(state)

    def props(role: Any, **kw: Any) -> FeatureProps:
        return FeatureProps(
            incident_id=view.id,
            role=role,
            title=view.title,
            state=view.state,
            exercise=view.exercise,
            label=view.label,
            **kw,
        )

    out = []
    h = view.hypocentre
    if h is not None and h.lat is not None and h.lon is not None:
        out.append(
            IncidentFeature(
                id=f"{view.id}/hypocentre",
                geometry=PointGeometry(coordinates=[h.lon, h.lat]),
                properties=props(
                    "hypocentre",
                    name=h.name,
                    intensity=view.max_intensity,
                    magnitude=view.magnitude.value if view.magnitude else None,
                    depth_km=h.depth_km,
                ),
            )
        )
    for n, area in enumerate(view.cap_areas):
        for m, ring in enumerate(area.polygons):
            out.append(
                IncidentFeature(
                    id=f"{view.id}/area/{n}/polygon/{m}",
                    geometry=PolygonGeometry(coordinates=[_ring(ring)]),
                    properties=props("cap_polygon", name=area.description),
                )
            )
        for m, c in enumerate(area.circles):
            out.append(
                IncidentFeature(
                    id=f"{view.id}/area/{n}/circle/{m}",
                    geometry=PolygonGeometry(coordinates=[_circle_ring(c.lat, c.lon, c.radius_km)]),
                    properties=props("cap_circle", name=area.description, radius_km=c.radius_km),
                )
            )
    for a in view.intensity_areas:
        if a.lat is not None and a.lon is not None:
            out.append(
                IncidentFeature(
                    id=f"{view.id}/{a.level}/{a.code}",
                    geometry=PointGeometry(coordinates=[a.lon, a.lat]),
                    properties=props("area", name=a.name, intensity=a.intensity),
                )
            )
    return out


class IncidentService:
    """The incidents domain on one node."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        settings = ctx.settings if isinstance(ctx.settings, IncidentsSettings) else None
        self.settings = settings or IncidentsSettings()
        ingress = rule(ctx.nation, ctx.groups)
        self._ingress = ingress
        self.default_label = ingress.check(ingress.parse(self.settings.default_label), ingress.host)
        self._lock = threading.Lock()
        self.filed = Counter(
            "kizuna_incident_bulletins_total",
            "Bulletins offered to incidents, by source and outcome",
            ["source", "outcome"],
            registry=ctx.metrics.registry,
        )
        ctx.events.on_commit(self._committed)

    # -- writes ----------------------------------------------------------------

    def resolve(self, bulletin: Bulletin) -> str:
        """The id of the incident ``bulletin`` belongs to (held or to be created)."""
        if bulletin.source == "cap" and bulletin.references:
            held = self._cap_holder(bulletin)
            if held is not None:
                return held
        return incident_id(bulletin, cap_root(bulletin) if bulletin.source == "cap" else None)

    def _cap_holder(self, bulletin: Bulletin) -> str | None:
        """The held incident of the same status filing any message this one references."""
        wanted = set(bulletin.references)
        drill = bulletin.status == "exercise"
        for state in self.ctx.events.scan(INCIDENT):
            if state.fields.get("source") != "cap" or bool(state.fields.get("exercise")) != drill:
                continue
            for key, value in state.fields.items():
                if key.startswith(BULLETIN_PREFIX) and isinstance(value, dict):
                    b = value.get("bulletin", {})
                    if ",".join(b.get("key", [])) in wanted:
                        return state.record_id
        return None

    def apply_bulletin(
        self, bulletin: Bulletin, *, label: Label | None = None, raw: bytes
    ) -> ApplyResult:
        """File one bulletin under its incident, in one commit; idempotent.

        A test bulletin is counted and audited only. A bulletin already held (same key,
        same document) changes nothing; the same key with a different document is a
        :class:`Conflict` (nothing applied). ``label`` (default: the ``[incidents]``
        ``default_label``) applies when the bulletin creates its incident; drills are
        always marked EXERCISE."""
        key = bulletin.key_text
        if len(raw) > MAX_RAW_BYTES:
            raise Invalid(CATALOG.msg("error.too-large", size=len(raw), limit=MAX_RAW_BYTES))
        if bulletin.status == "test":
            self.filed.labels(bulletin.source, "test").inc()
            self.ctx.audit.append(
                "incident.test_bulletin", "alerts", "logged", key=key, type=bulletin.type
            )
            return ApplyResult(outcome="test", incident_id=None, bulletin_key=key)
        sha = hashlib.sha256(raw).hexdigest()
        with self._lock:
            rid = self.resolve(bulletin)
            field = BULLETIN_PREFIX + digest(key)
            state = self.ctx.events.get(INCIDENT, rid)
            held = state.fields.get(field) if state is not None else None
            if isinstance(held, dict):
                if held.get("sha256") != sha:
                    self.filed.labels(bulletin.source, "conflict").inc()
                    raise Conflict(
                        CATALOG.msg(
                            "error.bulletin-differs", bulletin=key, sha256=held.get("sha256")
                        )
                    )
                self.filed.labels(bulletin.source, "unchanged").inc()
                return ApplyResult(outcome="unchanged", incident_id=rid, bulletin_key=key)
            if state is not None and state.origin != self.ctx.node_id:
                raise Forbidden(CATALOG.msg("error.not-owner", id=rid, node=state.origin))
            chosen = self._label(state, bulletin, label)
            payload: dict[str, Any] = {
                field: {
                    "bulletin": msgspec.to_builtins(bulletin),
                    "sha256": sha,
                    "size": len(raw),
                    "received_at": time.time(),
                },
                RAW_PREFIX + digest(key): base64.b64encode(raw).decode("ascii"),
            }
            if state is None:
                payload |= {
                    "source": bulletin.source,
                    "event": bulletin.event,
                    "exercise": bulletin.status == "exercise",
                }
            prec = precedence(bulletin)
            if state is not None:
                prec = min(prec, state.precedence)
            self.ctx.events.append(
                [
                    Draft(
                        INCIDENT,
                        rid,
                        "create" if state is None else "patch",
                        chosen,
                        payload,
                        precedence=prec,
                        author=f"{bulletin.source}:{bulletin.publisher}"[:120],
                    )
                ]
            )
        outcome: Literal["new", "updated"] = "new" if state is None else "updated"
        self.filed.labels(bulletin.source, outcome).inc()
        self.ctx.audit.append(
            "incident.bulletin",
            "alerts",
            outcome,
            id=rid,
            key=key,
            kind=bulletin.kind,
            sha256=sha,
            label=chosen.render(),
        )
        return ApplyResult(outcome=outcome, incident_id=rid, bulletin_key=key)

    def _label(self, state: RecordState | None, bulletin: Bulletin, label: Label | None) -> Label:
        if state is not None:
            return state.label
        chosen = label or self.default_label
        if bulletin.status == "exercise" and not chosen.exercise:
            chosen = msgspec.structs.replace(chosen, exercise=True)
        try:  # the node writes what its feeds bring (the ingress rule, ADR 0006)
            return self._ingress.check(chosen, self._ingress.host)
        except IngressRefused as exc:
            self.ctx.refuse("write_label", "alerts", label=chosen.render(), why=exc.reason)
            raise Forbidden(
                refusal_message(self._ingress, chosen, self._ingress.host, exc.refusal)
            ) from None

    # -- reads -----------------------------------------------------------------

    def list(self, caller: Caller) -> list[IncidentOut]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(INCIDENT))
        return [incident_view(s) for s in states if _complete(s)]

    def get(self, caller: Caller, incident_id: str) -> IncidentOut:
        state = get_visible(self.ctx, caller, INCIDENT, incident_id)
        if not _complete(state):
            raise NotFound(CATALOG.msg("error.not-found", record_type=INCIDENT, id=incident_id))
        return incident_view(state)

    def geojson(self, caller: Caller) -> IncidentFeatures:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(INCIDENT))
        return IncidentFeatures(
            features=[f for s in states if _complete(s) for f in incident_features(s)]
        )

    def raw_documents(self, caller: Caller, incident_id: str) -> dict[str, bytes]:
        """The raw documents filed on an incident, by bulletin key (audit)."""
        state = get_visible(self.ctx, caller, INCIDENT, incident_id)
        keys = {
            RAW_PREFIX + k[len(BULLETIN_PREFIX) :]: "|".join(v["bulletin"]["key"])
            for k, v in state.fields.items()
            if k.startswith(BULLETIN_PREFIX) and isinstance(v, dict)
        }
        out = {}
        for event in self.ctx.events.record_events(INCIDENT, incident_id):
            for k, v in event.payload.items():
                if k in keys and isinstance(v, str):
                    out[keys[k]] = base64.b64decode(v)
        return out

    def export_features(self, caller: Caller) -> list[tuple[IncidentFeature, Label]]:
        """The map features of the incidents the caller may see, each with its incident's
        label (for exports: ``Domain.features``)."""
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(INCIDENT))
        return [(f, s.label) for s in states if _complete(s) for f in incident_features(s)]

    # -- change feed -------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        ids = dict.fromkeys(e.record_id for e in events if e.record_type == INCIDENT)
        if not ids or self.ctx.bus.subscribers == 0:
            return
        for rid in ids:
            state = self.ctx.events.get(INCIDENT, rid)
            if state is None or not _complete(state):
                continue
            try:
                self.ctx.bus.publish(TOPIC, incident_summary(state), state.label)
            except Exception:
                log.exception("incident push failed", record_id=rid)


def _complete(state: RecordState) -> bool:
    """Whether the node holds a bulletin of the incident (a peer's patch may come first)."""
    return not state.deleted and any(k.startswith(BULLETIN_PREFIX) for k in state.fields)
