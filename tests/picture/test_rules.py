"""The merge rule and bounding boxes, property-tested."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.release import may_release
from kizuna.picture import rules
from kizuna.picture.models import Track
from kizuna.picture.rules import BBox, bbox_from_values, merge, merge_all, parse_bbox
from tests.picture.support import LABELS, PRINCIPALS, track

# Small domains so ties (same source key, same time) happen often.
reports = st.builds(
    lambda source, sid, t, lat, lon, label, callsign: rules.normalise(
        track(
            "obj",
            source=source,
            source_id=sid,
            t=float(t),
            lat=lat,
            lon=lon,
            label=label,
            callsign=callsign,
        )
    ),
    source=st.sampled_from(["ais", "cot", "manual"]),
    sid=st.sampled_from(["1", "2"]),
    t=st.integers(0, 5),
    lat=st.sampled_from([10.0, 10.5, 11.0]),
    lon=st.sampled_from([140.0, 141.0]),
    label=st.sampled_from(LABELS),
    callsign=st.sampled_from(["", "A", "B"]),
)
report_lists = st.lists(reports, max_size=12)


def per_key_newest(rs: list[Track]) -> dict[tuple[str, str], Track]:
    best: dict[tuple[str, str], Track] = {}
    for r in rs:
        key = rules.source_key(r)
        if key not in best or rules.newer(r, best[key]):
            best[key] = r
    return best


@given(report_lists, st.randoms(use_true_random=False))
def test_merge_is_order_independent(rs: list[Track], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    assert merge_all(rs) == merge_all(shuffled)


@given(report_lists)
def test_merge_is_idempotent_and_keeps_newest_per_source(rs: list[Track]) -> None:
    entry = merge_all(rs)
    assert merge_all(rs, entry) == entry
    assert merge_all(rs + rs) == entry
    assert {rules.source_key(o): o for o in entry} == per_key_newest(rs)
    assert [rules.source_key(o) for o in entry] == sorted(rules.source_key(o) for o in entry)


@given(report_lists, reports)
def test_late_reports_never_roll_back(rs: list[Track], late: Track) -> None:
    entry = merge_all(rs)
    current = {rules.source_key(o): o for o in entry}.get(rules.source_key(late))
    result = merge(entry, late)
    if current is not None and not rules.newer(late, current):
        assert result is None
    else:
        assert result is not None and late in result


@given(report_lists, st.randoms(use_true_random=False), st.integers(1, 3))
def test_source_cap_keeps_the_newest_in_any_order(rs: list[Track], rnd, cap: int) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    a = merge_all(rs, max_sources=cap)
    assert a == merge_all(shuffled, max_sources=cap)
    newest = sorted(per_key_newest(rs).values(), key=rules._order, reverse=True)[:cap]
    assert set(map(id, a)) <= set(map(id, rs))
    assert sorted(a, key=rules.source_key) == sorted(newest, key=rules.source_key)


@given(report_lists, st.sampled_from(PRINCIPALS))
def test_fuse_shows_only_what_the_principal_may_see(rs: list[Track], principal) -> None:  # type: ignore[no-untyped-def]
    entry = merge_all(rs)
    view = rules.fuse(entry, lambda label: may_release(label, principal))
    visible = [o for o in entry if may_release(o.label, principal)]
    if not visible:
        assert view is None
        return
    assert view is not None
    assert may_release(view.label, principal)
    assert (view.source, view.source_id, view.observed_at) == (
        lambda b: (b.source, b.source_id, b.observed_at)
    )(rules.newest(visible))
    assert {(p.source, p.source_id) for p in view.sources} == {rules.source_key(o) for o in visible}


def test_two_sources_merge_into_one_entry_with_provenance() -> None:
    ais = rules.normalise(track("ship-1", source="ais", source_id="431000001", t=10, lat=30.0))
    cot = rules.normalise(track("ship-1", source="cot", source_id="SHIP-1", t=20, lat=30.1))
    late_ais = rules.normalise(track("ship-1", source="ais", source_id="431000001", t=5))
    entry = merge_all([cot, ais, late_ais])
    view = rules.fuse(entry, lambda _label: True)
    assert view is not None and view.source == "cot" and view.lat == 30.1
    assert [(p.source, p.observed_at) for p in view.sources] == [("ais", 10), ("cot", 20)]


def test_expire_drops_only_old_observations() -> None:
    a = rules.normalise(track("x", source="ais", t=0, stale=10))
    b = rules.normalise(track("x", source="cot", t=0, stale=100))
    entry = merge_all([a, b])
    assert rules.expire(entry, 15, grace=10) is entry
    assert rules.expire(entry, 25, grace=10) == (b,)
    assert rules.expire(entry, 200, grace=10) == ()


lons = st.floats(-180, 180)
lats = st.floats(-90, 90)


@given(lons, lats, lons, lats, lats, lons)
def test_bbox_contains_agrees_with_its_parts(a, b, c, d, lat, lon) -> None:  # type: ignore[no-untyped-def]
    minlat, maxlat = sorted((b, d))
    box = bbox_from_values([a, minlat, c, maxlat])
    in_parts = any(x0 <= lon <= x1 and y0 <= lat <= y1 for x0, y0, x1, y1 in box.parts())
    assert box.contains(lat, lon) == in_parts
    assert box.intersects((lon, lon, lat, lat)) == in_parts


def test_parse_bbox() -> None:
    assert parse_bbox("139, 35,140,36") == BBox(139.0, 35.0, 140.0, 36.0)
    assert parse_bbox("170,10,-170,20").crosses_antimeridian
    for bad in (
        "",
        "1,2,3",
        "1,2,3,4,5",
        "a,b,c,d",
        "0,0,181,1",
        "0,-91,1,1",
        "0,5,1,4",
        "nan,0,1,1",
        "inf,0,1,1",
        "0,0,1," + "1" * 300,
    ):
        with pytest.raises(ValueError):
            parse_bbox(bad)
    assert not math.isnan(parse_bbox("-180,-90,180,90").maxlat)


def test_report_problems() -> None:
    ok = track("a", t=100)
    assert rules.report_problem(ok, now=100, max_future=60) is None
    assert rules.report_problem(track("a", t=1000), now=100, max_future=60) is not None
    assert rules.report_problem(track("a", lat=95), now=1000, max_future=60) is not None
    assert rules.report_problem(track("a", lon=float("nan")), now=1000, max_future=60)
    assert rules.report_problem(track(""), now=1000, max_future=60) is not None
