"""The picture's track stream at receipt and send: who may deliver an observation, and
labels leaving with node-defined groups expanded (in process, no federation link)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.core.labels import parse_label
from kizuna.kernel.testing import memory_context
from kizuna.picture.service import PictureService
from kizuna.picture.stream import TrackStream
from tests.picture.support import U, track


@pytest.fixture
def picture(tmp_path: Path) -> PictureService:
    ctx = memory_context("usfj", "USA", root=tmp_path, groups={"ACM": ["USA", "JPN", "KOR"]})
    return PictureService(ctx, clock=lambda: 1000.0)


def test_a_peer_may_not_deliver_a_source_this_node_observes(picture: PictureService) -> None:
    ours = track("ais-431000000", source="ais", source_id="431000000", t=990.0)
    ours.sources[0].connection = "ais:udp"
    picture.ingest([ours])
    stream = TrackStream(picture)
    # The same source key, under the same object or another: ours, refused.
    same = track("ais-431000000", source="ais", source_id="431000000", t=995.0)
    other_id = track("decoy", source="ais", source_id="431000000", t=995.0)
    assert stream.refusal("jjoc", same) == "own_source"
    assert stream.refusal("jjoc", other_id) == "own_source"
    # Another source of the same object, or what a peer delivered: the peer's to send.
    assert stream.refusal("jjoc", track("ais-431000000", source="cot", t=995.0)) is None
    delivered = track("jp-1", t=995.0)
    assert stream.accept("jjoc", [delivered]) == 1
    assert stream.refusal("aus", track("jp-1", t=996.0)) is None
    # Observed locally after the stream first looked: known too (the picture's listener).
    late = track("cot-ANDROID-1", source="cot", source_id="ANDROID-1", t=997.0)
    late.sources[0].connection = "cot:tls:alice"
    picture.ingest([late])
    forged = track("cot-ANDROID-1", source="cot", source_id="ANDROID-1", t=998.0)
    assert stream.refusal("jjoc", forged) == "own_source"


def test_once_the_observation_is_no_longer_ours_a_peer_may_deliver_it(
    picture: PictureService,
) -> None:
    stream = TrackStream(picture)
    ours = track("x-1", t=990.0, stale=1.0)
    picture.ingest([ours])
    assert stream.refusal("jjoc", track("x-1", t=995.0)) == "own_source"
    picture.sweep(now=2000.0)  # ours went stale and was dropped
    assert picture.entry("x-1") is None
    assert stream.refusal("jjoc", track("x-1", t=995.0)) is None


def test_tracks_leave_with_node_defined_groups_expanded(picture: PictureService) -> None:
    stream = TrackStream(picture)
    acm = parse_label("S//REL TO ACM", groups=picture.ctx.groups)
    sent = stream.prepare(track("a", label=acm), "jjoc")
    assert sent.label.render() == "SECRET//REL TO USA, JPN, KOR"
    plain = track("b", label=U)
    assert stream.prepare(plain, "jjoc") is plain
