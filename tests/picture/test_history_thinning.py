"""History (trail) thinning in the picture: per object and source, the latest state untouched."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from kizuna.kernel.context import NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.picture.service import PictureService
from kizuna.store.base import HistoryPoint
from tests.picture.support import JPN_S, S_NOFORN, US_TS, Clock, U, track

M = 1 / 111_195.0  # degrees of latitude per metre


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return memory_context("usfj", "USA", root=tmp_path)


def picture_for(ctx: NodeContext) -> PictureService:
    return PictureService(ctx, clock=Clock(1200.0), grace=60, sweep_interval=1e9)


def times(points: list[HistoryPoint]) -> list[float]:
    return [p.observed_at for p in points]


def test_reports_one_second_apart_keep_points_ten_seconds_apart(ctx: NodeContext) -> None:
    picture = picture_for(ctx)
    # a ship at 5 m/s reporting every second, in batches of 7
    reports = [track("s", t=1000.0 + i, lat=35.0 + 5 * i * M) for i in range(25)]
    for k in range(0, 25, 7):
        picture.ingest(reports[k : k + 7])
    got = times(picture.history(US_TS, "s"))
    assert got == [1000.0, 1010.0, 1020.0]
    assert all(b - a >= picture.history_interval for a, b in pairwise(got))
    newest = picture.visible(US_TS, "s")
    assert newest is not None and (newest.observed_at, newest.lat) == (1024.0, reports[-1].lat)


def test_stationary_heartbeat_and_jumps(ctx: NodeContext) -> None:
    picture = picture_for(ctx)
    # moored: a report every 10 s within a few metres → one point per heartbeat (60 s)
    picture.ingest([track("m", t=1000.0 + 10 * i, lat=35.0 + (i % 2) * 3 * M) for i in range(13)])
    assert times(picture.history(US_TS, "m")) == [1000.0, 1060.0, 1120.0]
    # a jump of 2 km one second later is kept; a report not after the last point is not
    picture.ingest([track("m", t=1121.0, lat=35.0 + 2000 * M), track("m", t=1119.0)])
    assert times(picture.history(US_TS, "m"))[-1] == 1121.0
    assert len(picture.history(US_TS, "m")) == 4


def test_thinning_is_per_source_so_each_label_keeps_its_trail(ctx: NodeContext) -> None:
    picture = picture_for(ctx)
    # AIS (U) every 5 s, a NOFORN source every second: neither thins the other
    for i in range(21):
        batch = [track("x", source="cot", source_id="X", t=1000.0 + i, lat=36.0, label=S_NOFORN)]
        if i % 5 == 0:
            batch.append(track("x", source="ais", t=1000.0 + i, lat=35.0 + 10 * i * M, label=U))
        picture.ingest(batch)
    assert times(picture.history(JPN_S, "x")) == [1000.0, 1010.0, 1020.0]  # U points only
    assert times(picture.history(US_TS, "x")) == [1000.0, 1000.0, 1010.0, 1020.0]


def test_thinning_continues_across_restart(ctx: NodeContext) -> None:
    first = picture_for(ctx)
    first.ingest([track("r", t=1000.0)])
    first.close()
    again = picture_for(ctx)
    again.ingest([track("r", t=1005.0, lat=35.0 + 100 * M), track("r", t=1012.0, lat=35.001)])
    assert times(again.history(US_TS, "r")) == [1000.0, 1012.0]


def test_each_point_keeps_its_label_across_restart(ctx: NodeContext) -> None:
    first = picture_for(ctx)
    first.ingest([track("k", source="cot", source_id="K", t=999.0, label=S_NOFORN)])
    first.ingest([track("k", source="ais", t=1000.0, lat=35.5, label=U)])
    first.close()
    again = picture_for(ctx)
    again.ingest([track("k", source="ais", t=1100.0, lat=35.6, label=U)])
    assert [(p.observed_at, p.lat) for p in again.history(JPN_S, "k")] == [
        (1000.0, 35.5),
        (1100.0, 35.6),
    ]
    assert [p.label for p in again.history(US_TS, "k")] == [S_NOFORN, U, U]
