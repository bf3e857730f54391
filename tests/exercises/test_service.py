"""The exercises service on in-process nodes: marking, participation, the MSEL's lifecycle,
delivery on schedule, real-world overrides, ENDEX quarantine, the signed archive, purge."""

from __future__ import annotations

import msgspec
import pytest

from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.labels import Classification
from kizuna.core.records import Text
from kizuna.core.time import parse_iso
from kizuna.exercises.models import (
    ExerciseStateIn,
    InjectTransitionIn,
    OverrideIn,
    TracksIn,
)
from kizuna.kernel import pki
from kizuna.picture.models import Provenance, Track
from tests.exercises.inproc import Node, exercise_in, inject_in, start, sync

STARTEX = parse_iso("2030-02-01T00:00:00Z")


@pytest.fixture
def nodes() -> tuple[Node, Node, Node]:
    return start("usfj", "USA"), start("jjoc", "JPN"), start("aus", "AUS")


def _running(us: Node, **kw: object) -> str:
    ex = us.service.create_exercise(us.control(), exercise_in(**kw))  # type: ignore[arg-type]
    us.service.act(us.control(), ex.id, ExerciseStateIn(action="start"))
    return ex.id


def _approved(us: Node, eid: str, seq: int = 1, **kw: object) -> str:
    inj = us.service.create_inject(us.control(), eid, inject_in(seq, **kw))  # type: ignore[arg-type]
    us.service.transition_inject(us.control(), inj.id, InjectTransitionIn(to="APPROVED"))
    return inj.id


def test_exercise_is_marked_and_participation_checked(nodes: tuple[Node, Node, Node]) -> None:
    us, _, _ = nodes
    ex = us.service.create_exercise(us.control(), exercise_in(label="SECRET//REL TO USA, JPN, AUS"))
    assert ex.exercise and ex.label.endswith("//EXERCISE")
    assert (ex.state, ex.lead_node, ex.lead_nation) == ("planned", "usfj", "USA")
    instruments = {p.nation: p.instrument for p in ex.participants}
    assert instruments == {"USA": "us-japan-sofa", "JPN": None, "AUS": "japan-australia-raa"}
    assert [m.name.ja for m in ex.milestones] == ["初期計画会議"]
    asked = us.services["access"].asked
    assert {(n, a) for n, a, _ in asked} == {
        ("USA", "training"),
        ("JPN", "training"),
        ("AUS", "training"),
    }


def test_participation_outside_any_instrument_is_refused(nodes: tuple[Node, Node, Node]) -> None:
    us, _, _ = nodes
    with pytest.raises(Invalid) as err:
        us.service.create_exercise(
            us.control(), exercise_in(startex="2023-03-01T00:00:00Z", endex="2023-03-10T00:00:00Z")
        )
    assert err.value.extra["nation"] == "AUS"
    assert err.value.extra["needed"] == "Japan–Australia RAA"
    assert "AUS" in err.value.detail and "Japan–Australia RAA" in err.value.detail
    assert us.service.exercises(us.control()) == []  # nothing written


def test_only_exercise_control_plans_and_moves(nodes: tuple[Node, Node, Node]) -> None:
    us, _, _ = nodes
    player = us.user("player", "watch")
    with pytest.raises(Forbidden):
        us.service.create_exercise(player, exercise_in())
    eid = _running(us)
    inj = us.service.create_inject(us.control(), eid, inject_in(1))
    with pytest.raises(Forbidden):
        us.service.transition_inject(player, inj.id, InjectTransitionIn(to="APPROVED"))
    with pytest.raises(Conflict):
        us.service.transition_inject(us.control(), inj.id, InjectTransitionIn(to="COMPLETED"))
    with pytest.raises(Invalid):
        us.service.create_inject(us.control(), eid, inject_in(1))  # seq taken
    with pytest.raises(Invalid):
        us.service.create_inject(us.control(), eid, inject_in(2, to_node="elsewhere"))


def test_hidden_injects_are_for_exercise_control_only(nodes: tuple[Node, Node, Node]) -> None:
    us, _, _ = nodes
    eid = _running(us)
    _approved(us, eid, 1)
    hidden = _approved(us, eid, 2, hidden=True)
    player = us.user("player", "watch")
    assert [i.seq for i in us.service.injects(player, eid)] == [1]
    assert [i.seq for i in us.service.injects(us.control(), eid)] == [1, 2]
    assert [i.seq for i in us.service.active_injects(player)] == [1]
    assert {i.seq for i in us.service.active_injects(us.control())} == {1, 2}
    with pytest.raises(NotFound):
        us.service.inject(player, hidden)
    for view in us.service.active_injects(us.control()):
        assert view.exercise and view.description.ja and view.exercise_id == eid


def test_injects_are_delivered_on_schedule_marked_exercise(nodes: tuple[Node, Node, Node]) -> None:
    us, jp, au = nodes
    eid = _running(us)
    to_jjoc = _approved(us, eid, 1)
    to_aus = _approved(us, eid, 2, to_node="aus", delivery="report", offset_minutes=60.0)
    assert us.service.tick(STARTEX + 29 * 60) == 0
    assert us.service.tick(STARTEX + 31 * 60) == 1
    delivered = us.service.inject(us.control(), to_jjoc)
    assert delivered.state == "DELIVERED" and delivered.delivered_as is not None
    assert us.service.inject(us.control(), to_aus).state == "APPROVED"
    assert us.service.tick(STARTEX + 61 * 60) == 1
    sync(us, jp, au)
    request = jp.services["coordination"].get(jp.user(), delivered.delivered_as["id"])
    assert request.label.exercise and request.origin == "usfj"
    assert request.fields["w"]["usfj"]["addressees"][0] == ["jjoc"]
    assert request.fields["status"]["to"] == "SUBMITTED"
    made = us.service.inject(us.control(), to_aus).delivered_as
    assert made is not None and made["type"] == "report"
    report = au.services["reports"].get(au.user(), made["id"])
    assert report.label.exercise and report.fields["title"]["en"].startswith("EXERCISE EXERCISE")
    assert us.service.tick(STARTEX + 3600 * 5) == 0  # never twice


def test_override_on_a_participant_pauses_everywhere(nodes: tuple[Node, Node, Node]) -> None:
    us, jp, au = nodes
    eid = _running(us)
    iid = _approved(us, eid, 1)
    sync(us, jp, au)
    ov = au.service.declare_override(
        au.user("au.watch", "watch"),
        eid,
        OverrideIn(reason=Text(en="Real-world SAR off Darwin", ja="実任務：捜索救難")),
    )
    assert ov.exercise and ov.originator == "AUS"
    sync(us, jp, au)
    for node in (us, jp, au):
        ex = node.service.exercise(node.user(), eid)
        assert ex.state == "paused" and ex.paused_reason == "Real-world SAR off Darwin"
        assert ex.overrides[0].node == "aus" and ex.overrides[0].status == "ACTIVE"
    assert us.service.tick(STARTEX + 3600) == 0  # affected injects stop
    assert us.service.inject(us.control(), iid).held
    with pytest.raises(Conflict):
        us.service.transition_inject(us.control(), iid, InjectTransitionIn(to="DELIVERED"))
    with pytest.raises(Forbidden):
        us.service.lift_override(us.control(), ov.id)  # the declaring node lifts it
    au.service.lift_override(au.user("au.watch", "watch"), ov.id)
    sync(us, jp, au)
    assert us.service.exercise(us.user(), eid).state == "running"
    assert us.service.tick(STARTEX + 3600) == 1


def test_peers_cannot_write_what_is_not_theirs(nodes: tuple[Node, Node, Node]) -> None:
    us, jp, _ = nodes
    eid = _running(us)
    sync(us, jp)
    state = jp.ctx.events.get("exercise", eid)
    assert state is not None
    from kizuna.store.base import Draft

    jp.ctx.events.append(
        [
            Draft(
                "exercise",
                eid,
                "patch",
                state.label,
                {"action": "transition", "from": "RUNNING", "to": "FINISHED"},
            )
        ]
    )
    sync(us, jp)
    assert ("exercise", "jjoc", "not_entitled") in us.refused
    assert us.service.exercise(us.user(), eid).status == "RUNNING"


def _track(tid: str, exercise: bool, now: float) -> Track:
    label = msgspec.convert(
        {
            "classification": int(Classification.SECRET),
            "rel_to": ["USA", "JPN", "AUS"],
            "exercise": exercise,
        },
        __import__("kizuna.core.labels", fromlist=["Label"]).Label,
    )
    return Track(
        id=tid,
        source="manual",
        source_id=tid,
        lat=34.2,
        lon=132.5,
        observed_at=now,
        stale_at=now + 3600,
        label=label,
        sidc="10031000001211000000",
        exercise=exercise,
        sources=[Provenance(source="manual", source_id=tid, observed_at=now)],
    )


def _keyed(node: Node) -> None:
    cert, key = pki.create_ca(node.ctx.node_id, node.ctx.nation)
    pki.write_key(node.ctx.root / "node.key", key)
    pki.write_cert(node.ctx.root / "node.pem", cert)


def test_endex_quarantines_archives_and_purges(nodes: tuple[Node, Node, Node]) -> None:
    import time

    us, jp, _ = nodes
    _keyed(jp)
    eid = _running(us, track_prefixes=["manual-SJ"], retention_days=1.0)
    _approved(us, eid, 1)
    us.service.tick(STARTEX + 3600)
    _approved(us, eid, 2, offset_minutes=6000.0)
    now = time.time()
    for node in (us, jp):
        node.picture.ingest(
            [
                _track("manual-SJ-1", True, now),
                _track("manual-SJ-real", False, now),
                _track("x", True, now),
            ]
        )
        # A track's SIDC carries the exercise context digit whatever its source gave.
    from kizuna.picture.service import track_view

    assert track_view(us.picture.query(us.user().principal)[0], now).sidc[2] == "1"
    us.service.add_tracks(us.control(), eid, TracksIn(track_ids=["x"]))
    sync(us, jp)
    watch = jp.user("jp.watch", "watch")
    ov = jp.service.declare_override(watch, eid, OverrideIn(reason=Text(ja="実任務：地震")))
    jp.service.lift_override(watch, ov.id)
    sync(us, jp)
    us.service.act(us.control(), eid, ExerciseStateIn(action="endex"))
    sync(us, jp)
    for node in (us, jp):
        ids = {t.id for t in node.picture.query(node.user().principal)}
        assert ids == {"manual-SJ-real"}  # the real track stays, whatever its id
        assert node.service.exercises(node.user("p", "watch")) == []
        assert [e.id for e in node.service.exercises(node.control())] == [eid]
        assert node.service.active_injects(node.control()) == []
        kept = {t["id"] for t in node.service.quarantined_tracks(node.control(), eid)}
        assert kept == {"manual-SJ-1", "x"}
    assert [i.state for i in us.service.injects(us.control(), eid)] == ["DELIVERED", "EXPIRED"]
    archive = jp.service.archive(jp.control(), eid)
    kinds = [e.item.record_type for e in archive.entries]
    assert kinds.count("inject") == 2 and "request" in kinds and kinds.count("track") == 2
    assert kinds.count("exercise_override") == 1
    check = jp.service.verify_archive(jp.control(), eid)
    assert check.valid and check.signed and check.entries == len(archive.entries)
    from kizuna.exercises import archive as arch

    tampered = msgspec.structs.replace(
        archive,
        entries=[
            *archive.entries[:1],
            msgspec.structs.replace(
                archive.entries[1],
                item=msgspec.structs.replace(archive.entries[1].item, record="{}"),
            ),
            *archive.entries[2:],
        ],
    )
    assert not arch.verify(tampered).valid
    unsigned = us.service.verify_archive(us.control(), eid)  # usfj has no key here
    assert not unsigned.signed and unsigned.problems == ["the archive is not signed"]
    with pytest.raises(NotFound):  # to players the exercise is gone
        jp.service.archive(jp.user("p", "watch"), eid)
    assert jp.service.purge_due(time.time() + 3600) == []
    assert jp.service.purge_due(time.time() + 86400 + 60) == [eid]
    with pytest.raises(NotFound):
        jp.service.archive(jp.control(), eid)
