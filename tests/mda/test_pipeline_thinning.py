"""The pipeline thins what the spoofing detector sees; it must not thin away a decision."""

from __future__ import annotations

import msgspec

from kizuna.mda.detect.pipeline import Pipeline
from tests.mda.helpers import T0, steam


def _spoofing(events: list) -> set[tuple[str, tuple[str, ...]]]:
    return {(e.detail["kind"], e.vessels) for e in events if e.type == "spoofing"}


def test_names_alternating_between_thinned_positions_are_still_a_conflict() -> None:
    # A vessel reporting every 10 s for an hour; every fourth report names another ship.
    track = steam(235_000_111, T0, 3600, (50.45, -1.2), kn=8.0)
    fixes = [
        msgspec.structs.replace(f, name="OCEAN STAR" if n % 4 == 3 else "SEA WOLF")
        for n, f in enumerate(track)
    ]
    pipeline = Pipeline()
    events = pipeline.feed_many(fixes) + pipeline.tick(T0 + 7200)
    assert ("identity_conflict", ("235000111",)) in _spoofing(events)


def test_a_steady_vessel_with_one_name_raises_nothing_however_often_it_reports() -> None:
    for every in (2.0, 10.0, 60.0):
        fixes = steam(235_000_222, T0, 3600, (50.45, -1.2), kn=8.0, every=every, name="SEA WOLF")
        pipeline = Pipeline()
        events = pipeline.feed_many(fixes) + pipeline.tick(T0 + 7200)
        assert _spoofing(events) == set(), every
