"""Our CAP 1.2 corpus (tests/sources/alerts/cap/README.md says what each file is for)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kizuna.sources.alerts.service import alert_files
from tests.incidents.support import caller, event_count, start

CHAIN = ("01_alert.xml", "02_update.xml", "03_cancel.xml")


def test_alert_update_cancel_is_one_incident_in_two_languages(cap_dir: Path) -> None:
    ctx, incidents, alerts = start()
    a = alerts.ingest_file(cap_dir / CHAIN[0])
    assert a.outcome == "new"
    incident = incidents.get(caller(ctx), a.incident_id or "")
    assert incident.title.en == "Flood warning for the Hija River basin"
    assert incident.title.ja == "比謝川流域に洪水警報"
    assert incident.summary.ja.startswith("嘉手納付近で")
    assert {i.language for i in incident.cap_infos} == {"en-US", "ja-JP"}
    area = incident.cap_areas[0]
    assert area.polygons[0][0] == [26.35, 127.74]  # lat, lon as CAP writes them
    assert [(g.name, g.value) for g in area.geocodes] == [("JIS X 0402", "47325")]

    u = alerts.ingest_file(cap_dir / CHAIN[1])
    assert (u.outcome, u.incident_id) == ("updated", a.incident_id)
    updated = incidents.get(caller(ctx), a.incident_id or "")
    assert updated.title.en.startswith("Flood warning extended")
    circles = [c for ar in updated.cap_areas for c in ar.circles]
    assert [(c.lat, c.lon, c.radius_km) for c in circles] == [(26.3617, 127.7553, 2.5)]
    features = incidents.geojson(caller(ctx)).features
    polygon = next(f for f in features if f.properties.role == "cap_polygon")
    assert polygon.geometry.coordinates[0][0] == [127.74, 26.35]  # GeoJSON: lon, lat
    ring = next(f for f in features if f.properties.role == "cap_circle").geometry.coordinates[0]
    assert ring[0] == ring[-1] and all(26.33 < lat < 26.39 for _, lat in ring)

    c = alerts.ingest_file(cap_dir / CHAIN[2])
    assert (c.outcome, c.incident_id) == ("updated", a.incident_id)
    cancelled = incidents.get(caller(ctx), a.incident_id or "")
    assert cancelled.state == "cancelled"
    assert [e.kind for e in cancelled.timeline] == ["issue", "correction", "cancel"]


@pytest.mark.parametrize("order", [(2, 1, 0), (1, 2, 0), (0, 2, 1)])
def test_the_chain_in_any_order_reaches_the_same_incident(cap_dir: Path, order: tuple) -> None:
    ctx, incidents, alerts = start()
    ids = {alerts.ingest_file(cap_dir / CHAIN[n]).incident_id for n in order}
    assert len(ids) == 1
    got = incidents.get(caller(ctx), ids.pop() or "")
    ctx2, incidents2, alerts2 = start()
    outcomes = [alerts2.ingest_file(cap_dir / name) for name in CHAIN]
    rid = outcomes[0].incident_id
    want = incidents2.get(caller(ctx2), rid or "")
    assert (got.id, got.state, got.title, got.cap_areas) == (
        want.id,
        want.state,
        want.title,
        want.cap_areas,
    )


def test_exercise_is_marked_and_test_system_draft_are_logged_only(cap_dir: Path) -> None:
    ctx, incidents, alerts = start()
    ex = alerts.ingest_file(cap_dir / "10_exercise.xml")
    assert ex.outcome == "new"
    assert incidents.get(caller(ctx), ex.incident_id or "").exercise
    length = event_count(ctx)
    for name in ("11_test.xml", "12_system.xml", "13_draft.xml"):
        assert alerts.ingest_file(cap_dir / name).outcome == "test", name
    assert event_count(ctx) == length
    assert [i.id for i in incidents.list(caller(ctx))] == [ex.incident_id]
    assert incidents.filed.labels("cap", "test")._value.get() == 3


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("20_truncated.xml", "malformed"),
        ("21_open_polygon.xml", "bad_value"),
        ("22_lon_lat_order.xml", "bad_value"),
        ("23_no_sender.xml", "missing_field"),
        ("30_xxe.xml", "dtd_forbidden"),
        ("31_billion_laughs.xml", "dtd_forbidden"),
        ("32_external_dtd.xml", "dtd_forbidden"),
    ],
)
def test_bad_and_hostile_documents_are_rejected_counted_and_change_nothing(
    cap_dir: Path, name: str, reason: str
) -> None:
    ctx, incidents, alerts = start()
    outcome = alerts.ingest_file(cap_dir / name)
    assert (outcome.outcome, outcome.reason) == ("rejected", reason), outcome
    assert outcome.message
    assert event_count(ctx) == 0 and incidents.list(caller(ctx)) == []
    assert ctx.metrics.bad_input.labels("alerts", reason)._value.get() == 1
    assert b"root:" not in (ctx.root / "audit.log").read_bytes()  # no file was read


def test_too_large_and_non_alert_documents_are_rejected(tmp_path: Path) -> None:
    ctx, _incidents, alerts = start()
    big = b"<a>" + b"x" * (1 << 20) + b"</a>"
    assert alerts.ingest_bytes(big, "big").reason == "too_large"
    assert alerts.ingest_bytes(b"<rss/>", "rss").reason == "not_an_alert"
    assert alerts.ingest_bytes(b"", "empty").reason == "empty"
    assert event_count(ctx) == 0


def test_the_same_key_with_another_document_is_a_conflict(cap_dir: Path) -> None:
    ctx, _incidents, alerts = start()
    raw = (cap_dir / CHAIN[0]).read_bytes()
    alerts.ingest_bytes(raw, "a")
    length = event_count(ctx)
    altered = raw.replace(b"Move to higher ground.", b"Stay indoors.")
    outcome = alerts.ingest_bytes(altered, "a2")
    assert (outcome.outcome, outcome.reason) == ("rejected", "key_conflict")
    assert event_count(ctx) == length


def test_the_whole_corpus_replayed_changes_nothing(cap_dir: Path) -> None:
    ctx, _incidents, alerts = start()
    files = alert_files(cap_dir)
    alerts.ingest_files(files)
    length = event_count(ctx)
    again = alerts.ingest_files(files)
    assert "new" not in again.counts and "updated" not in again.counts
    assert event_count(ctx) == length
    assert os.path.basename(files[0]) == "01_alert.xml"
