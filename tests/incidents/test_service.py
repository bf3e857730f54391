"""The incidents service: labels from settings, release-checked reads, pushes, sovereignty."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from kizuna.incidents.models import INCIDENT, IncidentsSettings
from kizuna.kernel.bus import Session
from kizuna.kernel.testing import memory_context
from kizuna.sources.alerts import plugin as alerts_plugin
from tests.incidents.support import caller, event_count, start
from tests.sources.fakes import FakeHandle

CAP = Path(__file__).resolve().parents[1] / "sources" / "alerts" / "cap"


def test_default_label_from_settings_and_release_check() -> None:
    ctx = memory_context(
        "jjoc", "JPN", settings=IncidentsSettings(default_label="CONFIDENTIAL//REL TO JPN, USA")
    )
    ctx, incidents, alerts = start(ctx)
    rid = alerts.ingest_file(CAP / "01_alert.xml").incident_id or ""
    assert incidents.get(caller(ctx, "USA"), rid).label_fgi == "//JPN CONFIDENTIAL//REL TO USA, JPN"
    assert incidents.list(caller(ctx, "AUS")) == []
    assert incidents.geojson(caller(ctx, "AUS")).features == []
    assert incidents.list(caller(ctx, "USA", "UNCLASSIFIED")) == []


def test_changes_are_pushed_on_topic_incident_to_sessions_that_may_see_them() -> None:
    ctx, _incidents, alerts = start()
    usa, aus = (
        Session(caller(ctx, "USA").principal, "u"),
        Session(caller(ctx, "AUS").principal, "a"),
    )
    ctx.bus._sessions.update({usa, aus})
    rid = alerts.ingest_file(CAP / "01_alert.xml").incident_id
    pushed = list(usa.messages.values())
    assert [m["type"] for m in pushed] == ["incident"]
    assert pushed[0]["item"]["id"] == rid and pushed[0]["item"]["state"] == "active"
    assert len(aus.messages) == 1  # UNCLASSIFIED without REL TO releases to all


def test_a_peers_event_on_our_incident_is_refused_by_the_owner_rule() -> None:
    from kizuna.incidents import plugin

    ctx, _incidents, alerts = start()
    rid = alerts.ingest_file(CAP / "01_alert.xml").incident_id or ""
    state = ctx.events.get(INCIDENT, rid)
    event = ctx.events.record_events(INCIDENT, rid)[0]
    peer = type(event)(
        **{**{f: getattr(event, f) for f in event.__struct_fields__}, "origin": "aus"}
    )
    (rt,) = plugin.record_types()
    assert rt.owner(state, peer) == "not_owner"
    assert rt.owner(None, event) is None


def test_kizuna_ingest_alerts_prints_a_summary(tmp_path: Path) -> None:
    ctx, _incidents, alerts = start()
    handle = FakeHandle({"alerts": alerts})
    root = typer.Typer()
    for group, sub in alerts_plugin.cli(lambda _: handle).items():
        root.add_typer(sub, name=group)
    result = CliRunner().invoke(root, ["ingest", "alerts", str(CAP), "--dir", str(tmp_path)])
    assert result.exit_code == 1, result.output  # the corpus holds rejects on purpose
    for word in ("new", "updated", "rejected", "dtd_forbidden", "test bulletins"):
        assert word in result.output
    assert handle.closed
    length = event_count(ctx)
    again = CliRunner().invoke(root, ["ingest", "alerts", str(CAP / "01_alert.xml"), "--dir", "x"])
    assert again.exit_code == 0 and event_count(ctx) == length
