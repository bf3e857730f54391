"""Views fused and encoded once for every session (picture/shown.py): the same JSON the API
gives, per release mask, re-encoded when the entry or its staleness changes."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from kizuna.core.label_view import LabelView
from kizuna.kernel.testing import memory_context
from kizuna.picture.service import PictureService, track_view
from kizuna.picture.shown import COMPACT_DEFAULTS, LABEL_NUMBERS
from tests.picture.support import (
    AUS_C,
    JPN_S,
    PRINCIPALS,
    S_NOFORN,
    S_REL_JPN,
    US_TS,
    Clock,
    U,
    track,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def picture(tmp_path: Path, clock: Clock) -> PictureService:
    ctx = memory_context("usfj", "USA", root=tmp_path)
    return PictureService(ctx, clock=clock, grace=60, sweep_interval=1e9)


def expected(picture: PictureService, tid: str, principal: object, now: float) -> object:
    """What the API's own path (view_of, track_view) says, as JSON, or None."""
    entry = picture.entry(tid)
    assert entry is not None
    view = picture.view_of(entry, principal, now)  # type: ignore[arg-type]
    return None if view is None else json.loads(msgspec.json.encode(track_view(view, now)))


def shown_json(picture: PictureService, tid: str, principal: object, now: float) -> object:
    entry = picture.entry(tid)
    assert entry is not None
    shown = picture.shown(tid, entry, principal, now)  # type: ignore[arg-type]
    return None if shown is None else json.loads(bytes(shown.json(now)))


def test_each_principal_gets_what_the_api_gives_it(picture: PictureService) -> None:
    picture.ingest(
        [
            track("ship", source="ais", source_id="431", t=900, lat=30.0, label=U),
            track("ship", source="cot", source_id="SHIP", t=950, lat=30.5, label=S_NOFORN),
            track("rel", t=950, label=S_REL_JPN),
            track("nf", t=950, label=S_NOFORN),
        ]
    )
    for tid in ("ship", "rel", "nf"):
        for principal in PRINCIPALS:
            assert shown_json(picture, tid, principal, 1000) == expected(
                picture, tid, principal, 1000
            ), (tid, principal.nation)
    # The NOFORN source is in the US view, not in JPN's, and AUS sees neither secret track.
    us, jp = shown_json(picture, "ship", US_TS, 1000), shown_json(picture, "ship", JPN_S, 1000)
    assert isinstance(us, dict) and isinstance(jp, dict)
    assert (us["source"], len(us["sources"])) == ("cot", 2)
    assert (jp["source"], [p["source"] for p in jp["sources"]]) == ("ais", ["ais"])
    assert shown_json(picture, "rel", AUS_C, 1000) is None
    assert shown_json(picture, "nf", JPN_S, 1000) is None


def test_one_encoding_per_mask_until_the_entry_changes(picture: PictureService) -> None:
    picture.ingest([track("ship", t=900, label=U)])
    entry = picture.entry("ship")
    assert entry is not None
    us = picture.shown("ship", entry, US_TS, 1000)
    jp = picture.shown("ship", entry, JPN_S, 1000)
    assert us is not None and us is jp  # the same observations visible: one view
    assert us.json(1000) is jp.json(1000)  # encoded once

    picture.ingest([track("ship", t=950, lat=31.0, label=U)])
    moved = picture.entry("ship")
    assert moved is not None and moved is not entry
    again = picture.shown("ship", moved, JPN_S, 1000)
    assert again is not None and again is not us
    assert json.loads(bytes(again.json(1000)))["lat"] == 31.0


def test_staleness_and_expiry_follow_the_clock(picture: PictureService) -> None:
    picture.ingest([track("ship", t=900, stale=100, label=U)])  # stale at 1000
    entry = picture.entry("ship")
    assert entry is not None
    shown = picture.shown("ship", entry, JPN_S, 990)
    assert shown is not None
    assert json.loads(bytes(shown.json(990)))["stale"] is False
    assert json.loads(bytes(shown.json(1001)))["stale"] is True
    assert json.loads(bytes(shown.json(1001))) == expected(picture, "ship", JPN_S, 1001)
    # Past the grace period (60 s) the view is gone, as from view_of.
    assert picture.shown("ship", entry, JPN_S, 1061) is None


def test_quarantined_tracks_are_not_shown(picture: PictureService) -> None:
    picture.ingest([track("ex", t=900, label=U), track("real", t=900, label=U)])
    picture.quarantine(lambda view: view.id == "ex")
    for tid, visible in (("ex", False), ("real", True)):
        entry = picture.entry(tid)
        assert entry is not None
        assert (picture.shown(tid, entry, US_TS, 1000) is not None) is visible


def whole(compact: dict[str, object]) -> dict[str, object]:
    """A compact item made whole, as a client does (LABEL_NUMBERS gives the label's fields)."""
    number = compact.pop("l")
    assert isinstance(number, int)
    return {**COMPACT_DEFAULTS, **LABEL_NUMBERS.table([number])[str(number)], **compact}


def test_the_compact_form_is_the_full_one_less_its_label_and_usual_values(
    picture: PictureService,
) -> None:
    picture.ingest(
        [
            track("plain", t=900, stale=100, label=U),  # stale at 1000
            # Values equal to a default's but of another type (0.0, not None or False) stay.
            track(
                "full",
                t=950,
                label=S_REL_JPN,
                course=0.0,
                speed=0.0,
                hae=0.0,
                mmsi=431000001,
                name="SHIP",
                callsign="SHIP",
                remarks="on station",
                ship_type=70,
            ),
        ]
    )
    for tid, now in (("plain", 990), ("plain", 1001), ("full", 990)):
        entry = picture.entry(tid)
        assert entry is not None
        shown = picture.shown(tid, entry, JPN_S, now)
        assert shown is not None
        compact = json.loads(bytes(shown.compact(now)))
        assert not set(compact) & {"label", "label_ja", "rel_to", "classification"}
        assert whole(compact) == expected(picture, tid, JPN_S, now), (tid, now)
    plain = picture.entry("plain")
    assert plain is not None
    shown = picture.shown("plain", plain, JPN_S, 990)
    assert shown is not None
    full, compact = (json.loads(bytes(f(990))) for f in (shown.json, shown.compact))
    usual = {k for k, v in COMPACT_DEFAULTS.items() if full[k] == v and type(full[k]) is type(v)}
    assert {"stale", "mmsi", "remarks"} <= usual
    assert set(full) - set(compact) == usual | set(LabelView.__struct_fields__)
    assert "stale" in json.loads(bytes(shown.compact(1001)))  # stale now: not the usual value
