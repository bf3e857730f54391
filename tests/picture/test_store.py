"""Track storage: R*Tree queries against a brute-force filter, bounded history."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kizuna.picture import rules
from kizuna.picture.models import Track
from kizuna.picture.rules import BBox
from kizuna.store.tracks import EntryRow, TrackStore
from tests.picture.support import track


def _rows(n: int, rnd: random.Random) -> list[EntryRow]:
    rows = []
    for i in range(n):
        lon = rnd.choice([rnd.uniform(120, 150), rnd.uniform(170, 180), rnd.uniform(-180, -170)])
        obs = (rules.normalise(track(f"t{i}", lat=rnd.uniform(0, 45), lon=lon)),)
        rows.append(EntryRow(f"t{i}", obs, rules.box_of(obs), i + 1))
    return rows


@pytest.fixture
def store(tmp_path: Path) -> TrackStore:
    return TrackStore(tmp_path / "kizuna.db", item_type=Track, history_points=100, history_slack=10)


def test_bbox_queries_match_brute_force(store: TrackStore) -> None:
    rnd = random.Random(7)
    rows = _rows(5000, rnd)
    store.write(rows)
    boxes = [
        BBox(139, 30, 140, 31),
        BBox(120, 0, 150, 45),
        BBox(175, 10, -175, 20),
        BBox(0, 0, 1, 1),
        BBox(-180, -90, 180, 90),
    ]
    boxes += [
        BBox(x, y, x + rnd.uniform(0.1, 5), y + rnd.uniform(0.1, 5))
        for x, y in ((rnd.uniform(118, 150), rnd.uniform(0, 40)) for _ in range(50))
    ]
    for box in boxes:
        got = {tid for tid in store.query_bbox(box.parts())}
        expected = {
            r.id for r in rows if box.contains(r.observations[0].lat, r.observations[0].lon)
        }
        # R*Tree boxes are rounded outwards: a superset, exact after the contains() check.
        assert expected <= got
        exact = {
            r.id
            for r in rows
            if r.id in got and box.contains(r.observations[0].lat, r.observations[0].lon)
        }
        assert exact == expected
        assert len(got - expected) <= max(3, len(expected) // 100)


def test_state_survives_reopen_and_removal_deletes(store: TrackStore, tmp_path: Path) -> None:
    rows = _rows(10, random.Random(1))
    store.write(rows, history=[r.observations[0] for r in rows], removed=[])
    store.write([], removed=["t3"])
    store.close()
    again = TrackStore(tmp_path / "kizuna.db", item_type=Track)
    loaded = {tid: (obs, v) for tid, obs, v in again.load()}
    assert set(loaded) == {f"t{i}" for i in range(10)} - {"t3"}
    assert loaded["t1"][0] == list(rows[1].observations)
    assert again.max_version() == 10
    assert again.history_rows("t3") == 0 and again.history_rows("t2") == 1
    assert "t3" not in again.query_bbox([(-180, -90, 180, 90)])
    # a new entry never reuses a removed rid's history
    again.write([rows[3]])
    assert again.history_rows("t3") == 0


def test_history_is_bounded_per_track(store: TrackStore) -> None:
    obs = (rules.normalise(track("h", t=0)),)
    store.write([EntryRow("h", obs, rules.box_of(obs), 1)])
    for batch in range(10):
        points = [
            rules.normalise(track("h", t=float(batch * 60 + i), lat=10 + i / 100))
            for i in range(60)
        ]
        store.write([], history=points)
        assert store.history_rows("h") <= 110
    newest = store.history("h", since=0, limit=1000)
    assert len(newest) == store.history_rows("h") >= 100
    assert newest[-1].observed_at == 599.0
    assert [p.observed_at for p in newest] == sorted(p.observed_at for p in newest)
    assert [p.observed_at for p in store.history("h", since=590, limit=5)] == [
        595.0,
        596.0,
        597.0,
        598.0,
        599.0,
    ]


def test_changed_since_is_a_resumable_feed(store: TrackStore) -> None:
    rows = _rows(25, random.Random(3))
    store.write(rows)
    seen, cursor = [], 0
    while True:
        batch = store.changed_since(cursor, 10)
        if not batch:
            break
        seen += [tid for tid, _obs, _v in batch]
        cursor = batch[-1][2]
    assert seen == [r.id for r in rows]
