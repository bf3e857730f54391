"""AisIngestor: NMEA lines in, batches of :class:`Track` out."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog
from msgspec.structs import replace

from kizuna.core.labels import Label
from kizuna.picture.models import Provenance, Track
from kizuna.sources.ais.decode import (
    MESSAGE_TYPE,
    DecodeError,
    PositionReport,
    StaticReport,
    fast_position,
    payload_bits,
    position_with_pyais,
    static_from_type19,
    static_with_pyais,
)
from kizuna.sources.ais.nmea import (
    HEX,
    MAX_LINE,
    TAG_CACHE,
    TAG_MISS,
    WELL_FORMED,
    FragmentBuffer,
    Frame,
    Reject,
    parse_sentence,
    parse_tag_block,
    receiver_time,
)
from kizuna.sources.ais.symbols import track_symbology

log = structlog.get_logger("kizuna.sources.ais")

KNOT = 0.514444  # m/s
# Seconds until a track goes stale, by message type: class A reports every
# 2 s–3 min, class B every 5 s–3 min (30 s–3 min at rest), long-range type 27
# every 3 min at best and often far less (satellite).
STALE_AFTER = {1: 600.0, 2: 600.0, 3: 600.0, 18: 900.0, 19: 900.0, 27: 1800.0}

_NAV_STATUS = (
    "under way using engine",
    "at anchor",
    "not under command",
    "restricted manoeuvrability",
    "constrained by her draught",
    "moored",
    "aground",
    "engaged in fishing",
    "under way sailing",
    "reserved (HSC)",
    "reserved (WIG)",
    "power-driven vessel towing astern",
    "power-driven vessel pushing ahead or towing alongside",
    "reserved",
    "AIS-SART active",
    "",
)

_POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
# Types feed_lines decodes inline (19 also carries static data: slow path).
_INLINE_TYPES = frozenset({1, 2, 3, 18, 27})

Sink = Callable[[list[Track]], None]
_Found = tuple[PositionReport, float, int]  # report, observed at, lines


class IngestStats:
    """Counters. After :meth:`AisIngestor.close`, ``accepted + rejected == offered``."""

    __slots__ = ("accepted", "ignored", "offered", "rejected", "static_updates", "tracks")

    def __init__(self) -> None:
        self.offered = 0  # non-blank lines fed in
        self.accepted = 0  # lines that became a track or a static update
        self.rejected: dict[str, int] = dict.fromkeys(Reject, 0)  # by reason (str keys)
        self.ignored = 0  # blank lines, not offered
        self.tracks = 0  # tracks handed to the sink
        self.static_updates = 0  # static/voyage messages applied

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "offered": self.offered,
            "accepted": self.accepted,
            "rejected": {str(k): v for k, v in self.rejected.items()},
            "rejected_total": self.rejected_total,
            "tracks": self.tracks,
            "static_updates": self.static_updates,
        }


class _Vessel:
    """What we know about one MMSI: static data and a template Track whose
    per-vessel fields are filled in (rebuilt when static data changes)."""

    __slots__ = ("callsign", "name", "remarks", "ship_type", "template")

    def __init__(self) -> None:
        self.name = ""
        self.callsign = ""
        self.ship_type: int | None = None
        self.remarks = ""
        self.template: Track | None = None


class AisIngestor:
    """Turns AIS NMEA lines into Tracks and hands them to ``sink`` in batches.

    ``feed_lines`` (many lines: the fast way in), ``feed_bytes`` and
    ``feed_line`` never raise on bad input: each rejected line is counted
    under its :class:`Reject` reason and logged at debug. Call
    :meth:`flush` to push a partial batch, :meth:`close` at the end of a feed
    (drops unfinished multi-part messages, flushes, logs a summary).

    One ingestor may serve several connections: pass ``connection`` per line
    so multi-part messages are reassembled per connection and provenance
    names the feed. Static data (types 5, 24, 19) is cached per MMSI, up to
    ``static_cache_size`` vessels, and enriches later position reports.
    ``on_reject(reason, lines)`` hears of every reject as it is counted (the
    plugin points it at the node's ``kizuna_bad_input_total{source="ais"}``).
    """

    def __init__(
        self,
        sink: Sink,
        default_label: Label,
        *,
        batch_size: int = 1000,
        connection: str = "ais",
        max_pending_fragments: int = 256,
        fragment_ttl: float = 10.0,
        static_cache_size: int = 100_000,
        fast_path: bool = True,
        on_reject: Callable[[str, int], None] | None = None,
    ) -> None:
        self.sink = sink
        self.on_reject = on_reject
        self.label = default_label
        self.batch_size = batch_size
        self.connection = connection
        self.fast_path = fast_path
        self.stats = IngestStats()
        self.fragments = FragmentBuffer(max_pending_fragments, fragment_ttl)
        self.static_cache_size = static_cache_size
        self._vessels: dict[int, _Vessel] = {}
        self._batch: list[Track] = []
        self._last_received = 0.0
        self._inline = True  # feed_lines' inline path (tests turn it off to compare)
        self._log = log.bind(connection=connection)  # bound once: cheap per-reject calls

    # -- input ---------------------------------------------------------------

    def feed_line(self, line: str, received_at: float, connection: str | None = None) -> None:
        """One NMEA line (with or without CR/LF). Never raises on bad input."""
        try:
            raw = line.encode("ascii")
        except UnicodeEncodeError:
            if line.strip():
                self.stats.offered += 1
                self._reject(Reject.MALFORMED, 1, line)
            else:
                self.stats.ignored += 1
            return
        self.feed_lines((raw,), received_at, connection)

    def feed_bytes(self, raw: bytes, received_at: float, connection: str | None = None) -> None:
        """One NMEA line as bytes. Never raises on bad input."""
        self.feed_lines((raw,), received_at, connection)

    def feed_lines(
        self, lines: Iterable[bytes], received_at: float, connection: str | None = None
    ) -> None:
        """NMEA lines as bytes (with or without CR/LF), all received at
        ``received_at``: the bulk entry point. Never raises on bad input.

        The common line is framed and decoded inline: a single-part position
        report (types 1, 2, 3, 18, 27) with a good checksum and tag block (if
        any), that :func:`fast_position` covers and whose position is valid.
        Any other line takes :meth:`_feed_one`, which gives the same result
        for every line. Both end in the one Track mapping below.
        """
        conn = connection or self.connection
        when: float  # the observation time (a Reject tag_time never gets here)
        stats = self.stats
        general = self._feed_one
        inline = self.fast_path and self._inline
        match = WELL_FORMED
        tag_get = TAG_CACHE.get
        hexes = HEX
        types = MESSAGE_TYPE
        decode = fast_position
        vessels = self._vessels
        batch_size = self.batch_size
        batch = self._batch
        for raw in lines:
            line = raw.strip()
            if not line:
                stats.ignored += 1
                continue
            pos = None
            if inline and len(line) <= MAX_LINE and (m := match(line)) is not None:
                tag, body, count, number, _seq, _chan, payload, fill, hex_f = m.groups()
                # the tag block's time: parse_tag_block's cache first (one call saved)
                tag_time = None if tag is None else tag_get(tag, TAG_MISS)
                if tag_time is TAG_MISS:
                    tag_time = parse_tag_block(tag)
                if (
                    count == b"1" == number
                    and len(body) <= 64
                    and tag_time.__class__ is not Reject
                    and types[payload[0]] in _INLINE_TYPES
                ):
                    # nmea.checksum() inlined; at most 64 bytes: no >> 512 step
                    x = int.from_bytes(body, "little")
                    x ^= x >> 256
                    x ^= x >> 128
                    x ^= x >> 64
                    x ^= x >> 32
                    x ^= x >> 16
                    x ^= x >> 8
                    if x & 255 == hexes[hex_f]:
                        if tag_time is None and m.end() < len(line):  # as parse_sentence
                            tag_time = receiver_time(line[m.end() :])
                        when = received_at if tag_time is None else tag_time  # type: ignore[assignment]
                        try:
                            pos = decode(payload, fill[0] - 48)
                        except Exception:  # DecodeError or worse: _feed_one decides
                            pos = None
            if pos is None or not (-90.0 <= pos[2] <= 90.0 and -180.0 <= pos[3] <= 180.0):
                found = general(line, received_at, conn)
                if found is None:
                    continue
                pos, when, n = found
            else:
                n = 1
                stats.offered += 1
                self._last_received = received_at
            stats.accepted += n
            try:  # the Track: a copy of the vessel's template (hot path: kept flat)
                msg_type, mmsi, lat, lon, speed, course, _heading, status = pos
                entry = vessels.get(mmsi)
                if entry is None:
                    entry = self._vessel(mmsi)
                template = entry.template or self._template(mmsi, entry)
                remarks = template.remarks
                if status is not None and status != 15:
                    remarks = (
                        f"{_NAV_STATUS[status]}; {remarks}" if remarks else _NAV_STATUS[status]
                    )
                batch.append(
                    replace(
                        template,
                        lat=lat,
                        lon=lon,
                        observed_at=when,
                        stale_at=when + STALE_AFTER[msg_type],
                        course=None if course >= 360.0 else course,
                        speed=None
                        if speed >= (63.0 if msg_type == 27 else 102.3)
                        else speed * KNOT,
                        remarks=remarks,
                        sources=[
                            Provenance(
                                source="ais",
                                source_id=template.source_id,
                                observed_at=when,
                                connection=conn,
                            )
                        ],
                    )
                )
                if len(batch) >= batch_size:
                    self.flush()
                    batch = self._batch
            except Exception:  # e.g. a failing sink: counted as _feed_one counts a bug
                self._internal_error(line)
                batch = self._batch

    def _feed_one(self, line: bytes, received_at: float, conn: str) -> _Found | None:
        """The general path for one stripped, non-blank line: framing,
        reassembly, decoding, rejects and static updates. A valid position
        report comes back as (report, observed at, lines) for the caller to map."""
        self.stats.offered += 1
        self._last_received = received_at
        try:
            frame = parse_sentence(line)
            if frame.__class__ is not Frame:
                self._reject(frame, 1, line)  # type: ignore[arg-type]
                return None
            count, _number, seq, channel, payload, fill, when = frame
            if count == 1:
                lines = 1
            else:
                done = self.fragments.add((conn, seq, channel), frame, received_at)
                dropped = self.fragments.take_dropped()
                if dropped:
                    self._reject(Reject.INCOMPLETE_FRAGMENT, dropped, line)
                if done is None:
                    return None
                payload, fill, lines, when = done
            pos = self._message(payload, fill, lines, line)
            return None if pos is None else (pos, received_at if when is None else when, lines)
        except Exception:
            self._internal_error(line)
            return None

    def _internal_error(self, line: bytes) -> None:
        """A bug, not bad input: count it, log it, keep the feed alive."""
        log.exception("ais_internal_error", line=_show(line))
        self._reject(Reject.DECODE_ERROR, 1, line)

    # -- decoding ------------------------------------------------------------

    def _message(self, payload: bytes, fill: int, lines: int, raw: bytes) -> PositionReport | None:
        """Decode one whole message. Static data is applied here; a valid
        position report is returned (the caller counts and maps it); anything
        else is counted as accepted (static) or rejected."""
        msg_type = MESSAGE_TYPE[payload[0]]
        if msg_type in _POSITION_TYPES:
            try:
                pos = fast_position(payload, fill) if self.fast_path else None
                if pos is None:
                    pos = position_with_pyais(payload, fill)
                if msg_type == 19:
                    self._type19_static(payload, fill)
            except DecodeError:
                self._reject(Reject.DECODE_ERROR, lines, raw)
                return None
            if not (-90.0 <= pos.lat <= 90.0 and -180.0 <= pos.lon <= 180.0):
                self._reject(Reject.INVALID_POSITION, lines, raw)
                return None
            return pos
        if msg_type == 5 or msg_type == 24:
            try:
                static = static_with_pyais(payload, fill)
            except DecodeError:
                self._reject(Reject.DECODE_ERROR, lines, raw)
                return None
            self._apply_static(static)
            self.stats.accepted += lines
            self.stats.static_updates += 1
        elif msg_type < 0:
            self._reject(Reject.MALFORMED, lines, raw)
        else:
            self._reject(Reject.UNSUPPORTED_TYPE, lines, raw)
        return None

    def _vessel(self, mmsi: int) -> _Vessel:
        vessels = self._vessels
        entry = vessels.get(mmsi)
        if entry is None:
            if len(vessels) >= self.static_cache_size:
                del vessels[next(iter(vessels))]  # oldest vessel first
            entry = vessels[mmsi] = _Vessel()
        return entry

    def _type19_static(self, payload: bytes, fill: int) -> None:
        v, length = payload_bits(payload, fill)
        report = static_from_type19(v, length)
        if report is not None:
            self._apply_static(report)

    def _apply_static(self, report: StaticReport) -> None:
        entry = self._vessel(report.mmsi)
        if report.name is not None:
            entry.name = report.name
        if report.callsign is not None:
            entry.callsign = report.callsign
        if report.ship_type is not None:
            entry.ship_type = report.ship_type
        if report.imo is not None or report.destination is not None:
            parts = []
            if report.imo:
                parts.append(f"IMO {report.imo}")
            if report.destination:
                parts.append(f"destination {report.destination}")
            entry.remarks = "; ".join(parts)
        entry.template = None

    def static_for(self, mmsi: int) -> dict[str, object] | None:
        """What the static cache knows about a vessel (for inspection and tests)."""
        entry = self._vessels.get(mmsi)
        if entry is None:
            return None
        return {
            "name": entry.name,
            "callsign": entry.callsign,
            "ship_type": entry.ship_type,
            "remarks": entry.remarks,
        }

    def _template(self, mmsi: int, entry: _Vessel) -> Track:
        label = self.label
        sidc, cot_type, affiliation = track_symbology(entry.ship_type, label.exercise)
        source_id = str(mmsi)
        entry.template = Track(
            id="ais-" + source_id,
            source="ais",
            source_id=source_id,
            lat=0.0,
            lon=0.0,
            observed_at=0.0,
            stale_at=0.0,
            label=label,
            sidc=sidc,
            cot_type=cot_type,
            affiliation=affiliation,
            callsign=entry.callsign,
            name=entry.name,
            exercise=label.exercise,
            ship_type=entry.ship_type,
            mmsi=mmsi,
            remarks=entry.remarks,
        )
        return entry.template

    # -- output --------------------------------------------------------------

    def flush(self) -> None:
        """Hand the current batch to the sink (if any) and expire stale fragments."""
        if self._last_received:
            self.fragments.expire(self._last_received)
            dropped = self.fragments.take_dropped()
            if dropped:
                self._reject(Reject.INCOMPLETE_FRAGMENT, dropped, b"(expired fragments)")
        batch = self._batch
        if not batch:
            return
        self._batch = []
        self.stats.tracks += len(batch)
        self.sink(batch)

    def close(self) -> None:
        """End of feed: unfinished multi-part messages become rejects; flush; log."""
        self.fragments.clear()
        dropped = self.fragments.take_dropped()
        if dropped:
            self._reject(Reject.INCOMPLETE_FRAGMENT, dropped, b"(unfinished at close)")
        self.flush()
        self._log.info("ais_ingest_summary", **self.stats.as_dict())

    # -- rejects -------------------------------------------------------------

    def _reject(self, reason: Reject, lines: int, raw: bytes | str) -> None:
        self.stats.rejected[reason] += lines
        self._log.debug("ais_reject", reason=str(reason), lines=lines, line=_show(raw))
        if self.on_reject is not None:
            try:
                self.on_reject(str(reason), lines)
            except Exception:  # counting must never stop a feed
                log.exception("ais_on_reject_failed", reason=str(reason))


def _show(raw: bytes | str) -> str:
    text = raw if isinstance(raw, str) else raw.decode("ascii", "replace")
    return text[:160]


def coalesce_latest(tracks: list[Track]) -> list[Track]:
    """Keep one Track per id, the latest observed (ties: the later one in the list).

    For sinks that store current state only; the ingestor itself never drops.
    """
    latest: dict[str, Track] = {}
    for track in tracks:
        prev = latest.get(track.id)
        if prev is None or track.observed_at >= prev.observed_at:
            latest[track.id] = track
    return list(latest.values())
