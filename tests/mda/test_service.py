"""The MDA domain on in-memory nodes: the picture's AIS reports in, labelled events out.

The picture and the MDA service run as a node runs them (``memory_context``); reports go in
through ``PictureService.ingest``, exactly as AIS feeds hand them over. Federation between
two nodes is played by hand: events copied with the owner rule applied, as receipt does.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kizuna.core.catalog import missing_keys
from kizuna.core.errors import Forbidden, Invalid, NotFound
from kizuna.core.labels import Label, parse_label
from kizuna.core.records import Event
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.mda import plugin
from kizuna.mda.detect.base import Emission, Evidence, Fix, event_id
from kizuna.mda.models import (
    EVENT_STATUSES,
    EVENT_TYPES,
    MDA_EVENT,
    SPOOF_KINDS,
    SPOOF_REASONS,
    VERDICTS,
    ZONE_EVENT_KINDS,
    ZONE_KINDS,
    Name,
    VerdictIn,
    WatchIn,
    ZoneIn,
    ZonePatch,
)
from kizuna.mda.rules import event_merge, event_owner, polygon_problems
from kizuna.mda.service import CATALOG, MdaService
from kizuna.mda.settings import MdaSettings, load_ports, shared_ports
from kizuna.node.users import make_user, principal_of
from kizuna.picture.models import Provenance, Track
from kizuna.picture.service import PictureService

T0 = 1_452_603_600.0  # 2016-01-12T13:00:00Z, the Solent hour
REL = "S//REL TO USA, JPN"
A, B = 235000001, 235000002


class Node:
    """A picture and MDA on one in-memory node."""

    def __init__(
        self,
        node_id: str = "usfj",
        nation: str = "USA",
        settings: MdaSettings | None = None,
        pipeline: Any = None,
    ) -> None:
        self.picture = PictureService(memory_context(node_id, nation, name="picture"))
        self.ctx: NodeContext = memory_context(
            node_id,
            nation,
            settings=settings or MdaSettings(),
            services={"picture": self.picture},
            name="mda",
        )
        for rt in plugin.record_types():
            self.ctx.events.register_merge(rt.name, rt.merge)
        self.mda = MdaService(self.ctx, pipeline=pipeline)

    def label(self, marking: str) -> Label:
        return self.ctx.parse_label(marking)

    def feed(self, tracks: Sequence[Track], batch: int = 1000) -> None:
        for i in range(0, len(tracks), batch):
            self.picture.ingest(tracks[i : i + batch])

    def caller(
        self, nation: str = "USA", clearance: str = "SECRET", roles: Sequence[str] = ()
    ) -> Caller:
        user, _ = make_user(
            f"{nation.lower()}-{clearance.lower().replace(' ', '')}",
            nation,
            clearance,
            [],
            list(roles),
            self.ctx.groups,
        )
        return Caller(user, principal_of(user, self.ctx.groups))

    def log(self) -> list[Event]:
        return [e for _pos, e in self.ctx.events.events_after(0, 1_000_000)]

    def event_log(self) -> list[Event]:
        return [e for e in self.log() if e.record_type == MDA_EVENT]


def report(
    mmsi: int,
    t: float,
    lat: float,
    lon: float,
    label: Label,
    *,
    connection: str = "solent.nmea",
    knots: float | None = 0.5,
    name: str = "",
) -> Track:
    sid = str(mmsi)
    return Track(
        id=f"ais-{sid}",
        source="ais",
        source_id=sid,
        lat=lat,
        lon=lon,
        observed_at=t,
        stale_at=t + 600.0,
        label=label,
        sidc="10033000001400000000",
        mmsi=mmsi,
        name=name,
        speed=None if knots is None else knots * 0.514444,
        sources=[Provenance(source="ais", source_id=sid, observed_at=t, connection=connection)],
    )


def silent_vessel(label: Label, silence: float = 7 * 3600.0) -> list[Track]:
    """Two vessels reporting every 60 s for 9 h; B goes silent for ``silence`` after 30 min.
    A sails at 10 kn, so only B's gap (and no loitering or encounter) is expected."""
    out = []
    for i in range(9 * 60):
        t = T0 + i * 60.0
        out.append(report(A, t, 50.60 + i * 0.0028, -1.60, label, knots=10.0))
        if t < T0 + 1800.0 or t > T0 + 1800.0 + silence:
            out.append(report(B, t, 50.75 + i * 0.0028, -1.30, label, knots=10.0))
    return out


def events(node: Node, caller: Caller | None = None, **filters: Any) -> list[dict[str, Any]]:
    who = caller or node.caller("USA", "TOP SECRET")
    return [msgspec.to_builtins(e) for e in node.mda.events(who, **filters)]


# -- from reports to events ------------------------------------------------------------


def test_a_seven_hour_silence_is_one_gap_event_under_the_reports_label() -> None:
    node = Node()
    label = node.label(REL)
    node.feed(silent_vessel(label), batch=50)
    node.mda.close()
    [gap] = events(node)
    assert gap["type"] == "gap" and gap["status"] == "closed"
    assert gap["vessels"] == [str(B)]
    assert gap["start"] == "2016-01-12T13:29:00.000Z"  # B's last position before
    assert gap["end"] == "2016-01-12T20:31:00.000Z"  # its first after
    assert gap["label"] == "SECRET//REL TO USA, JPN" and gap["origin"] == "usfj"
    assert gap["detail"]["sources_before"] == 1
    assert {e["source"] for e in gap["evidence"]} == {"solent.nmea"}
    assert {e["mmsi"] for e in gap["evidence"]} == {str(B)}
    assert 50.83 < gap["position"]["lat"] < 52.02  # between B's last and first positions
    assert gap["title"]["en"] == f"AIS gap: {B}" and gap["title"]["ja"] == f"AIS途絶：{B}"
    # opened live (its own commit) when the silence passed 6 h, then closed by a patch
    log = [e for e in node.event_log() if e.record_id == gap["id"]]
    assert [e.op for e in log] == ["create", "patch"]
    assert log[0].payload["set"]["status"] == "open" and log[0].payload["set"]["end"] is None
    assert log[1].payload["set"]["status"] == "closed"
    assert "type" not in log[1].payload["set"]  # a patch carries what changed
    # nobody without USA or JPN in the label's reach sees it
    assert events(node, node.caller("AUS", "TOP SECRET")) == []
    with pytest.raises(NotFound):
        node.mda.event(node.caller("AUS", "TOP SECRET"), gap["id"])
    assert node.mda.event(node.caller("JPN", "SECRET"), gap["id"]).id == gap["id"]


def test_replay_and_any_batching_give_the_same_events_and_write_nothing_twice() -> None:
    label = Node().label(REL)
    data = silent_vessel(label)
    runs = {}
    for batch in (1, 7, 1000):
        node = Node()
        node.feed(data, batch=batch)
        node.mda.close()
        runs[batch] = {
            (e["id"], e["type"], e["status"], e["start"], e["end"], tuple(e["vessels"]))
            for e in events(node)
        }
    assert runs[1] == runs[7] == runs[1000] and len(runs[1]) == 1
    # the same file replayed on the same node: the same ids, nothing new written
    node = Node()
    node.feed(data)
    node.mda.close()
    before = len(node.log())
    # a second run on the same store (a restart, `kizuna ingest ais` again)
    again = MdaService(memory_context(backend=node.ctx.backend, services={"picture": node.picture}))
    for i in range(0, len(data), 1000):
        again.process(data[i : i + 1000])
    again.close()
    assert len(node.log()) == before


def test_the_solent_hour_writes_events_not_fixes(shared_data: Path) -> None:
    """18,623 real reports: every one reaches the detectors, few events are written."""
    node = Node()
    label = node.label("UNCLASSIFIED")
    tracks = []
    with (shared_data / "ais" / "solent_ais_20160112.csv").open() as fh:
        for row in csv.DictReader(fh):
            t = dt.datetime.fromisoformat(row["Time"]).replace(tzinfo=dt.UTC).timestamp()
            tracks.append(
                report(
                    int(row["MMSI"]),
                    t,
                    float(row["Latitude_degrees"]),
                    float(row["Longitude_degrees"]),
                    label,
                    knots=float(row["SOG_knots"]),
                )
            )
    node.feed(tracks)
    node.mda.close()
    status = node.mda.status()
    assert status.fixes == len(tracks) == 18_623 and status.dropped == 0
    assert status.ports == len(load_ports(shared_ports()))
    written = node.event_log()
    assert len(written) < len(tracks) / 100
    assert len({e.record_id for e in written}) <= len(written)
    for e in events(node):
        assert e["type"] in EVENT_TYPES and e["status"] in EVENT_STATUSES


# -- bounded writes and the queue ---------------------------------------------------------


class Chatty:
    """A stand-in pipeline: one open event updated on every fix, closed at the last one."""

    def __init__(self, *_args: Any) -> None:
        self.zones: list[Any] = []
        self.watchlist: list[Any] = []
        self.first: Fix | None = None

    def _emission(self, fix: Fix, status: str) -> Emission:
        assert self.first is not None
        return Emission(
            id=event_id("loitering", [str(fix.mmsi)], self.first.t),
            type="loitering",
            status=status,  # type: ignore[arg-type]
            start=self.first.t,
            end=None if status == "open" else fix.t,
            vessels=(str(fix.mmsi),),
            lat=fix.lat or 0.0,
            lon=fix.lon or 0.0,
            evidence=[
                Evidence(mmsi=str(fix.mmsi), t=fix.t, lat=fix.lat or 0.0, lon=fix.lon or 0.0)
            ],
            label=fix.label,
            detail={"duration_s": fix.t - self.first.t},
        )

    def feed_many(self, fixes: Sequence[Fix]) -> list[Emission]:
        out = []
        for fix in fixes:
            self.first = self.first or fix
            out.append(self._emission(fix, "closed" if fix.name == "LAST" else "open"))
        return out

    def tick(self, now: float) -> list[Emission]:
        return []

    def set_zones(self, zones: Sequence[Any]) -> list[Emission]:
        self.zones = list(zones)
        return []

    def set_watchlist(self, watchlist: Sequence[Any]) -> list[Emission]:
        self.watchlist = list(watchlist)
        return []


def test_an_event_updated_on_every_fix_is_written_at_most_every_update_interval() -> None:
    node = Node(settings=MdaSettings(update_interval_s=600.0), pipeline=Chatty)
    label = node.label("UNCLASSIFIED")
    fixes = [report(A, T0 + 10.0 * i, 50.7, -1.2, label) for i in range(5000)]
    fixes.append(report(A, T0 + 50_000.0, 50.7, -1.2, label, name="LAST"))
    node.feed(fixes, batch=10)
    log = node.event_log()
    assert 50_000 / 600 <= len(log) <= 50_000 / 600 + 3  # not 5,001
    assert [e.op for e in log[:2]] == ["create", "patch"]
    [only] = events(node)
    assert only["status"] == "closed" and only["detail"]["duration_s"] == 50_000.0


def test_a_full_queue_drops_and_counts_and_the_worker_catches_up() -> None:
    node = Node(settings=MdaSettings(queue_max=100), pipeline=Chatty)
    label = node.label("UNCLASSIFIED")
    node.mda._worker = True  # as while the node serves: listeners only queue
    node.feed([report(A, T0 + i, 50.7, -1.2, label) for i in range(80)])
    node.feed([report(A, T0 + 100 + i, 50.7, -1.2, label) for i in range(80)])  # over 100
    assert node.mda.dropped == 80 and node.mda.status().fixes == 0
    metrics = node.ctx.metrics.registry.get_sample_value("kizuna_mda_dropped_total")
    assert metrics == 80
    node.mda._drain()
    assert node.mda.status().fixes == 80 and len(events(node)) == 1


# -- coverage by a partner's positions ------------------------------------------------------


def partner(mmsi: int, t: float, label: Label, peer: str = "jjoc") -> Track:
    return report(mmsi, t, 50.9, -1.25, label, connection=f"federation:{peer}")


def test_a_partner_position_inside_the_gap_marks_it_covered_in_either_order() -> None:
    for before in (True, False):
        node = Node()
        own = node.label("UNCLASSIFIED")
        theirs = parse_label("C//REL TO USA, JPN", originator="JPN")
        data = silent_vessel(own)
        if before:  # the partner's fix arrives before the gap opens: decided at open
            node.feed(data[:100])
            node.feed([partner(B, T0 + 3 * 3600.0, theirs)])
            node.feed(data[100:], batch=50)
        else:  # after the gap closed, with a time inside it: decided on arrival
            node.feed(data, batch=50)
            node.feed([partner(B, T0 + 3 * 3600.0, theirs)])
        node.mda.close()
        [gap] = events(node)
        assert [c["source"] for c in gap["covered_by"]] == ["jjoc"], before
        assert gap["covered_by"][0]["t"] == "2016-01-12T16:00:00.000Z"
        # the partner's position travels no further than its own label
        assert gap["label"] == "CONFIDENTIAL//REL TO USA, JPN"
        assert events(node, node.caller("USA", "UNCLASSIFIED")) == []


def test_a_busy_partner_stream_is_thinned_but_still_covers_the_gap() -> None:
    node = Node()
    own = node.label("UNCLASSIFIED")
    data = silent_vessel(own)
    node.feed(data[:60])  # both vessels, the first 30 min
    # the partner reports B every 30 s up to 2 min after B's last own position
    node.feed([partner(B, T0 + 1200.0 + 30 * i, own) for i in range(23)])
    node.feed(data[60:], batch=50)
    node.mda.close()
    [gap] = events(node)
    assert [c["source"] for c in gap["covered_by"]] == ["jjoc"]
    assert gap["covered_by"][0]["t"] == "2016-01-12T13:29:30.000Z"  # the first inside
    assert len(node.mda._partner[str(B)]) <= 3


def test_partner_positions_outside_the_gap_or_of_other_vessels_do_not_cover() -> None:
    node = Node()
    own = node.label("UNCLASSIFIED")
    data = silent_vessel(own)
    node.feed(data[:100])
    node.feed([partner(B, T0 + 600.0, own), partner(A, T0 + 3 * 3600.0, own)])
    node.feed(data[100:], batch=50)
    node.feed([partner(B, T0 + 12 * 3600.0, own)])
    node.mda.close()
    [gap] = events(node)
    assert gap["covered_by"] == [] and gap["label"] == "UNCLASSIFIED"
    assert node.mda.status().partner_fixes == 3


# -- verdicts and ownership across two nodes ------------------------------------------------


def deliver(src: Node, dst: Node, events_: Iterable[Event]) -> list[str]:
    """Hand ``events_`` to ``dst`` as federation receipt does: the owner rule first."""
    refused, accepted = [], []
    for e in events_:
        if e.origin == dst.ctx.node_id:
            continue
        why = None
        if e.record_type == MDA_EVENT:
            why = event_owner(dst.ctx.events.get(e.record_type, e.record_id), e)
        if why is None:
            accepted.append(e)
        else:
            refused.append(why)
    dst.ctx.events.apply(accepted)
    return refused


def test_a_verdict_is_owned_by_its_node_and_travels_with_the_event() -> None:
    usfj, jjoc = Node(), Node("jjoc", "JPN")
    usfj.feed(silent_vessel(usfj.label(REL)), batch=50)
    usfj.mda.close()
    [gap] = events(usfj)
    assert deliver(usfj, jjoc, usfj.log()) == []
    kenji = jjoc.caller("JPN", "SECRET", roles=["watch"])
    seen = jjoc.mda.event(kenji, gap["id"])
    assert seen.origin == "usfj" and seen.label == "SECRET//REL TO USA, JPN"
    assert seen.status == "closed" and seen.verdicts == []
    out = jjoc.mda.give_verdict(kenji, gap["id"], VerdictIn(verdict="confirmed", note="seen"))
    [v] = out.verdicts
    assert (v.node, v.verdict, v.note, v.by) == ("jjoc", "confirmed", "seen", kenji.name)
    assert v.originator == "JPN" and set(v.rel_to) == {"USA", "JPN"}
    # JJOC changes its mind: still one verdict of JJOC's
    jjoc.mda.give_verdict(kenji, gap["id"], VerdictIn(verdict="interference"))
    # USFJ's own analyst gives one too
    alice = usfj.caller("USA", "SECRET")
    usfj.mda.give_verdict(alice, gap["id"], VerdictIn(verdict="false_positive"))
    assert deliver(jjoc, usfj, jjoc.log()) == []
    assert deliver(usfj, jjoc, usfj.log()) == []
    for node, who in ((usfj, alice), (jjoc, kenji)):
        got = node.mda.event(who, gap["id"])
        assert [(v.node, v.verdict) for v in got.verdicts] == [
            ("jjoc", "interference"),
            ("usfj", "false_positive"),
        ]
        assert got.status == "closed" and got.label == "SECRET//REL TO USA, JPN"
        assert got.origin == "usfj"
    viewer = jjoc.caller("JPN", "SECRET", roles=["viewer"])
    with pytest.raises(Forbidden):
        jjoc.mda.give_verdict(viewer, gap["id"], VerdictIn(verdict="confirmed"))


def test_the_owner_rule_refuses_foreign_detection_and_other_nodes_verdicts() -> None:
    usfj = Node()
    usfj.feed(silent_vessel(usfj.label("UNCLASSIFIED")), batch=50)
    usfj.mda.close()
    [gap] = events(usfj)
    state = usfj.ctx.events.get(MDA_EVENT, gap["id"])
    label = parse_label("UNCLASSIFIED", originator="JPN")

    def ev(payload: dict[str, Any], op: str = "patch", origin: str = "jjoc") -> Event:
        return Event(
            origin=origin,
            seq=99,
            hlc=1 << 50,
            record_type=MDA_EVENT,
            record_id=gap["id"],
            op=op,  # type: ignore[arg-type]
            label=label,
            payload=payload,
        )

    assert event_owner(state, ev({"set": {"status": "retracted"}})) == "not_owner"
    assert event_owner(state, ev({"set": {"type": "gap"}}, op="create")) == "not_owner"
    assert event_owner(state, ev({}, op="tombstone")) == "not_owner"
    forged = {"verdict": {"node": "usfj", "verdict": "false_positive"}}
    assert event_owner(state, ev(forged)) == "not_verdict_owner"
    own = {"verdict": {"node": "jjoc", "verdict": "confirmed"}}
    assert event_owner(state, ev(own)) is None
    assert event_owner(state, ev({"set": {"status": "open"}}, origin="usfj")) is None
    # a partner that detected the same event first keeps it: this node writes no detection
    jjoc = Node("jjoc", "JPN")
    jjoc.feed(silent_vessel(jjoc.label("UNCLASSIFIED")), batch=50)
    jjoc.mda.close()
    assert deliver(jjoc, usfj, jjoc.log()) == ["not_owner", "not_owner"]
    assert usfj.ctx.events.get(MDA_EVENT, gap["id"]).origin == "usfj"  # type: ignore[union-attr]


def test_the_event_merge_is_order_independent() -> None:
    us = parse_label("S//REL TO USA, JPN", originator="USA")
    jp = parse_label("S//REL TO USA, JPN", originator="JPN")
    us_c = parse_label("C//REL TO USA, JPN", originator="USA")
    rid = "mda-gap-x"

    def e(origin: str, seq: int, hlc: int, op: str, label: Label, payload: Any) -> Event:
        return Event(
            origin=origin,
            seq=seq,
            hlc=hlc,
            record_type=MDA_EVENT,
            record_id=rid,
            op=op,  # type: ignore[arg-type]
            label=label,
            payload=payload,
        )

    log = [
        e("usfj", 1, 10, "create", us, {"set": {"type": "gap", "status": "open", "start": 1.0}}),
        e("usfj", 2, 20, "patch", us_c, {"set": {"status": "closed", "end": 2.0}}),
        e("jjoc", 1, 15, "patch", jp, {"verdict": {"node": "jjoc", "verdict": "confirmed"}}),
        e("jjoc", 2, 30, "patch", jp, {"verdict": {"node": "jjoc", "verdict": "interference"}}),
        e("usfj", 3, 25, "patch", us, {"verdict": {"node": "usfj", "verdict": "confirmed"}}),
    ]
    seen = set()
    orders = list(itertools.permutations(log))
    random.Random(13).shuffle(orders)
    for order in orders[:60]:
        state = None
        for event in [*order, order[0]]:  # a duplicate too
            state = event_merge(state, event)
        assert state is not None
        seen.add(
            msgspec.json.encode(
                [state.origin, state.label, state.fields["w"], state.fields["verdicts"]],
                order="sorted",
            )
        )
        assert state.origin == "usfj" and state.label == us_c
        assert state.fields["verdicts"]["jjoc"]["verdict"] == "interference"
    assert len(seen) == 1


# -- reads --------------------------------------------------------------------------------


def test_filters_by_type_status_bbox_and_since() -> None:
    node = Node()
    node.feed(silent_vessel(node.label("UNCLASSIFIED")), batch=50)
    node.mda.close()
    [gap] = events(node)
    assert events(node, type="gap") == [gap] and events(node, type="loitering") == []
    assert events(node, status="closed") == [gap] and events(node, status="open") == []
    assert events(node, bbox=(-2.0, 50.0, 0.0, 52.0)) == [gap]
    assert events(node, bbox=(139.0, 35.0, 140.0, 36.0)) == []
    assert events(node, bbox=(170.0, 50.0, -0.5, 52.0)) == [gap]  # across the antimeridian
    assert events(node, since=T0) == [gap]
    assert events(node, since=T0 + 24 * 3600.0) == []


# -- zones and watchlists -------------------------------------------------------------------


SOLENT = [[50.70, -1.40], [50.70, -1.20], [50.80, -1.20], [50.80, -1.40]]


def test_zones_and_watchlist_entries_are_labelled_records_that_update_the_detectors() -> None:
    stand_in: list[Chatty] = []

    def factory(*args: Any) -> Chatty:
        stand_in.append(Chatty())
        return stand_in[-1]

    node = Node(pipeline=factory)
    alice = node.caller("USA", "SECRET")
    node.feed([report(A, T0, 50.7, -1.2, node.label("UNCLASSIFIED"))])
    [pipeline] = stand_in
    zone = node.mda.create_zone(
        alice,
        ZoneIn(
            label=REL,
            name=Name(en="Solent anchorage", ja="ソレント錨地"),
            polygon=SOLENT,
            kind="port",
        ),
    )
    assert zone.label == "SECRET//REL TO USA, JPN" and zone.kind == "port"
    assert zone.polygon == SOLENT and zone.name.ja == "ソレント錨地"
    node.feed([report(A, T0 + 1, 50.7, -1.2, node.label("UNCLASSIFIED"))])
    [z] = pipeline.zones
    assert z.id == zone.id and z.rings == (tuple(tuple(p) for p in SOLENT),)
    assert z.label == node.label(REL)
    moved = [[50.6, -1.4], [50.6, -1.1], [50.9, -1.1]]
    node.mda.update_zone(alice, zone.id, ZonePatch(polygon=moved))
    assert pipeline.zones[0].rings == (tuple(tuple(p) for p in moved),)
    entry = node.mda.create_watch(alice, WatchIn(label=REL, mmsi=B, reason="STS suspect"))
    assert pipeline.watchlist[0].mmsi == B and entry.mmsi == str(B)
    assert [w.id for w in node.mda.watchlist(alice)] == [entry.id]
    assert node.mda.zones(node.caller("AUS", "TOP SECRET")) == []
    node.mda.delete_zone(alice, zone.id)
    assert pipeline.zones == [] and node.mda.zones(alice) == []
    with pytest.raises(NotFound):
        node.mda.zone(alice, zone.id)
    with pytest.raises(Invalid):
        node.mda.create_watch(alice, WatchIn(label="U"))
    with pytest.raises(Forbidden):
        node.mda.create_zone(
            node.caller("USA", "SECRET", roles=["viewer"]),
            ZoneIn(label="U", name=Name(en="x"), polygon=SOLENT),
        )


def test_bad_polygons_are_refused_with_the_reason() -> None:
    assert polygon_problems(SOLENT) == []
    assert polygon_problems([*SOLENT, SOLENT[0]]) == []  # closed rings are fine
    assert polygon_problems(SOLENT[:2]) == ["a zone needs at least 3 distinct points"]
    bowtie = [[50.7, -1.4], [50.8, -1.2], [50.7, -1.2], [50.8, -1.4]]
    assert "cross" in polygon_problems(bowtie)[0]
    assert "collinear" in polygon_problems([[0, 0], [1, 1], [2, 2]])[0]
    assert "out of range" in polygon_problems([[95, 0], [1, 1], [2, 0]])[0]
    node = Node()
    with pytest.raises(Invalid) as err:
        node.mda.create_zone(
            node.caller(),
            ZoneIn(label="U", name=Name(en="bow tie"), polygon=bowtie),
        )
    assert "cross" in str(err.value)


# -- the catalog -----------------------------------------------------------------------------


def test_catalog_is_complete_and_names_every_kind() -> None:
    assert missing_keys("kizuna.mda") == {"en": [], "ja": []}
    for kind in EVENT_TYPES:
        assert CATALOG.has(f"type.{kind}") and CATALOG.has(f"title.{kind}")
    for key in (
        *(f"status.{s}" for s in EVENT_STATUSES),
        *(f"verdict.{v}" for v in VERDICTS),
        *(f"spoofing.kind.{k}" for k in SPOOF_KINDS),
        *(f"spoofing.reason.{r}" for r in SPOOF_REASONS),
        *(f"zone.kind.{k}" for k in ZONE_EVENT_KINDS),
        *(f"zonekind.{k}" for k in ZONE_KINDS),
    ):
        assert CATALOG.has(key), key


def test_glossary_terms() -> None:
    ja = {k: CATALOG.get("ja", k) for k in ("domain", "ais", "suspicious_vessel")}
    assert ja == {
        "domain": "海洋状況把握",
        "ais": "船舶自動識別装置（AIS）",
        "suspicious_vessel": "不審船",
    }
    assert "瀬取り" in CATALOG.get("ja", "type.encounter")
    assert CATALOG.get("ja", "zonekind.territorial_sea") == "領海"
    assert CATALOG.get("ja", "zonekind.eez") == "排他的経済水域"
