"""ISO 8601 timestamps: the fast formatter says exactly what datetime says."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.time import iso, parse_iso


def by_datetime(seconds: float) -> str:
    return (
        dt.datetime.fromtimestamp(seconds, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@given(st.floats(min_value=-2e9, max_value=2.5e11, allow_nan=False))
def test_iso_is_datetimes_format(seconds: float) -> None:
    assert iso(seconds) == by_datetime(seconds)


def test_iso_at_the_edges_of_a_second() -> None:
    for seconds in (0.0, 0.0005, 0.9994999, 0.9999995, 1.9999999, -0.0004, -1.5, 1796183003.1113):
        assert iso(seconds) == by_datetime(seconds), seconds
    assert iso(0.9999995) == "1970-01-01T00:00:01.000Z"  # microseconds round up a second
    assert parse_iso(iso(1796183003.125)) == 1796183003.125
