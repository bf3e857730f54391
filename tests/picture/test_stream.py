"""The picture's tracks as a federated stream: envelope, wire format, receipt."""

from __future__ import annotations

import zlib
from pathlib import Path

import msgspec
import pytest

from kizuna.kernel.streams import MAX_BATCH_BYTES, Envelope
from kizuna.kernel.testing import memory_context
from kizuna.picture import plugin
from kizuna.picture.models import Provenance
from kizuna.picture.service import PictureService
from kizuna.picture.stream import TrackStream
from tests.picture.support import S_REL_JPN, US_TS, U, track


@pytest.fixture
def picture(tmp_path: Path) -> PictureService:
    return PictureService(memory_context("jjoc", "JPN", root=tmp_path), clock=lambda: 1000.0)


def test_the_plugin_offers_one_track_stream(picture: PictureService) -> None:
    assert list(plugin.federated_types()) == ["track"]
    [stream] = plugin.streams(picture)
    assert isinstance(stream, TrackStream) and stream.name == "track"


def test_envelope_names_the_peer_that_delivered_a_track(picture: PictureService) -> None:
    stream = TrackStream(picture)
    own = track("a", label=S_REL_JPN)
    assert stream.envelope(own) == Envelope(label=S_REL_JPN, origin="", relayed_from=None, hops=0)
    relayed = track("b")
    relayed.sources[0].connection = "federation:usfj"
    assert stream.envelope(relayed).relayed_from == "usfj"
    assert stream.prepare(relayed, "aus") is relayed


def test_wire_round_trip_and_malformed_batches(picture: PictureService) -> None:
    stream = TrackStream(picture)
    batch = [track(f"t{i}", lat=30 + i / 10, label=U if i % 2 else S_REL_JPN) for i in range(50)]
    assert stream.decode(stream.encode(batch)) == batch
    for body in (
        b"not zlib",
        zlib.compress(b"\xc1"),  # not msgpack
        zlib.compress(msgspec.msgpack.encode([{"id": "x"}])),  # not tracks
        zlib.compress(b"\x00" * (MAX_BATCH_BYTES + 1)),  # inflates past the limit
    ):
        with pytest.raises(ValueError, match="malformed batch"):
            stream.decode(body)


def test_accept_marks_provenance_and_ingests(picture: PictureService) -> None:
    stream = TrackStream(picture)
    changed: list[int] = []
    stream.on_change(lambda: changed.append(1))
    fresh = track("ship", t=900)
    relayed = track("boat", t=900)
    relayed.sources[0].connection = "federation:aus"
    orphan = track("orphan", t=900)
    orphan.sources = []
    assert stream.accept("usfj", [fresh, relayed, orphan]) == 2
    assert changed == [1]  # one committed batch, one wake-up
    ship = picture.visible(US_TS, "ship")
    boat = picture.visible(US_TS, "boat")
    assert ship is not None and ship.sources[0].connection == "federation:usfj"
    assert boat is not None and boat.sources[0].connection == "federation:aus"  # kept
    assert picture.entry("orphan") is None
    # the change feed offers what arrived, for relay to other peers
    items, cursor = stream.changes_since(0, 100)
    assert sorted(t.id for t in items) == ["boat", "ship"] and cursor > 0
    assert stream.changes_since(cursor, 100) == ([], cursor)


def test_a_track_with_several_sources_is_marked_throughout(picture: PictureService) -> None:
    stream = TrackStream(picture)
    t = track("multi", t=900)
    t.sources.append(Provenance(source="cot", source_id="M", observed_at=900, connection="tcp"))
    stream.accept("usfj", [t])
    assert [p.connection for p in t.sources] == ["federation:usfj", "federation:usfj"]
