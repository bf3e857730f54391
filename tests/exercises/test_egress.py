"""No exercise record leaves a node without its EXERCISE marking: every egress path of the
exercises domain walked with exercise data (API reads, live pushes, map features, the
archive, the events federation sends, the records injects are delivered as, tracks)."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from kizuna.core.records import Text
from kizuna.exercises import plugin
from kizuna.exercises.models import ExerciseStateIn, InjectTransitionIn, OverrideIn, TracksIn
from kizuna.kernel.bus import Session
from kizuna.picture.service import track_view
from tests.exercises.inproc import exercise_in, inject_in, start, sync
from tests.exercises.test_service import STARTEX, _track


def _marked(item: Any) -> bool:
    data = msgspec.to_builtins(item)
    return bool(data["exercise"]) and data["label"].endswith("EXERCISE")


def test_every_egress_carries_the_marking() -> None:
    us, jp = start("usfj", "USA"), start("jjoc", "JPN")
    session = Session(us.user().principal, "watch")
    us.ctx.bus._sessions.add(session)  # a live WebSocket session of a user on USFJ
    ctl = us.control()
    eid = us.service.create_exercise(
        ctl,
        exercise_in(
            label="SECRET//REL TO USA, JPN, AUS",  # the marking left out: the node adds it
            area=[
                {"lat": 34.0, "lon": 132.0},
                {"lat": 34.5, "lon": 132.0},
                {"lat": 34.5, "lon": 132.6},
            ],
        ),
    ).id
    us.service.act(ctl, eid, ExerciseStateIn(action="start"))
    for seq, kw in (
        (1, {}),
        (2, {"delivery": "report", "position": {"lat": 34.2, "lon": 132.4}}),
        (3, {"hidden": True}),
    ):
        iid = us.service.create_inject(ctl, eid, inject_in(seq, **kw)).id
        us.service.transition_inject(ctl, iid, InjectTransitionIn(to="APPROVED"))
    assert us.service.tick(STARTEX + 3600) == 3
    now = time.time()
    us.picture.ingest([_track("cot-SJ-1", True, now)])
    us.service.add_tracks(ctl, eid, TracksIn(track_ids=["cot-SJ-1"]))
    sync(us, jp)
    jp.service.declare_override(
        jp.user("w", "watch"), eid, OverrideIn(reason=Text(en="Real-world"))
    )
    sync(us, jp)

    # API reads, for a player and for exercise control
    answers: list[Any] = []
    for caller in (us.user("p", "watch"), ctl):
        answers += us.service.exercises(caller)
        answers += us.service.injects(caller, eid)
        answers += us.service.active_injects(caller)
        answers += [o for e in us.service.exercises(caller) for o in e.overrides]
    assert len(answers) > 10 and all(_marked(a) for a in answers)
    # map features
    features = plugin.features(us.service, us.user().principal)
    assert {f.record_type for f in features} == {"exercise", "inject"}
    assert all(f.label.endswith("EXERCISE") for f in features)
    # pushes
    pushed = [m["item"] for m in session.messages.values()]
    assert {m["type"] for m in session.messages.values()} == {"exercise", "request"}
    assert pushed and all(_marked(p) for p in pushed)
    # what injects were delivered as, and every event federation carries
    for state_id in (i.delivered_as for i in us.service.injects(ctl, eid)):
        assert state_id is not None
        held = us.ctx.events.get(state_id["type"], state_id["id"])
        assert held is not None and held.label.exercise
    for _, event in us.ctx.events.events_after(0, 10_000):
        assert event.label.exercise, (event.record_type, event.payload)
    # tracks: marked and with the exercise context digit
    view = track_view(us.picture.query(us.user().principal)[0], now)
    assert _marked(view) and view.sidc[2] == "1"
    # after ENDEX: quarantined tracks and the archive
    us.service.act(ctl, eid, ExerciseStateIn(action="endex"))
    assert all(t["exercise"] for t in us.service.quarantined_tracks(ctl, eid))
    entries = us.service.archive(ctl, eid).entries
    assert entries and all(e.item.label.endswith("EXERCISE") for e in entries)
