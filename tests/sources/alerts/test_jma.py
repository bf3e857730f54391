"""Every shared JMA bulletin ingests; incidents match the documents as read here (ElementTree
with namespaces, not the parser under test); corrections, cancellations, drills, replays."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from kizuna.sources.alerts.service import alert_files
from tests.incidents.support import caller, event_count, start

NS = {
    "j": "http://xml.kishou.go.jp/jmaxml1/",
    "h": "http://xml.kishou.go.jp/jmaxml1/informationBasis1/",
    "s": "http://xml.kishou.go.jp/jmaxml1/body/seismology1/",
    "eb": "http://xml.kishou.go.jp/jmaxml1/elementBasis1/",
}


def read(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def expected_quake(root: ET.Element) -> dict[str, object]:
    """Hypocentre, magnitude and maximum intensity as the document states them."""
    coord = root.findtext("s:Body/s:Earthquake/s:Hypocenter/s:Area/eb:Coordinate", "", NS)
    lat = lon = depth = None
    if coord:
        body = coord.rstrip("/")
        # ISO 6709: sign-led numbers; a third is the height in metres (negative: below)
        numbers, current = [], ""
        for ch in body:
            if ch in "+-" and current:
                numbers.append(current)
                current = ""
            current += ch
        numbers.append(current)
        lat, lon = float(numbers[0]), float(numbers[1])
        depth = abs(float(numbers[2])) / 1000 if len(numbers) > 2 else None
    mag_text = root.findtext("s:Body/s:Earthquake/eb:Magnitude", "", NS)
    magnitude = float(mag_text) if mag_text else None
    if magnitude is not None and math.isnan(magnitude):
        magnitude = None
    max_int = root.findtext("s:Body/s:Intensity/s:Observation/s:MaxInt", None, NS)
    return {"lat": lat, "lon": lon, "depth": depth, "magnitude": magnitude, "max_int": max_int}


def vxse53(jma_dir: Path) -> list[Path]:
    return [p for p in alert_files(jma_dir) if "VXSE53" in p.name]


def test_every_shared_bulletin_ingests_and_a_replay_changes_nothing(jma_dir: Path) -> None:
    ctx, incidents, alerts = start()
    files = alert_files(jma_dir)
    assert len(files) == 72
    first = alerts.ingest_files(files)
    assert first.rejected == [], [(o.name, o.reason, o.message) for o in first.rejected]
    assert first.counts.get("new", 0) + first.counts.get("updated", 0) == len(files)
    event_ids = {read(p).findtext("h:Head/h:EventID", "", NS) for p in files}
    listed = incidents.list(caller(ctx))
    assert sorted(i.event for i in listed) == sorted(event_ids)  # one incident per EventID
    assert sum(len(i.timeline) for i in listed) == len(files)
    length = event_count(ctx)
    again = alerts.ingest_files(files)
    assert again.counts == {"unchanged": len(files)}
    assert event_count(ctx) == length
    assert [i.title for i in incidents.list(caller(ctx))] == [i.title for i in listed]


def test_each_vxse53_alone_gives_the_documents_hypocentre_magnitude_intensity(
    jma_dir: Path,
) -> None:
    for path in vxse53(jma_dir):
        ctx, incidents, alerts = start()
        outcome = alerts.ingest_file(path)
        assert outcome.outcome == "new", (path.name, outcome)
        incident = incidents.get(caller(ctx), outcome.incident_id or "")
        want = expected_quake(read(path))
        h = incident.hypocentre
        assert h is not None, path.name
        assert (h.lat, h.lon, h.depth_km) == (want["lat"], want["lon"], want["depth"]), path.name
        assert incident.magnitude is not None
        assert incident.magnitude.value == want["magnitude"], path.name
        assert incident.max_intensity == want["max_int"], path.name


def test_folder_incidents_show_the_latest_vxse53_of_each_event(jma_dir: Path) -> None:
    ctx, incidents, alerts = start()
    alerts.ingest_files(alert_files(jma_dir))
    latest: dict[str, tuple[str, Path]] = {}
    for path in vxse53(jma_dir):
        root = read(path)
        event = root.findtext("h:Head/h:EventID", "", NS)
        when = root.findtext("h:Head/h:ReportDateTime", "", NS)
        if event not in latest or when > latest[event][0]:
            latest[event] = (when, path)
    by_event = {i.event: i for i in incidents.list(caller(ctx))}
    assert len(latest) > 30
    for event, (_, path) in latest.items():
        want, got = expected_quake(read(path)), by_event[event]
        assert got.hypocentre is not None
        assert (got.hypocentre.lat, got.hypocentre.lon) == (want["lat"], want["lon"])
        assert got.magnitude is not None and got.magnitude.value == want["magnitude"]
        if want["max_int"] is not None:
            assert got.max_intensity == want["max_int"], path.name


def test_the_2023_10_09_tsunami_advisory_goes_from_advisory_to_lifted(jma_dir: Path) -> None:
    ctx, incidents, alerts = start()
    files = sorted(jma_dir.glob("20231009*_VTSE41.xml"))
    assert len(files) == 6
    ids = {alerts.ingest_file(p).incident_id for p in reversed(files)}  # any order
    assert len(ids) == 1
    incident = incidents.get(caller(ctx), ids.pop() or "")
    assert len(incident.timeline) == 6
    areas = {a.code: a for a in incident.tsunami_areas}
    last = read(files[-1])
    for item in read(files[0]).findall("s:Body/s:Tsunami/s:Forecast/s:Item", NS):
        code = item.findtext("s:Area/s:Code", "", NS)
        steps = [s.category for s in areas[code].history]
        assert steps[0] == "advisory" and steps[-1] == "lifted", (code, steps)
        assert "advisory" not in steps[steps.index("lifted") :]
        final = next(
            i
            for i in last.findall("s:Body/s:Tsunami/s:Forecast/s:Item", NS)
            if i.findtext("s:Area/s:Code", "", NS) == code
        )
        assert areas[code].kind_code == final.findtext("s:Category/s:Kind/s:Code", "", NS)
    times = [s.at for a in incident.tsunami_areas for s in a.history]
    assert all(a.history == sorted(a.history, key=lambda s: s.at) for a in incident.tsunami_areas)
    assert times
    assert incident.title.en == "Tsunami advisory lifted" and incident.title.ja == "津波注意報解除"


def _rewrite(path: Path, out: Path, **changes: str) -> Path:
    """A copy of a bulletin with Control/Status, Head/InfoType or Head/Serial replaced."""
    ET.register_namespace("", NS["j"])
    tree = ET.parse(path)
    root = tree.getroot()
    where = {
        "status": "j:Control/j:Status",
        "info": "h:Head/h:InfoType",
        "serial": "h:Head/h:Serial",
    }
    where |= {"magnitude": "s:Body/s:Earthquake/eb:Magnitude"}
    for key, value in changes.items():
        el = root.find(where[key], NS)
        assert el is not None
        el.text = value
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out


def test_a_drill_copy_makes_an_exercise_incident_never_a_real_one(
    jma_dir: Path, tmp_path: Path
) -> None:
    ctx, incidents, alerts = start()
    source = jma_dir / "20210217140958_0_VXSE53_010000.xml"
    drill = _rewrite(source, tmp_path / "drill.xml", status="訓練")
    outcome = alerts.ingest_file(drill)
    assert outcome.outcome == "new"
    listed = incidents.list(caller(ctx))
    assert len(listed) == 1 and listed[0].exercise and listed[0].label.endswith("//EXERCISE")
    real = alerts.ingest_file(source)
    assert real.incident_id != outcome.incident_id
    real_incident = incidents.get(caller(ctx), real.incident_id or "")
    assert not real_incident.exercise and len(real_incident.timeline) == 1
    assert len(incidents.get(caller(ctx), outcome.incident_id or "").timeline) == 1


def test_a_test_bulletin_is_logged_only(jma_dir: Path, tmp_path: Path) -> None:
    ctx, incidents, alerts = start()
    test = _rewrite(
        jma_dir / "20210217140958_0_VXSE53_010000.xml", tmp_path / "t.xml", status="試験"
    )
    assert alerts.ingest_file(test).outcome == "test"
    assert incidents.list(caller(ctx)) == [] and event_count(ctx) == 0
    assert incidents.filed.labels("jma", "test")._value.get() == 1


def test_a_correction_updates_and_a_cancellation_cancels(jma_dir: Path, tmp_path: Path) -> None:
    ctx, incidents, alerts = start()
    source = jma_dir / "20210217140958_0_VXSE53_010000.xml"
    first = alerts.ingest_file(source)
    rid = first.incident_id or ""
    assert incidents.get(caller(ctx), rid).magnitude.value == 4.5  # type: ignore[union-attr]
    fixed = _rewrite(source, tmp_path / "fix.xml", info="訂正", magnitude="4.8")
    assert alerts.ingest_file(fixed).outcome == "updated"
    corrected = incidents.get(caller(ctx), rid)
    assert corrected.magnitude is not None and corrected.magnitude.value == 4.8
    assert [e.kind for e in corrected.timeline] == ["issue", "correction"]
    assert corrected.state == "active" and "M4.8" in corrected.title.en
    cancel = _rewrite(source, tmp_path / "cancel.xml", info="取消")
    assert alerts.ingest_file(cancel).outcome == "updated"
    cancelled = incidents.get(caller(ctx), rid)
    assert cancelled.state == "cancelled"
    assert [e.kind for e in cancelled.timeline] == ["issue", "correction", "cancel"]
    assert all(e.cancelled for e in cancelled.timeline)
    assert cancelled.title.ja.startswith("【取消】")
    # replaying all three in another order on another node gives the same incident
    ctx2, incidents2, alerts2 = start()
    for p in (tmp_path / "cancel.xml", source, tmp_path / "fix.xml"):
        alerts2.ingest_file(p)
    other = incidents2.get(caller(ctx2), rid)
    assert (other.state, other.title, other.magnitude) == (
        cancelled.state,
        cancelled.title,
        cancelled.magnitude,
    )


def test_raw_documents_are_kept_for_audit(jma_dir: Path) -> None:
    ctx, incidents, alerts = start()
    path = jma_dir / "20240116184225_02245216_VXSE43.xml"
    rid = alerts.ingest_file(path).incident_id or ""
    raws = incidents.raw_documents(caller(ctx), rid)
    assert list(raws.values()) == [path.read_bytes()]
    incident = incidents.get(caller(ctx), rid)
    assert incident.forecast_intensity == "5-" and incident.max_intensity is None
    # the record's state holds no raw document, the event log does
    state = ctx.events.get("incident", rid)
    assert state is not None and not any(k.startswith("raw.") for k in state.fields)


def test_intensity_areas_come_with_bilingual_shindo(jma_dir: Path) -> None:
    ctx, incidents, alerts = start()
    rid = alerts.ingest_file(jma_dir / "20210219091451_0_VXSE53_010000.xml").incident_id or ""
    incident = incidents.get(caller(ctx), rid)
    assert incident.max_intensity == "4"
    assert incident.max_intensity_text is not None
    assert (incident.max_intensity_text.en, incident.max_intensity_text.ja) == ("Shindo 4", "震度4")
    by_level = defaultdict(list)
    for a in incident.intensity_areas:
        by_level[a.level].append(a)
    assert by_level["pref"] and by_level["area"] and by_level["city"]
    assert max(a.intensity or "" for a in by_level["pref"]) == "4"
