"""SpatialIndex contract: latest items per entry, bbox candidates, change feed, bounded history.

The item type is a small Struct of this test's own: the index knows no domain.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.labels import Label
from kizuna.store.base import Backend, EntryRow, SpatialIndex
from tests.store.contract.support import SECRET, BackendFactory, Opener, U, scratch


class Beacon(msgspec.Struct, kw_only=True, frozen=True):
    """An item with a position: what a spatial index holds."""

    id: str
    source: str
    source_id: str
    lat: float
    lon: float
    observed_at: float
    stale_at: float
    label: Label
    course: float | None = None
    speed: float | None = None
    note: str = ""


def beacon(entry: str, lat: float, lon: float, t: float = 0.0, **kw: Any) -> Beacon:
    fields: dict[str, Any] = {"source": "radio", "source_id": entry, "label": U}
    fields.update(kw)
    return Beacon(id=entry, lat=lat, lon=lon, observed_at=t, stale_at=t + 300.0, **fields)


def row(entry: str, items: Sequence[Beacon], version: int) -> EntryRow:
    """An entry's row; its box (minlon, maxlon, minlat, maxlat) covers every item."""
    lons = [b.lon for b in items]
    lats = [b.lat for b in items]
    return EntryRow(entry, tuple(items), (min(lons), max(lons), min(lats), max(lats)), version)


class Indexes:
    def __init__(self) -> None:
        self.opened: list[SpatialIndex[Any]] = []

    def __call__(self, backend: Backend, **options: Any) -> SpatialIndex[Any]:
        index = backend.spatial_index(Beacon, **options)
        self.opened.append(index)
        return index

    def close_all(self) -> None:
        for index in self.opened:
            index.close()


@pytest.fixture
def indexes() -> Iterator[Indexes]:
    opened = Indexes()
    yield opened
    opened.close_all()


@pytest.fixture
def index(backend: Backend, indexes: Indexes) -> SpatialIndex[Any]:
    return indexes(backend, history_points=20, history_slack=5)


WORLD = [(-180.0, -90.0, 180.0, 90.0)]


def test_write_and_load(index: SpatialIndex[Any]) -> None:
    assert list(index.load()) == [] and index.max_version() == 0
    a = [beacon("a", 35.0, 139.0, note="first"), beacon("a", 35.1, 139.2, source="ais")]
    b = [beacon("b", -33.9, 151.2, label=SECRET, course=90.0, speed=5.5)]
    index.write([row("a", a, 1), row("b", b, 2)])
    loaded = {entry: (items, version) for entry, items, version in index.load()}
    assert loaded == {"a": (a, 1), "b": (b, 2)}
    assert all(isinstance(item, Beacon) for items, _ in loaded.values() for item in items)
    assert index.max_version() == 2
    a2 = [beacon("a", 36.0, 140.0, t=10.0)]
    index.write([row("a", a2, 3)])  # the latest items replace the entry's
    loaded = {entry: (items, version) for entry, items, version in index.load()}
    assert loaded == {"a": (a2, 3), "b": (b, 2)}
    assert index.max_version() == 3
    index.write([])  # nothing to write is fine


def _inside(part: tuple[float, float, float, float], b: Beacon) -> bool:
    minlon, minlat, maxlon, maxlat = part
    return minlon <= b.lon <= maxlon and minlat <= b.lat <= maxlat


def test_bbox_candidates_cover_the_box(index: SpatialIndex[Any]) -> None:
    rnd = random.Random(11)
    items = {}
    for i in range(600):
        lon = rnd.choice([rnd.uniform(120, 150), rnd.uniform(175, 180), rnd.uniform(-180, -175)])
        items[f"e{i}"] = [beacon(f"e{i}", rnd.uniform(0, 45), lon)]
    index.write([row(e, its, v) for v, (e, its) in enumerate(items.items(), start=1)])
    queries: list[list[tuple[float, float, float, float]]] = [
        WORLD,
        [(139.0, 30.0, 140.0, 31.0)],
        [(0.0, 0.0, 1.0, 1.0)],
        [(178.0, 10.0, 180.0, 20.0), (-180.0, 10.0, -178.0, 20.0)],  # across the antimeridian
    ]
    for _ in range(40):
        x, y = rnd.uniform(118, 150), rnd.uniform(0, 40)
        queries.append([(x, y, x + rnd.uniform(0.01, 5), y + rnd.uniform(0.01, 5))])
    for parts in queries:
        got = index.query_bbox(parts)
        assert len(got) == len(set(got))  # each candidate once, even across parts
        expected = {e for e, its in items.items() if any(_inside(p, its[0]) for p in parts)}
        assert expected <= set(got)  # never misses
        # candidates are near the box (no margin asked): the caller's exact check is cheap
        near = [(a - 0.01, b - 0.01, c + 0.01, d + 0.01) for a, b, c, d in parts]
        assert all(any(_inside(p, items[e][0]) for p in near) for e in got)


def test_bbox_finds_an_entry_by_any_of_its_items(index: SpatialIndex[Any]) -> None:
    spread = [beacon("s", 10.0, 100.0), beacon("s", 12.0, 104.0, source="ais")]
    index.write([row("s", spread, 1)])
    assert index.query_bbox([(99.0, 9.0, 100.5, 10.5)]) == ["s"]
    assert index.query_bbox([(103.5, 11.5, 105.0, 13.0)]) == ["s"]
    assert index.query_bbox([(0.0, 0.0, 1.0, 1.0)]) == []


@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_a_moved_entry_is_found_where_it_is(
    backend: Backend, indexes: Indexes, margin: float
) -> None:
    index = indexes(backend, box_margin=margin)
    lat = 20.0
    for version in range(1, 40):
        lat += 0.05  # small steps: with a margin most stay inside the stored box
        index.write([row("m", [beacon("m", lat, 130.0, t=float(version))], version)])
        assert index.query_bbox([(129.99, lat - 0.001, 130.01, lat + 0.001)]) == ["m"]
    # far from where it started, it is not a candidate there any more
    assert index.query_bbox([(129.0, 19.0, 131.0, 20.05 + margin / 2)]) == []


def degrees(bound: float) -> st.SearchStrategy[float]:
    """Coordinates to a nanodegree (sub-millimetre): finer than any feed reports. (Values
    below float32's range, such as 1e-130, collapse to 0 in an R*Tree and may be missed.)"""
    return st.floats(-bound, bound).map(lambda x: round(x, 9))


@settings(max_examples=40)
@given(
    st.lists(st.tuples(degrees(90), degrees(180)), min_size=1, max_size=30, unique=True),
    st.tuples(degrees(180), degrees(180), degrees(90), degrees(90)),
)
def test_bbox_never_misses(
    backend_factory: BackendFactory,
    points: list[tuple[float, float]],
    corners: tuple[float, float, float, float],
) -> None:
    x1, x2, y1, y2 = corners
    part = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    with scratch(backend_factory) as open_backend:
        backend = open_backend("usfj")
        index = backend.spatial_index(Beacon)
        try:
            items = {f"p{i}": beacon(f"p{i}", lat, lon) for i, (lat, lon) in enumerate(points)}
            index.write([row(e, [b], 1) for e, b in items.items()])
            got = set(index.query_bbox([part]))
            assert {e for e, b in items.items() if _inside(part, b)} <= got
        finally:
            index.close()


def test_changed_since_is_a_resumable_feed(index: SpatialIndex[Any]) -> None:
    index.write([row(f"e{v}", [beacon(f"e{v}", 1.0, float(v))], v) for v in range(1, 26)])
    assert index.changed_since(25, 10) == []
    seen, cursor = [], 0
    while batch := index.changed_since(cursor, 10):
        assert len(batch) <= 10
        assert all(version > cursor for _, _, version in batch)
        seen += [entry for entry, _, _ in batch]
        cursor = batch[-1][2]
    assert seen == [f"e{v}" for v in range(1, 26)]  # in version order
    # a changed entry comes again once, with its latest items and version; removed ones go
    moved = [beacon("e3", 2.0, 3.0, t=5.0)]
    index.write([row("e3", moved, 26)], removed=["e7"])
    assert index.changed_since(cursor, 10) == [("e3", moved, 26)]
    assert "e7" not in [entry for entry, _, _ in index.changed_since(0, 100)]
    assert [entry for entry, _, _ in index.changed_since(0, 100)].count("e3") == 1


def test_removal_forgets_the_entry(index: SpatialIndex[Any]) -> None:
    index.write(
        [row("a", [beacon("a", 1.0, 1.0)], 1), row("b", [beacon("b", 1.0, 1.0)], 2)],
        history=[beacon("a", 1.0, 1.0, t=float(t)) for t in range(3)],
    )
    assert len(index.history("a", 0.0, 100)) == 3
    index.write([], removed=["a", "never-was"])
    assert [entry for entry, _, _ in index.load()] == ["b"]
    assert index.query_bbox(WORLD) == ["b"]
    assert index.history("a", 0.0, 100) == []
    # the same id again starts afresh: no history of its earlier life
    index.write([row("a", [beacon("a", 2.0, 2.0, t=50.0)], 3)])
    assert index.history("a", 0.0, 100) == []
    index.write([], history=[beacon("a", 2.0, 2.0, t=51.0)])
    assert [p.observed_at for p in index.history("a", 0.0, 100)] == [51.0]


def test_history_window_and_order(index: SpatialIndex[Any]) -> None:
    index.write([row("h", [beacon("h", 10.0, 10.0)], 1)])
    points = [
        beacon("h", 10.0 + t / 100, 10.0, t=float(t), course=float(t), speed=1.0) for t in range(10)
    ]
    index.write([], history=points[5:])
    index.write([], history=points[:5])  # older than the trail's last point: dropped
    got = index.history("h", 0.0, 100)
    assert [p.observed_at for p in got] == [5.0, 6.0, 7.0, 8.0, 9.0]
    p = got[0]
    assert (p.lat, p.lon, p.course, p.speed, p.label) == (10.05, 10.0, 5.0, 1.0, U)
    # the newest `limit` points at or after `since`, oldest first
    assert [p.observed_at for p in index.history("h", 6.0, 2)] == [8.0, 9.0]
    assert [p.observed_at for p in index.history("h", 7.0, 100)] == [7.0, 8.0, 9.0]
    assert index.history("h", 100.0, 100) == []
    assert index.history("unknown", 0.0, 100) == []
    # history of an entry the index does not hold is not kept
    index.write([], history=[beacon("ghost", 0.0, 0.0, t=1.0)])
    assert index.history("ghost", 0.0, 100) == []


def test_history_is_bounded_per_entry_keeping_the_newest(index: SpatialIndex[Any]) -> None:
    """history_points=20, history_slack=5: at most 25 points per entry, across its sources."""
    index.write([row("h", [beacon("h", 0.0, 0.0)], 1)])
    for batch in range(10):
        index.write(
            [],
            history=[
                beacon("h", 0.0, 0.0, t=float(batch * 30 + i), source=source)
                for i in range(15)
                for source in ("radio", "ais")
            ],
        )
        held = index.history("h", 0.0, 1000)
        assert 0 < len(held) <= 25
    times = [p.observed_at for p in index.history("h", 0.0, 1000)]
    assert len(times) >= 20
    assert times == sorted(times) and times[-1] == 284.0
    assert min(times) >= 284.0 - 25  # the newest are kept


def test_history_thinning_per_source(backend: Backend, indexes: Indexes) -> None:
    index = indexes(
        backend,
        history_interval=10.0,
        history_heartbeat=60.0,
        history_min_move=25.0,
        history_distance=500.0,
    )
    index.write([row("t", [beacon("t", 35.0, 139.0)], 1)])
    radio = [
        beacon("t", 35.0, 139.0, t=0.0),  # first: kept
        beacon("t", 35.0, 139.0, t=0.0),  # not later: dropped
        *(beacon("t", 35.0, 139.0, t=float(t)) for t in range(1, 5)),  # within interval: dropped
        beacon("t", 35.01, 139.0, t=5.0),  # a jump of ~1.1 km: kept
        beacon("t", 35.0101, 139.0, t=20.0),  # moved ~11 m within heartbeat: dropped
        beacon("t", 35.011, 139.0, t=30.0),  # moved ~111 m: kept
        beacon("t", 35.011, 139.0, t=100.0),  # a heartbeat later: kept
        beacon("t", 35.011, 139.0, t=90.0),  # older than the last kept: dropped
    ]
    index.write([], history=radio[:5])
    index.write([], history=radio[5:])
    # another source about the same entry keeps its own trail, with its own label
    index.write([], history=[beacon("t", 35.0, 139.0, t=1.0, source="ais", label=SECRET)])
    got = index.history("t", 0.0, 100)
    assert [(p.observed_at, p.label) for p in got] == [
        (0.0, U),
        (1.0, SECRET),
        (5.0, U),
        (30.0, U),
        (100.0, U),
    ]


def test_spatial_state_survives_reopen(open_backend: Opener, indexes: Indexes) -> None:
    backend = open_backend("usfj")
    index = indexes(backend, history_points=20, history_slack=5)
    a = [beacon("a", 35.0, 139.0, label=SECRET)]
    index.write(
        [row("a", a, 1), row("b", [beacon("b", -10.0, -50.0)], 2)],
        history=[beacon("a", 35.0, 139.0, t=float(t)) for t in range(3)],
    )
    index.write([row("c", [beacon("c", 0.0, 0.0)], 3)], removed=["b"])
    before = (
        sorted(index.load()),
        index.max_version(),
        sorted(index.query_bbox(WORLD)),
        index.history("a", 0.0, 100),
        index.changed_since(0, 100),
    )
    index.close()
    indexes.opened.remove(index)

    backend = open_backend.reopen(backend)
    index = indexes(backend, history_points=20, history_slack=5)
    after = (
        sorted(index.load()),
        index.max_version(),
        sorted(index.query_bbox(WORLD)),
        index.history("a", 0.0, 100),
        index.changed_since(0, 100),
    )
    assert after == before
    assert sorted(e for e, _, _ in after[0]) == ["a", "c"]
    # a replayed point is still not later than the trail's last: dropped after a restart too
    index.write([], history=[beacon("a", 35.0, 139.0, t=2.0), beacon("a", 35.0, 139.0, t=3.0)])
    assert [p.observed_at for p in index.history("a", 0.0, 100)] == [0.0, 1.0, 2.0, 3.0]
    # entries written after the restart get their own place (no id collision)
    index.write([row("d", [beacon("d", 5.0, 5.0)], 4)])
    assert sorted(e for e, _, _ in index.load()) == ["a", "c", "d"]
    assert index.query_bbox([(4.0, 4.0, 6.0, 6.0)]) == ["d"]
