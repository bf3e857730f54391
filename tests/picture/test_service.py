"""PictureService in-process, on an in-memory node context: ingest, release, stale, hooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.core.release import may_release
from kizuna.kernel.context import NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.picture.models import Track
from kizuna.picture.rules import parse_bbox
from kizuna.picture.service import PictureService, track_view
from tests.picture.support import AUS_C, JPN_S, S_NOFORN, S_REL_JPN, US_TS, Clock, U, track


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return memory_context("usfj", "USA", root=tmp_path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def picture(ctx: NodeContext, clock: Clock) -> PictureService:
    return PictureService(ctx, clock=clock, grace=60, sweep_interval=1e9)


def test_ingest_merges_sources_and_keeps_release_per_observation(picture: PictureService) -> None:
    picture.ingest(
        [
            track("ship", source="ais", source_id="431", t=900, lat=30.0, label=U),
            track("ship", source="cot", source_id="SHIP", t=950, lat=30.5, label=S_NOFORN),
        ]
    )
    us = picture.visible(US_TS, "ship")
    jp = picture.visible(JPN_S, "ship")
    assert us is not None and us.source == "cot" and len(us.sources) == 2
    # JPN sees the unclassified AIS view only — and no trace of the NOFORN source.
    assert jp is not None and jp.source == "ais" and jp.lat == 30.0
    assert [p.source for p in jp.sources] == ["ais"]
    assert picture.visible(JPN_S, "nothing") is None


def test_late_reports_are_unchanged_and_bad_ones_rejected(picture: PictureService) -> None:
    r = picture.apply([track("a", t=900, lat=1.0)])
    assert r.accepted == 1
    r = picture.apply([track("a", t=800, lat=2.0), track("a", t=900, lat=1.0)])
    assert (r.accepted, r.unchanged) == (0, 2)
    assert picture.visible(US_TS, "a").lat == 1.0  # type: ignore[union-attr]
    r = picture.apply([track("b", lat=91.0), track("c", t=5000.0), track("d", lon=float("inf"))])
    assert r.rejected == 3 and len(picture) == 1


def test_query_filters_release_and_bbox(picture: PictureService) -> None:
    labels = [U, S_REL_JPN, S_NOFORN]
    tracks = [
        track(f"t{i}", lat=30 + (i % 10), lon=130 + (i // 10), label=labels[i % 3])
        for i in range(100)
    ]
    picture.ingest(tracks)
    box = parse_bbox("131.5,32.5,135.5,36.5")
    for principal in (US_TS, JPN_S, AUS_C):
        expected = sorted(
            t.id for t in tracks if may_release(t.label, principal) and box.contains(t.lat, t.lon)
        )
        assert [t.id for t in picture.query(principal, box)] == expected
    assert all(t.label != S_NOFORN for t in picture.query(JPN_S))


def test_stale_flag_then_sweep_removes(picture: PictureService, clock: Clock) -> None:
    picture.ingest([track("s", t=1000, stale=10)])
    assert track_view(picture.visible(US_TS, "s"), clock.now).stale is False  # type: ignore[arg-type]
    clock.now = 1011
    view = picture.visible(US_TS, "s")
    assert view is not None and track_view(view, clock.now).stale is True
    assert picture.sweep() == 0
    clock.now = 1071  # past stale + grace: hidden at once, removed by the sweep
    assert picture.visible(US_TS, "s") is None
    assert picture.sweep() == 1
    assert picture.entry("s") is None and picture.store.history_rows("s") == 0


def test_hooks_for_federation(picture: PictureService, tmp_path: Path, clock: Clock) -> None:
    got: list[list[Track]] = []
    picture.on_tracks(got.append)
    picture.ingest([track("a", t=900), track("b", t=900)])
    picture.ingest([track("a", t=800)])  # late: no callback
    picture.ingest([track("a", t=950, lat=10.0)])
    assert [[t.id for t in batch] for batch in got] == [["a", "b"], ["a"]]
    changes, cursor = picture.changes_since(0)
    assert sorted(t.id for t in changes) == ["a", "b"]
    assert picture.changes_since(cursor) == ([], cursor)
    # A peer applying the feed reaches the same state; replays are harmless.
    (tmp_path / "jjoc").mkdir()
    peer = PictureService(memory_context("jjoc", "JPN", root=tmp_path / "jjoc"), clock=clock)
    assert peer.apply(changes).accepted == 2
    assert peer.apply(changes + changes).accepted == 0
    assert peer.visible(US_TS, "a") == picture.visible(US_TS, "a")
    assert peer.visible(US_TS, "a").lat == 10.0  # type: ignore[union-attr]


def test_state_persists_across_restart(ctx: NodeContext, clock: Clock) -> None:
    first = PictureService(ctx, clock=clock)
    first.ingest([track("p", t=900, lat=12.0)])
    first.close()
    again = PictureService(ctx, clock=clock)
    assert again.visible(US_TS, "p").lat == 12.0  # type: ignore[union-attr]
    assert [t.id for t in again.query(US_TS, parse_bbox("138,11,140,13"))] == ["p"]


def _committed(ctx: NodeContext, track_id: str) -> int:
    """Rows for ``track_id`` in SQLite, read through a separate connection."""
    import sqlite3

    with sqlite3.connect(ctx.backend.path) as db:  # type: ignore[attr-defined]
        return int(
            db.execute("SELECT count(*) FROM tracks WHERE id = ?", (track_id,)).fetchone()[0]
        )


def test_commits_are_grouped_but_reads_and_close_see_everything(
    ctx: NodeContext, clock: Clock
) -> None:
    picture = PictureService(ctx, clock=clock, sweep_interval=1e9, persist_interval=3600)
    picture.ingest([track("g", t=900, lat=10.0)])  # the first batch: committed at once
    picture.ingest([track("g", t=950, lat=10.5), track("h", t=950, lat=11.0)])
    # live at once, not yet in SQLite
    seen = picture.visible(US_TS, "h")
    assert seen is not None and seen.lat == 11.0 and _committed(ctx, "h") == 0
    # a store-backed read commits what is pending first
    assert [t.id for t in picture.query(US_TS, parse_bbox("138.9,10.9,139.1,11.1"))] == ["h"]
    assert _committed(ctx, "h") == 1
    assert [p.observed_at for p in picture.history(US_TS, "g")] == [900.0, 950.0]
    picture.ingest([track("k", t=960)])
    picture.close()
    again = PictureService(ctx, clock=clock, sweep_interval=1e9)
    assert {"g", "h", "k"} <= {t.id for t in again.query(US_TS)}
    assert again.visible(US_TS, "g") is not None and again.visible(US_TS, "g").lat == 10.5


def test_a_full_queue_commits_without_waiting(ctx: NodeContext, clock: Clock) -> None:
    picture = PictureService(
        ctx, clock=clock, sweep_interval=1e9, persist_interval=3600, persist_max=10
    )
    picture.ingest([track("q0", t=900)])
    picture.ingest([track(f"q{i}", t=900) for i in range(1, 6)])
    assert _committed(ctx, "q5") == 0
    picture.ingest([track(f"q{i}", t=900) for i in range(6, 12)])  # 11 pending ≥ 10
    assert _committed(ctx, "q11") == 1 and _committed(ctx, "q5") == 1


def test_a_failed_commit_keeps_the_picture_and_retries(
    ctx: NodeContext, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = PictureService(ctx, clock=clock, sweep_interval=1e9, persist_interval=0)
    store = picture.store
    real_write = store.write

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "write", broken)
    picture.ingest([track("f", t=900, lat=5.0)])  # no exception reaches the source
    assert picture.visible(US_TS, "f") is not None and _committed(ctx, "f") == 0
    clock.now = 900 + 600 + picture.grace + 1  # stale past grace
    assert picture.sweep() == 0 and picture.entry("f") is not None  # nothing half-done
    monkeypatch.setattr(store, "write", real_write)
    assert picture.persist() and _committed(ctx, "f") == 1
    assert picture.sweep() == 1 and picture.entry("f") is None and _committed(ctx, "f") == 0


def test_report_listeners_get_every_valid_report_of_a_batch_in_order() -> None:
    """Analytics (MDA) see each position, not only the newest per vessel of a batch."""
    svc = PictureService(memory_context(), clock=lambda: 1000.0)
    seen: list[list[tuple[str, float]]] = []
    svc.on_reports(lambda reports: seen.append([(t.id, t.observed_at) for t in reports]))
    batch = [track(f"v{n % 2}", t=940.0 + n) for n in range(6)]
    bad = track("v9", t=1000.0 + 10_000)  # in the future: refused, not passed on
    svc.ingest([*batch, bad])
    assert seen == [[(t.id, t.observed_at) for t in batch]]
