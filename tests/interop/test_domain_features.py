"""The MDA domain's features (events, zones) and their CoT markers, per reader."""

from __future__ import annotations

from kizuna.core.labels import DEFAULT_GROUPS, parse_label
from kizuna.mda import plugin as mda
from kizuna.mda.models import Name, ZoneIn
from kizuna.sources.cot.shapes import MARKER, SHAPE, event_for
from tests.mda.test_service import REL, Node, silent_vessel


def test_mda_events_and_zones_are_features_released_per_reader() -> None:
    node = Node()
    node.feed(silent_vessel(node.label(REL)), batch=200)
    node.mda.close()
    watch = node.caller("USA", "SECRET", ["watch"])
    node.mda.create_zone(
        watch,
        ZoneIn(
            label="C//REL TO USA, AUS",
            name=Name(en="Solent approach"),
            polygon=[[50.7, -1.4], [50.7, -1.2], [50.8, -1.2]],
        ),
    )
    us = mda.features(node.mda, node.caller("USA"))
    gap = next(f for f in us if f.record_type == "mda_event")
    assert gap.geometry["type"] == "Point" and gap.properties["type"] == "gap"
    assert (gap.time, gap.end) == ("2016-01-12T13:29:00.000Z", "2016-01-12T20:31:00.000Z")
    assert gap.label == "SECRET//REL TO USA, JPN" and gap.name["en"]
    zone = next(f for f in us if f.record_type == "mda_zone")
    ring = zone.geometry["coordinates"][0]
    assert ring[0] == ring[-1] == [-1.4, 50.7] and len(ring) == 4  # lon, lat; closed
    # JPN sees the event, not the zone; AUS the zone, not the event.
    assert {f.record_type for f in mda.features(node.mda, node.caller("JPN"))} == {"mda_event"}
    assert {f.record_type for f in mda.features(node.mda, node.caller("AUS"))} == {"mda_zone"}
    # As CoT for TAK clients: a marker for the event, a closed drawing for the zone.
    marker = event_for(gap, "usfj", DEFAULT_GROUPS, 1e9, 60.0)
    drawing = event_for(zone, "usfj", DEFAULT_GROUPS, 1e9, 60.0)
    assert marker is not None and drawing is not None
    assert marker.type == MARKER and marker.label == parse_label(REL)
    assert drawing.type == SHAPE and len([e for e in drawing.extra if e.tag == "link"]) == 4
