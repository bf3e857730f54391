"""Working groups, meetings and action items on two in-process nodes (USFJ, JJOC)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.records import Text
from kizuna.kernel.bus import Session
from kizuna.workgroups.models import (
    ConcurIn,
    ItemCommentIn,
    ItemTransitionIn,
    MeetingPatch,
    Office,
    ReassignIn,
    WorkingGroupPatch,
)
from tests.workgroups.nodes import DUE, Clock, Node, acg, item, meeting, start, sync

T = ItemTransitionIn


@pytest.fixture
def nodes() -> Iterator[tuple[Node, Node, Node]]:
    clock = Clock()
    usfj, jjoc, aus = (
        start("usfj", "USA", clock),
        start("jjoc", "JPN", clock),
        start("aus", "AUS", clock),
    )
    yield usfj, jjoc, aus
    for n in (usfj, jjoc, aus):
        n.ctx.backend.close()


def test_a_meeting_and_its_items_on_both_nodes(nodes: tuple[Node, Node, Node]) -> None:
    usfj, jjoc, aus = nodes
    us, jp = usfj.user("us.chair"), jjoc.user("jp.ao")
    wg = usfj.service.create_working_group(us, acg())
    m = usfj.service.create_meeting(us, meeting(wg.id))
    a = usfj.service.create_action_item(us, item(m.id))
    b = usfj.service.create_action_item(us, item(m.id))
    assert (a.working_group_id, a.chair and a.chair.user, a.status_name.ja) == (
        wg.id,
        "us.chair",
        "未着手",
    )
    sync(usfj, jjoc, aus)
    # The group, its minutes and items are on JJOC; nothing reaches AUS (REL TO USA, JPN).
    assert jjoc.service.meeting(jp, m.id).minutes.ja == "日程の調整に合意した。"
    assert [i.id for i in jjoc.service.action_items(jp, meeting_id=m.id)] == sorted([a.id, b.id])
    assert aus.service.working_groups(aus.user()) == []
    with pytest.raises(NotFound):
        aus.service.action_item(aus.user(), a.id)

    # JJOC, the OPR, moves the items; USFJ, the OCR, may not, but concurs and comments.
    assert usfj.service.action_item(us, a.id).allowed_transitions == []
    with pytest.raises(Forbidden):
        usfj.service.transition_action_item(us, a.id, T(to="IN_PROGRESS"))
    jjoc.service.transition_action_item(jp, a.id, T(to="IN_PROGRESS", note="drafting"))
    with pytest.raises(Invalid, match="reason"):
        jjoc.service.transition_action_item(jp, b.id, T(to="SKIPPED"))
    jjoc.service.transition_action_item(jp, b.id, T(to="SKIPPED", reason="Covered by item A"))
    usfj.service.concur(us, a.id, ConcurIn(concur=True, note="J5 concurs"))
    usfj.service.comment(
        us, a.id, ItemCommentIn(text=Text(en="Draft by Friday", ja="金曜までに案を"))
    )
    with pytest.raises(Forbidden):
        jjoc.service.concur(jp, a.id, ConcurIn(concur=True))
    sync(usfj, jjoc)
    jjoc.service.transition_action_item(jp, a.id, T(to="DONE"))
    sync(usfj, jjoc)
    for node in (usfj, jjoc):
        x, y = (node.service.action_item(node.user(), i) for i in (a.id, b.id))
        assert (x.status, y.status) == ("DONE", "SKIPPED"), node.ctx.node_id
        assert y.closing is not None and (y.closing.reason, y.closing.node) == (
            "Covered by item A",
            "jjoc",
        )
        assert x.concurrence is not None and (x.concurrence.concur, x.concurrence.node) == (
            True,
            "usfj",
        )
        assert [c.text.ja for c in x.comments] == ["金曜までに案を"]
    with pytest.raises(Conflict):
        jjoc.service.transition_action_item(jp, a.id, T(to="IN_PROGRESS"))
    assert usfj.refused == [] and jjoc.refused == []


def test_only_the_origin_changes_groups_meetings_and_content(
    nodes: tuple[Node, Node, Node],
) -> None:
    usfj, jjoc, _ = nodes
    us, jp = usfj.user("us.chair"), jjoc.user("jp.chair")
    wg = usfj.service.create_working_group(us, acg())
    m = usfj.service.create_meeting(us, meeting(wg.id))
    sync(usfj, jjoc)
    with pytest.raises(Forbidden):
        jjoc.service.edit_working_group(jp, wg.id, WorkingGroupPatch(cadence="daily"))
    with pytest.raises(Forbidden):
        jjoc.service.edit_meeting(jp, m.id, MeetingPatch(minutes=Text(en="x")))
    # A member node holds its own meeting of the group and records items from it.
    jm = jjoc.service.create_meeting(jp, meeting(wg.id))
    ji = jjoc.service.create_action_item(jp, item(jm.id))
    assert ji.chair is not None and ji.chair.node == "jjoc"  # the co-chair on this node
    usfj.service.edit_meeting(us, m.id, MeetingPatch(minutes=Text(en="Revised", ja="修正")))
    sync(usfj, jjoc)
    assert jjoc.service.meeting(jp, m.id).minutes.en == "Revised"
    assert usfj.service.meeting(us, jm.id).working_group_id == wg.id
    # Labels must reach every member's nation; an item's its OPR's, OCR's and chair's.
    with pytest.raises(Invalid, match="JPN"):
        usfj.service.create_working_group(us, acg(label="S//NOFORN"))
    with pytest.raises(Invalid, match="JPN"):
        usfj.service.create_action_item(
            us, item(label="S//REL TO USA, AUS", chair=acg().co_chairs[0])
        )
    with pytest.raises(Invalid, match="chair"):
        usfj.service.create_action_item(us, item())


def test_bulk_reassignment_is_all_or_none(nodes: tuple[Node, Node, Node]) -> None:
    usfj, jjoc, _ = nodes
    us, jp = usfj.user("us.chair"), jjoc.user("jp.ao")
    wg = usfj.service.create_working_group(us, acg())
    ids = [usfj.service.create_action_item(us, item(working_group_id=wg.id)).id for _ in range(3)]
    sync(usfj, jjoc)
    jjoc.service.transition_action_item(jp, ids[2], T(to="DONE"))
    sync(usfj, jjoc)
    new = Office(office="J3 Current Ops", node="jjoc", nation="JPN", user="jp.ao2")
    with pytest.raises(Invalid, match="closed"):
        usfj.service.reassign(us, ReassignIn(ids=ids, opr=new))
    assert {usfj.service.action_item(us, i).opr.office for i in ids} == {"J3 Operations"}
    with pytest.raises(Invalid, match="usfj's to reassign"):
        jjoc.service.reassign(jp, ReassignIn(ids=ids[:2], opr=new))
    out = usfj.service.reassign(us, ReassignIn(ids=ids[:2], opr=new))
    assert [i.opr.user for i in out] == ["jp.ao2", "jp.ao2"]
    sync(usfj, jjoc)
    assert {jjoc.service.action_item(jp, i).opr.office for i in ids[:2]} == {"J3 Current Ops"}


def test_reminder_then_escalation_to_the_chair_once(nodes: tuple[Node, Node, Node]) -> None:
    usfj, jjoc, _ = nodes
    us = usfj.user("us.chair")
    wg = usfj.service.create_working_group(us, acg())
    a = usfj.service.create_action_item(us, item(working_group_id=wg.id))
    sync(usfj, jjoc)
    # The chair's screen on USFJ and a watch officer's on JJOC (sessions on each node's bus).
    chair, watch = Session(us.principal, "us.chair"), Session(jjoc.user().principal, "jp.watch")
    usfj.ctx.bus._sessions.add(chair)
    jjoc.ctx.bus._sessions.add(watch)
    clock = usfj.clock
    clock.now = DUE - 2 * 86_400
    assert usfj.service.check_due() == [] and jjoc.service.check_due() == []
    clock.now = DUE - 3_600  # within a day of due: the OPR's node reminds
    assert usfj.service.check_due() == []
    assert jjoc.service.check_due() == [(a.id, "reminder")]
    assert jjoc.service.check_due() == []  # once
    clock.now = DUE + 60  # overdue: the chair's node (USFJ) escalates, to the chair
    assert jjoc.service.check_due() == []
    assert usfj.service.check_due() == [(a.id, "escalation")]
    assert usfj.service.check_due() == []
    pushed = {
        k: m["item"]["kind"] for k, m in chair.messages.items() if m["type"] == "action_item_alert"
    }
    assert pushed == {("action_item_alert", f"{a.id}:escalation"): "escalation"}
    sync(usfj, jjoc)
    assert ("action_item_alert", f"{a.id}:escalation") in watch.messages
    for node in (usfj, jjoc):
        view = node.service.action_item(node.user(), a.id)
        assert (view.overdue, view.reminded, view.escalated) == (True, True, True)
        assert [(x.kind, x.node, x.to) for x in view.alerts] == [
            ("reminder", "jjoc", "jp.ao"),
            ("escalation", "usfj", "us.chair"),
        ]
    assert jjoc.service.check_due() == [] and usfj.service.check_due() == []
