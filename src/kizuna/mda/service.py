"""MDA on one node: the picture's AIS reports in, detector emissions out as labelled events.

**In.** The service listens to the picture (``on_reports`` when the picture offers every
report of a batch uncoalesced, else ``on_tracks``). AIS reports (source ``ais``, an MMSI)
become :class:`~kizuna.mda.detect.base.Fix` (speed m/s → knots, the provenance as the
source: the receiver or feed, or the partner node that delivered it). This node's own fixes
feed the detectors; partners' fixes are kept (bounded, thinned) to mark this node's gaps
covered (:mod:`kizuna.mda.rules`). The detectors are ticked with the data's clock (the
newest own observation seen), so a file replay and the same data live decide the same.

**Off the loop.** While the node serves, the domain's job runs a worker: listeners only
queue the batch (bounded by ``queue_max`` fixes; beyond it batches are dropped and counted,
``kizuna_mda_dropped_total``) and the worker detects and writes in a thread. Without the job
(``kizuna ingest ais``, tests) a batch is processed where it is heard, so nothing is dropped.

**Out.** Emissions become ``mda_event`` records, one commit per processed batch: a create
with every field, then patches of what changed. An open event's updates are written at most
every ``update_interval_s`` data seconds (a status change at once), so a replay of 500,000
messages writes event opens, some updates and closes, never one event per fix. Record ids
are the emissions' deterministic ids: a replay changes nothing, and an event a partner
created first stays the partner's (this node does not write its detection fields).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import msgspec
import structlog
from prometheus_client import Counter

from kizuna.core.catalog import Catalog, Message
from kizuna.core.errors import Forbidden, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import GroupRegistry, Label
from kizuna.core.records import Event, Precedence, RecordState, Text
from kizuna.core.release import may_release
from kizuna.core.time import iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import (
    ORIGINATOR,
    audit_relabel,
    authorize_relabel,
    child_label_for_write,
    widenings,
)
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.ingress import IngressRefused, rule
from kizuna.mda import rules
from kizuna.mda.detect.base import KNOT, Emission, Fix
from kizuna.mda.detect.zone import WatchEntry, Zone
from kizuna.mda.models import (
    DETAIL_FIELDS,
    MDA_EVENT,
    MDA_WATCH,
    MDA_ZONE,
    EventDetail,
    EventOut,
    MdaStatus,
    VerdictIn,
    WatchIn,
    WatchOut,
    WatchPatch,
    ZoneIn,
    ZoneOut,
    ZonePatch,
)
from kizuna.mda.settings import MdaSettings, Port, load_ports, ports_path
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.mda")

CATALOG = Catalog("kizuna.mda")
FEDERATED = "federation:"  # the picture's provenance connection of a peer's track
COVER_INTERVAL = 600.0  # partner fixes kept per vessel: about two per source per interval
COVER_POINTS = 64  # ... and at most this many per vessel
MAX_VESSELS = 200_000  # vessels with partner fixes or gaps held for coverage
_IMO = re.compile(r"\bIMO (\d{7})\b")
_PRECEDENCE = {"encounter": Precedence.PRIORITY, "spoofing": Precedence.PRIORITY}


def _joined(problems: Sequence[str | Message]) -> tuple[str, str]:
    """Problems joined for a detail, in English and in Japanese (a plain string, from a
    check that has no catalog message, as it is)."""

    def text(p: str | Message, language: str) -> str:
        return p.render(language) if isinstance(p, Message) else p

    return "; ".join(text(p, "en") for p in problems), "; ".join(text(p, "ja") for p in problems)


class Pipeline(Protocol):
    def feed_many(self, fixes: Sequence[Fix]) -> Sequence[Emission]: ...

    def tick(self, now: float) -> Sequence[Emission]: ...

    def set_zones(self, zones: Sequence[Any]) -> Sequence[Emission] | None: ...

    def set_watchlist(self, watchlist: Sequence[Any]) -> Sequence[Emission] | None: ...


PipelineFactory = Callable[
    [MdaSettings, list[tuple[float, float]], Sequence[Any], Sequence[Any]], Pipeline
]


def default_pipeline(
    settings: MdaSettings,
    ports: list[tuple[float, float]],
    zones: Sequence[Any],
    watchlist: Sequence[Any],
) -> Pipeline:
    """The detectors of :mod:`kizuna.mda.detect.pipeline`, configured from the settings."""
    from kizuna.mda.detect import pipeline

    return pipeline.Pipeline(pipeline_config(settings), ports, zones=zones, watchlist=watchlist)


def pipeline_config(settings: MdaSettings) -> Any:
    """The settings mapped onto the detectors' configuration."""
    from kizuna.mda.detect import pipeline

    return pipeline.config_from(settings)


def _reader(caller: Caller) -> Callable[[Label], bool]:
    return lambda label: may_release(label, caller.principal)


def _within(outer: Label, groups: GroupRegistry) -> Callable[[Label], bool]:
    """Labels that reach wherever ``outer`` does (its originator aside)."""
    return lambda label: set(widenings(label, outer, groups)) <= {ORIGINATOR}


def may_act(caller: Caller) -> bool:
    """Analysts give verdicts and keep zones and watchlists; a viewer only reads."""
    roles = set(caller.user.roles)
    return not roles or bool(roles - {"viewer"})


# -- views -------------------------------------------------------------------------


def _title(kind: str, d: dict[str, Any]) -> Text:
    detail = d.get("detail") or {}
    vessels = ", ".join(d.get("vessels") or ())
    sub = str(detail.get("kind", ""))
    texts = {}
    for lang in ("en", "ja"):
        what = ""
        if kind in ("spoofing", "zone") and CATALOG.has(f"{kind}.kind.{sub}"):
            what = CATALOG.get(lang, f"{kind}.kind.{sub}")
        zone = str(detail.get("zone_name") or detail.get("zone") or "")
        texts[lang] = CATALOG.get(lang, f"title.{kind}", vessels=vessels, kind=what, zone=zone)
    return Text(en=texts["en"], ja=texts["ja"])


def detail_view(detail: dict[str, Any]) -> EventDetail:
    """The stored detail as the typed answer; what does not fit goes to ``more``."""
    known: dict[str, Any] = {}
    more: dict[str, Any] = {}
    for key, value in detail.items():
        if key == "filled_by" and isinstance(value, dict) and "t" in value:
            value = {"t": iso(float(value["t"])), "source": str(value.get("source", ""))}
        if key in DETAIL_FIELDS:
            try:
                msgspec.convert({key: value}, EventDetail)
            except msgspec.ValidationError:
                more[key] = msgspec.json.encode(value).decode()
            else:
                known[key] = value
        elif value is None or isinstance(value, str | int | float | bool):
            more[key] = value
        else:
            more[key] = msgspec.json.encode(value).decode()
    if more:
        known["more"] = more
    return msgspec.convert(known, EventDetail)


def event_view(state: RecordState, shown: Callable[[Label], bool] | None = None) -> EventOut:
    """An event as the API answers it, with the verdicts whose labels ``shown`` accepts
    (all when None)."""
    d = rules.detection(state)
    kind = str(d.get("type", "gap"))
    verdicts = [
        {
            "node": node,
            "verdict": e["verdict"],
            "note": e["note"],
            "by": e["by"],
            "at": iso(e["at"] or to_seconds(e["hlc"])),
            **label_fields(label),
        }
        for node, e, label in rules.verdicts(state)
        if shown is None or shown(label)
    ]
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "type": kind,
            "status": d.get("status", "open"),
            "start": iso(float(d.get("start", 0.0))),
            "end": None if d.get("end") is None else iso(float(d["end"])),
            "vessels": list(d.get("vessels") or ()),
            "position": {"lat": d.get("lat", 0.0), "lon": d.get("lon", 0.0)},
            "evidence": [{**e, "t": iso(e["t"])} for e in d.get("evidence") or ()],
            "detail": detail_view(d.get("detail") or {}),
            "verdicts": verdicts,
            "covered_by": [{**c, "t": iso(c["t"])} for c in d.get("covered_by") or ()],
            "title": _title(kind, d),
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        EventOut,
    )


def zone_view(state: RecordState) -> ZoneOut:
    f = state.fields
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "name": f.get("name") or {"en": "", "ja": ""},
            "polygon": f.get("polygon") or [],
            "kind": f.get("kind", "area"),
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        ZoneOut,
    )


def watch_view(state: RecordState) -> WatchOut:
    f = state.fields
    mmsi = f.get("mmsi")
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "mmsi": None if mmsi is None else str(mmsi),
            "imo": f.get("imo"),
            "name": f.get("name", ""),
            "reason": f.get("reason", ""),
            "created_at": iso(to_seconds(state.created_hlc)),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        WatchOut,
    )


# -- the service ----------------------------------------------------------------------


class MdaService:
    """The MDA domain on one node. See the module docstring."""

    def __init__(self, ctx: NodeContext, *, pipeline: PipelineFactory | None = None) -> None:
        self.ctx = ctx
        settings = ctx.settings if isinstance(ctx.settings, MdaSettings) else None
        self.settings = settings or MdaSettings()
        self.ports: list[Port] = load_ports(ports_path(self.settings, ctx.root))
        self._factory = pipeline or default_pipeline
        self._pipeline: Pipeline | None = None
        self._ingress = rule(ctx.nation, ctx.groups)
        self._lock = threading.RLock()  # detection state and writes
        self._qlock = threading.Lock()  # the worker's queue
        self._queue: deque[list[Any]] = deque()
        self._queued = 0
        self._worker = False
        self._wake = threading.Event()
        self.clock: float | None = None  # the data's clock: newest own observation
        self._pending: dict[str, Emission] = {}  # emissions not written yet (latest per id)
        self._written: dict[str, tuple[str, float]] = {}  # open event -> (status, at clock)
        self._partner: dict[str, deque[rules.Cover]] = {}  # mmsi -> partners' fixes
        self._gaps: dict[str, dict[str, tuple[float, float | None]]] = {}  # mmsi -> gaps
        self._zone_count = 0
        self._watch_count = 0
        self._zones_dirty = True
        self._imo_cache: dict[str, int | None] = {}
        self.fixes = 0
        self.partner_fixes = 0
        self.dropped = 0
        self.emissions = 0
        self.written = 0
        registry = ctx.metrics.registry
        self._dropped_metric = Counter(
            "kizuna_mda_dropped", "AIS fixes dropped: the MDA queue was full", registry=registry
        )
        self._events_metric = Counter(
            "kizuna_mda_events_written",
            "MDA event creates and patches written, by type",
            ["type"],
            registry=registry,
        )
        picture = ctx.require("picture")
        hook = getattr(picture, "on_reports", None) or picture.on_tracks
        hook(self._heard)
        ctx.events.on_commit(self._committed)

    # -- the detectors ------------------------------------------------------------------

    @property
    def pipeline(self) -> Pipeline:
        """Built on first use (with the zones and watchlist the node holds); zones and
        watchlist entries changed since are handed over first (what that closes, such as
        a dwell in a zone removed, is written with the next batch)."""
        with self._lock:
            if self._pipeline is None:
                zones, watch = self._zones_and_watchlist()
                ports = [(p.lat, p.lon) for p in self.ports]
                self._pipeline = self._factory(self.settings, ports, zones, watch)
                self._zones_dirty = False
            elif self._zones_dirty:
                zones, watch = self._zones_and_watchlist()
                self._zones_dirty = False
                for e in [
                    *(self._pipeline.set_zones(zones) or ()),
                    *(self._pipeline.set_watchlist(watch) or ()),
                ]:
                    self._pending[e.id] = e
            return self._pipeline

    def _zones_and_watchlist(self) -> tuple[list[Zone], list[WatchEntry]]:
        zones, watch = [], []
        for s in self.ctx.events.scan(MDA_ZONE):
            if s.deleted or not s.fields.get("polygon"):
                continue
            name = s.fields.get("name") or {}
            zones.append(
                Zone(
                    id=s.record_id,
                    name=str(name.get("en") or name.get("ja") or s.record_id),
                    rings=(tuple((float(a), float(o)) for a, o in s.fields["polygon"]),),
                    label=s.label,
                )
            )
        for s in self.ctx.events.scan(MDA_WATCH):
            if s.deleted:
                continue
            f = s.fields
            watch.append(
                WatchEntry(
                    id=s.record_id,
                    mmsi=f.get("mmsi"),
                    imo=f.get("imo"),
                    name=str(f.get("name", "")),
                    label=s.label,
                )
            )
        self._zone_count, self._watch_count = len(zones), len(watch)
        return zones, watch

    # -- in -----------------------------------------------------------------------------

    def _heard(self, tracks: list[Any]) -> None:
        """The picture's listener: queue the batch for the worker, or process it here."""
        if not self.settings.enabled or not tracks:
            return
        if self._worker:
            with self._qlock:
                if self._queued + len(tracks) > self.settings.queue_max:
                    self.dropped += len(tracks)
                    self._dropped_metric.inc(len(tracks))
                    return
                self._queue.append(tracks)
                self._queued += len(tracks)
            self._wake.set()
            return
        self.process(tracks)

    def _imo(self, remarks: str) -> int | None:
        """The IMO number the AIS source writes into a track's remarks (cached)."""
        cache = self._imo_cache
        if remarks in cache:
            return cache[remarks]
        m = _IMO.search(remarks)
        imo = int(m.group(1)) if m else None
        if len(cache) > 10_000:
            cache.clear()
        cache[remarks] = imo
        return imo

    def _fixes(self, tracks: Iterable[Any]) -> tuple[list[Fix], list[tuple[str, rules.Cover]]]:
        """This node's AIS reports as fixes (speed m/s to knots; the feed or receiver as the
        source) and partners' as coverage points (the delivering node as the source)."""
        own: list[Fix] = []
        partner: list[tuple[str, rules.Cover]] = []
        append = own.append
        imo_of = self._imo
        knot = KNOT
        for track in tracks:
            mmsi = track.mmsi
            if mmsi is None or track.source != "ais":
                continue
            sources = track.sources
            conn = sources[0].connection if sources else ""
            if conn.startswith(FEDERATED):
                cover = (track.observed_at, conn[11:], track.lat, track.lon, track.label)
                partner.append((str(mmsi), cover))
                continue
            speed = track.speed
            remarks = track.remarks
            append(
                Fix(
                    mmsi=mmsi,
                    t=track.observed_at,
                    lat=track.lat,
                    lon=track.lon,
                    sog=None if speed is None else speed / knot,
                    cog=track.course,
                    name=track.name,
                    imo=imo_of(remarks) if remarks else None,
                    source=conn or "ais",
                    label=track.label,
                )
            )
        return own, partner

    def process(self, tracks: Iterable[Any]) -> int:
        """Detect over a batch of the picture's reports and write what it yields (one
        commit); the number of events written."""
        own, partner = self._fixes(tracks)
        if not own and not partner:
            return 0
        with self._lock:
            pipeline = self.pipeline
            emissions: list[Emission] = []
            if own:
                # The pipeline ticks itself on the data's clock as fixes cross its tick
                # boundaries, so any batching gives the same emissions (replay = live).
                emissions.extend(pipeline.feed_many(own))
                newest = max(f.t for f in own)
                if self.clock is None or newest > self.clock:
                    self.clock = newest
                self.fixes += len(own)
            self.emissions += len(emissions)
            for e in emissions:
                self._pending[e.id] = e
            touched = self._hold_partner(partner) if partner else set()
            return self._write(touched)

    def _drain(self) -> None:
        while True:
            with self._qlock:
                if not self._queue:
                    return
                batches = list(self._queue)
                self._queue.clear()
                self._queued = 0
            self.process(t for batch in batches for t in batch)

    async def run(self) -> None:
        """The domain's job: the detection worker (see the module docstring)."""
        self._worker = True
        try:
            while True:
                if not self._queue:
                    self._wake.clear()
                    await asyncio.to_thread(self._wake.wait, 0.5)
                if self._queue:
                    await asyncio.to_thread(self._drain)
        finally:
            self._worker = False

    def close(self) -> None:
        """The end of the stream (the node stops, a file replay ends): process what is
        queued, tick the detectors at the data's clock, write every pending emission."""
        self._worker = False
        try:
            self._drain()
            with self._lock:
                if self._pipeline is not None and self.clock is not None:
                    for e in self._pipeline.tick(self.clock):
                        self._pending[e.id] = e
                self._write(set(), everything=True)
        except Exception:
            log.exception("mda.close_failed")

    # -- coverage -----------------------------------------------------------------------

    def _hold_partner(self, fixes: list[tuple[str, rules.Cover]]) -> set[str]:
        """Keep partners' fixes (thinned, bounded); the gaps they now cover."""
        touched: set[str] = set()
        held = self._partner
        for mmsi, cover in fixes:
            self.partner_fixes += 1
            points = held.get(mmsi)
            if points is None:
                if len(held) >= MAX_VESSELS:
                    del held[next(iter(held))]
                points = held[mmsi] = deque(maxlen=COVER_POINTS)
            inside = False
            for gid, (start, end) in self._gaps.get(mmsi, {}).items():
                stop = (self.clock or cover[0] + 1.0) if end is None else end
                if start < cover[0] < stop:
                    touched.add(gid)
                    inside = True
            # Thinned per source: the first fix of each interval and the newest are kept
            # (a fix inside a gap held always), so a gap opened later still finds them.
            if (
                not inside
                and len(points) >= 2
                and points[-1][1] == points[-2][1] == cover[1]
                and cover[0] - points[-2][0] < COVER_INTERVAL
            ):
                points[-1] = cover
            else:
                points.append(cover)
        return touched

    def _covers(self, e: Emission | dict[str, Any]) -> list[rules.Cover]:
        kind: Any
        status: Any
        if isinstance(e, Emission):
            kind, status, vessels, start, end = e.type, e.status, e.vessels, e.start, e.end
        else:
            kind, status = e.get("type"), e.get("status")
            vessels, start, end = e.get("vessels") or (), e.get("start", 0.0), e.get("end")
        if kind != "gap" or status == "retracted" or not vessels:
            return []
        points = self._partner.get(str(vessels[0]), ())
        return rules.covering(start, end, self.clock or start, points)

    def _track_gap(self, e: Emission) -> None:
        if e.type != "gap" or not e.vessels:
            return
        mmsi = str(e.vessels[0])
        gaps = self._gaps.get(mmsi)
        if e.status == "retracted":
            if gaps is not None:
                gaps.pop(e.id, None)
            return
        if gaps is None:
            if len(self._gaps) >= MAX_VESSELS:
                del self._gaps[next(iter(self._gaps))]
            gaps = self._gaps[mmsi] = {}
        gaps[e.id] = (e.start, e.end)
        keep = self.settings.coverage_s
        clock = self.clock or e.start
        for gid, (_s, end) in list(gaps.items()):
            if end is not None and clock - end > keep:
                del gaps[gid]

    # -- out ----------------------------------------------------------------------------

    def _label(self, e: Emission, covers: Sequence[rules.Cover]) -> Label:
        """The emission's label (its fixes', zone's or watchlist entry's, restricted by the
        detectors) joined with the partner fixes that cover it."""
        return rules.cover_label(e.label, covers, self.ctx.groups)

    def _fields(self, e: Emission, covers: Sequence[rules.Cover]) -> dict[str, Any]:
        evidence = rules.cap_evidence(e.evidence, self.settings.max_evidence)
        return {
            "type": e.type,
            "status": e.status,
            "start": float(e.start),
            "end": None if e.end is None else float(e.end),
            "vessels": [str(v) for v in e.vessels],
            "lat": round(float(e.lat), 6),
            "lon": round(float(e.lon), 6),
            "evidence": [msgspec.to_builtins(p) for p in evidence],
            "detail": msgspec.to_builtins(e.detail or {}),
            "covered_by": [{"source": c[1], "t": c[0], "lat": c[2], "lon": c[3]} for c in covers],
        }

    def _due(self, e: Emission) -> bool:
        last = self._written.get(e.id)
        if last is None or last[0] != e.status:
            return True
        return (self.clock or 0.0) - last[1] >= self.settings.update_interval_s

    def _write(self, touched: set[str], *, everything: bool = False) -> int:
        """Write the due emissions and the gaps partners' fixes now cover: one commit."""
        due = [e for e in self._pending.values() if everything or self._due(e)]
        drafts: list[Draft] = []
        me = self.ctx.node_id
        for e in due:
            del self._pending[e.id]
            self._track_gap(e)
            touched.discard(e.id)
            covers = self._covers(e)
            state = self.ctx.events.get(MDA_EVENT, e.id)
            if state is not None and "create" in state.fields and state.origin != me:
                continue  # a partner detected it first: its event, not ours
            draft = self._draft(e.id, state, self._fields(e, covers), self._label(e, covers), e)
            if draft is not None:
                drafts.append(draft)
            if e.status == "open":
                self._written[e.id] = (e.status, self.clock or e.start)
            else:
                self._written.pop(e.id, None)
        for gid in touched:  # gaps a partner's fix fell into since they were written
            state = self.ctx.events.get(MDA_EVENT, gid)
            if state is None or state.origin != me or not rules.is_complete(state):
                continue
            fields = rules.detection(state)
            covers = self._covers(fields)
            new = {
                **fields,
                "covered_by": [
                    {"source": c[1], "t": c[0], "lat": c[2], "lon": c[3]} for c in covers
                ],
            }
            label = rules.cover_label(state.label, covers, self.ctx.groups)
            draft = self._draft(gid, state, new, label, None)
            if draft is not None:
                drafts.append(draft)
        if not drafts:
            return 0
        self.ctx.events.append(drafts)
        self.written += len(drafts)
        for d in drafts:
            kind = (d.payload.get("set") or {}).get("type") or "update"
            self._events_metric.labels(str(kind)).inc()
        return len(drafts)

    def _draft(
        self,
        rid: str,
        state: RecordState | None,
        fields: dict[str, Any],
        label: Label,
        e: Emission | None,
    ) -> Draft | None:
        try:  # the node writes what its feeds bring (the ingress rule, ADR 0006)
            label = self._ingress.check(label, self._ingress.host)
        except IngressRefused as exc:
            self.ctx.refuse("write_label", "mda", label=label.render(), why=exc.reason)
            return None
        kind = str(fields.get("type", ""))
        precedence = _PRECEDENCE.get(kind, Precedence.ROUTINE)
        if kind == "zone" and (fields.get("detail") or {}).get("kind") == "watchlist":
            precedence = Precedence.IMMEDIATE
        if state is None or "create" not in state.fields:
            return Draft(
                MDA_EVENT,
                rid,
                "create",
                label,
                {"set": fields},
                precedence=precedence,
                author="mda",
            )
        if state.label != label and not rules.DETECTION_FIELDS.isdisjoint(fields):
            # A label change: the whole detection, so a peer it now reaches holds it all.
            return Draft(
                MDA_EVENT, rid, "patch", label, {"set": fields}, precedence=precedence, author="mda"
            )
        diff = rules.changed(rules.detection(state), fields)
        if not diff:
            return None
        return Draft(
            MDA_EVENT, rid, "patch", label, {"set": diff}, precedence=precedence, author="mda"
        )

    # -- the change feed ----------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        ids: dict[str, None] = {}
        for e in events:
            if e.record_type == MDA_EVENT:
                ids[e.record_id] = None
            elif e.record_type in (MDA_ZONE, MDA_WATCH):
                self._zones_dirty = True
                # Hand the new zones to the detectors now if they are idle; else the next
                # batch does (the worker is in the middle of one: never wait for it here).
                if self._pipeline is not None and self._lock.acquire(blocking=False):
                    try:
                        _ = self.pipeline
                    except Exception:
                        log.exception("mda.zones_update_failed")
                    finally:
                        self._lock.release()
                self._push(e.record_type, e.record_id)
        if not ids or self.ctx.bus.subscribers == 0:
            return
        for rid in ids:
            self._push(MDA_EVENT, rid)

    def _push(self, record_type: str, rid: str) -> None:
        if self.ctx.bus.subscribers == 0:
            return
        state = self.ctx.events.get(record_type, rid)
        if state is None:
            return
        try:
            if record_type == MDA_EVENT:
                if not rules.is_complete(state):
                    return
                # each verdict has its own label: the push (checked against the event's
                # label) carries only the verdicts that reach at least as far
                item: dict[str, Any] = msgspec.to_builtins(
                    event_view(state, _within(state.label, self.ctx.groups))
                )
            elif state.deleted:
                item = {"id": rid, "deleted": True}
            elif record_type == MDA_ZONE:
                item = msgspec.to_builtins(zone_view(state))
            else:
                item = msgspec.to_builtins(watch_view(state))
            self.ctx.bus.publish(record_type, item, state.label)
        except Exception:
            log.exception("mda.push_failed", record_id=rid)

    # -- reads --------------------------------------------------------------------------

    def events(
        self,
        caller: Caller,
        *,
        type: str | None = None,
        status: str | None = None,
        bbox: rules.BBox | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[EventOut]:
        """Events the caller may see, newest start first. ``since``: events still going on
        at or after that time (open, or ended then or later)."""
        out = []
        for state in filter_visible(self.ctx, caller, self.ctx.events.scan(MDA_EVENT)):
            if not rules.is_complete(state):
                continue
            d = rules.detection(state)
            if type is not None and d.get("type") != type:
                continue
            if status is not None and d.get("status") != status:
                continue
            if bbox is not None and not rules.in_bbox(bbox, d.get("lat", 0.0), d.get("lon", 0.0)):
                continue
            if since is not None:
                end = d.get("end")
                if end is not None and end < since and d.get("start", 0.0) < since:
                    continue
            out.append((d.get("start", 0.0), state))
        out.sort(key=lambda p: (-p[0], p[1].record_id))
        return [event_view(s, _reader(caller)) for _start, s in out[:limit]]

    def event(self, caller: Caller, rid: str) -> EventOut:
        state = get_visible(self.ctx, caller, MDA_EVENT, rid)
        if not rules.is_complete(state):
            raise NotFound(CATALOG.msg("error.not-found", record_type=MDA_EVENT, id=rid))
        return event_view(state, _reader(caller))

    def give_verdict(self, caller: Caller, rid: str, data: VerdictIn) -> EventOut:
        """This node's verdict on an event (replacing its earlier one); it travels with the
        event to every node the verdict's label allows."""
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-verdict"))
        state = get_visible(self.ctx, caller, MDA_EVENT, rid)
        if not rules.is_complete(state):
            raise NotFound(CATALOG.msg("error.not-found", record_type=MDA_EVENT, id=rid))
        marking = data.label or state.label.render(fgi=False)
        label = child_label_for_write(self.ctx, caller, marking, state.label)
        payload = {
            "verdict": {
                "node": self.ctx.node_id,
                "verdict": data.verdict,
                "note": data.note,
                "at": time.time(),
            }
        }
        self.ctx.events.append(
            [
                Draft(
                    MDA_EVENT,
                    rid,
                    "patch",
                    label,
                    payload,
                    precedence=state.precedence,
                    author=caller.name,
                )
            ]
        )
        self.ctx.audit.append(
            "mda.verdict", caller.name, data.verdict, id=rid, label=label.render()
        )
        new = self.ctx.events.get(MDA_EVENT, rid)
        assert new is not None
        return event_view(new, _reader(caller))

    def status(self) -> MdaStatus:
        return MdaStatus(
            enabled=self.settings.enabled,
            fixes=self.fixes,
            partner_fixes=self.partner_fixes,
            dropped=self.dropped,
            emissions=self.emissions,
            written=self.written,
            data_clock=None if self.clock is None else iso(self.clock),
            ports=len(self.ports),
            zones=self._zone_count,
            watchlist=self._watch_count,
        )

    # -- zones and watchlists -------------------------------------------------------------

    def _own(self, caller: Caller, record_type: str, rid: str) -> RecordState:
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-change", record_type=record_type))
        state = get_visible(self.ctx, caller, record_type, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(
                CATALOG.msg("error.not-owner", record_type=record_type, id=rid, node=state.origin)
            )
        return state

    def _create(
        self, caller: Caller, record_type: str, marking: str, payload: dict[str, Any]
    ) -> RecordState:
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-add", record_type=record_type))
        label = label_for_write(self.ctx, caller, marking)
        rid = new_id()
        self.ctx.events.append(
            [Draft(record_type, rid, "create", label, payload, author=caller.name, new_record=True)]
        )
        self.ctx.audit.append(
            f"{record_type}.create", caller.name, "ok", id=rid, label=label.render()
        )
        state = self.ctx.events.get(record_type, rid)
        assert state is not None
        return state

    def _update(
        self,
        caller: Caller,
        record_type: str,
        rid: str,
        marking: str | None,
        payload: dict[str, Any],
    ) -> RecordState:
        state = self._own(caller, record_type, rid)
        label = label_for_write(self.ctx, caller, marking) if marking else state.label
        decision = authorize_relabel(
            self.ctx, caller, record_type, rid, state.origin, state.label, label
        )
        if decision.widened:  # a peer the old label kept out gets the whole record
            payload = {**state.fields, **payload}
        self.ctx.events.append(
            [Draft(record_type, rid, "patch", label, payload, author=caller.name)]
        )
        self.ctx.audit.append(
            f"{record_type}.update", caller.name, "ok", id=rid, label=label.render()
        )
        audit_relabel(self.ctx, caller, record_type, rid, decision)
        new = self.ctx.events.get(record_type, rid)
        assert new is not None
        return new

    def _delete(self, caller: Caller, record_type: str, rid: str) -> None:
        state = self._own(caller, record_type, rid)
        self.ctx.events.append(
            [Draft(record_type, rid, "tombstone", state.label, {}, author=caller.name)]
        )
        self.ctx.audit.append(f"{record_type}.delete", caller.name, "ok", id=rid)

    def _list(self, caller: Caller, record_type: str) -> list[RecordState]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(record_type))
        return sorted(states, key=lambda s: s.record_id)

    @staticmethod
    def _polygon(points: list[list[float]]) -> list[list[float]]:
        problems = rules.polygon_problems(points)
        if problems:
            raise Invalid(
                CATALOG.msg("error.bad-polygon", problems="; ".join(problems)), errors=problems
            )
        return rules.closed_ring(points)

    def create_zone(self, caller: Caller, data: ZoneIn) -> ZoneOut:
        payload = {
            "name": msgspec.to_builtins(data.name),
            "polygon": self._polygon(data.polygon),
            "kind": data.kind,
        }
        if not (data.name.en.strip() or data.name.ja.strip()):
            raise Invalid(CATALOG.msg("error.zone-name"), errors=["name: empty"])
        return zone_view(self._create(caller, MDA_ZONE, data.label, payload))

    def update_zone(self, caller: Caller, rid: str, data: ZonePatch) -> ZoneOut:
        payload: dict[str, Any] = {}
        if data.name is not None:
            payload["name"] = msgspec.to_builtins(data.name)
        if data.polygon is not None:
            payload["polygon"] = self._polygon(data.polygon)
        if data.kind is not None:
            payload["kind"] = data.kind
        return zone_view(self._update(caller, MDA_ZONE, rid, data.label, payload))

    def delete_zone(self, caller: Caller, rid: str) -> None:
        self._delete(caller, MDA_ZONE, rid)

    def zones(self, caller: Caller) -> list[ZoneOut]:
        return [zone_view(s) for s in self._list(caller, MDA_ZONE)]

    def zone(self, caller: Caller, rid: str) -> ZoneOut:
        return zone_view(get_visible(self.ctx, caller, MDA_ZONE, rid))

    def create_watch(self, caller: Caller, data: WatchIn) -> WatchOut:
        if data.mmsi is None and data.imo is None and not data.name.strip():
            raise Invalid(
                CATALOG.msg("error.watch-names"),
                errors=["mmsi, imo or name: at least one"],
            )
        payload = {
            "mmsi": data.mmsi,
            "imo": data.imo,
            "name": data.name.strip(),
            "reason": data.reason,
        }
        return watch_view(self._create(caller, MDA_WATCH, data.label, payload))

    def update_watch(self, caller: Caller, rid: str, data: WatchPatch) -> WatchOut:
        payload = {
            k: (v.strip() if k == "name" else v)
            for k in ("mmsi", "imo", "name", "reason")
            if (v := getattr(data, k)) is not None
        }
        return watch_view(self._update(caller, MDA_WATCH, rid, data.label, payload))

    def delete_watch(self, caller: Caller, rid: str) -> None:
        self._delete(caller, MDA_WATCH, rid)

    def watchlist(self, caller: Caller) -> list[WatchOut]:
        return [watch_view(s) for s in self._list(caller, MDA_WATCH)]

    def watch(self, caller: Caller, rid: str) -> WatchOut:
        return watch_view(get_visible(self.ctx, caller, MDA_WATCH, rid))

    def import_zones(self, caller: Caller, features: Sequence[Any], marking: str) -> list[ZoneOut]:
        """Areas imported from an overlay (``kizuna.kernel.contract.Feature`` polygons) as
        zones under ``marking``: every one is checked first, then all are written in one
        commit; one bad area refuses the whole file."""
        if not may_act(caller):
            raise Forbidden(CATALOG.msg("error.viewer-add", record_type=MDA_ZONE))
        label = label_for_write(self.ctx, caller, marking)
        drafts: list[Draft] = []
        problems: list[str | Message] = []
        for n, f in enumerate(features):
            g = f.geometry
            if g.get("type") != "Polygon" or not g.get("coordinates"):
                problems.append(
                    CATALOG.msg("error.feature-not-area", n=n, name=f.name, type=g.get("type"))
                )
                continue
            points = [[p[1], p[0]] for p in g["coordinates"][0]]
            if len(points) > 1001:
                problems.append(CATALOG.msg("error.feature-points", n=n, limit=1000))
                continue
            bad = rules.polygon_problems(points)
            if bad:
                problems.append(CATALOG.msg("error.feature-polygon", n=n, problems="; ".join(bad)))
                continue
            name = {"en": f.name.get("en", "")[:200], "ja": f.name.get("ja", "")[:200]}
            if not (name["en"].strip() or name["ja"].strip()):
                name["en"] = f"imported zone {n + 1}"
            payload = {"name": name, "polygon": rules.closed_ring(points), "kind": "area"}
            drafts.append(
                Draft(
                    MDA_ZONE,
                    new_id(),
                    "create",
                    label,
                    payload,
                    author=caller.name,
                    new_record=True,
                )
            )
        if problems:
            en, ja = _joined(problems[:20])
            raise Invalid(
                CATALOG.msg("error.bad-zones", problems=en, problems_ja=ja),
                errors=[str(p) for p in problems[:100]],
            )
        self.ctx.events.append(drafts)
        self.ctx.audit.append(
            f"{MDA_ZONE}.import", caller.name, "ok", count=len(drafts), label=label.render()
        )
        return [zone_view(s) for d in drafts if (s := self.ctx.events.get(MDA_ZONE, d.record_id))]
