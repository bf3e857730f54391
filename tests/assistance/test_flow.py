"""The RFA flow on three in-process nodes (JJOC, USFJ, AUS): validation, offers,
acceptance and decline with a reason, commitments, tasks, roll-ups, labels."""

from __future__ import annotations

import pytest

from kizuna.assistance.models import (
    OfferTransitionIn,
    ProgressIn,
    ProgressReport,
    RfaPatch,
    RfaTransitionIn,
    TaskPatch,
    TaskTransitionIn,
)
from kizuna.assistance.service import task_id_for
from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from tests.assistance.nodes import Node, start, sync, water_offer, water_rfa


@pytest.fixture
def nodes() -> tuple[Node, Node, Node]:
    jjoc, usfj, aus = start("jjoc", "JPN"), start("usfj", "USA"), start("aus", "AUS")
    yield jjoc, usfj, aus
    for n in (jjoc, usfj, aus):
        n.ctx.backend.close()


def open_rfa(jjoc: Node) -> str:
    op = jjoc.user()
    rfa = jjoc.service.create_rfa(op, water_rfa())
    assert (rfa.status, rfa.affected_node, rfa.lines[0].requested) == ("DRAFT", "jjoc", 900_000)
    jjoc.service.transition_rfa(op, rfa.id, RfaTransitionIn(to="SUBMITTED"))
    jjoc.service.transition_rfa(op, rfa.id, RfaTransitionIn(to="VALIDATED", priority="critical"))
    out = jjoc.service.transition_rfa(op, rfa.id, RfaTransitionIn(to="OPEN"))
    assert (out.status, out.priority, out.status_name.ja) == ("OPEN", "critical", "申出受付中")
    return rfa.id


def test_offers_accepted_and_declined_roll_up_on_every_node(nodes: tuple[Node, Node, Node]) -> None:
    jjoc, usfj, aus = nodes
    rid = open_rfa(jjoc)
    sync(jjoc, usfj, aus)
    assert usfj.service.rfa(usfj.user(), rid).coverage == "NONE"

    # USFJ offers 600,000 L (released to Japan and Australia); AUS offers all of it.
    u = usfj.service.create_offer(usfj.user(), water_offer(rid, 600_000, "U//REL TO USA, JPN, AUS"))
    a = aus.service.create_offer(aus.user(), water_offer(rid, 900_000))
    assert (u.affected_node, u.affected_state, u.solicited) == ("jjoc", "JPN", True)
    sync(jjoc, usfj, aus)
    board = jjoc.service.rfa(jjoc.user(), rid)
    assert (board.lines[0].offered, board.lines[0].committed, board.coverage) == (
        1_500_000,
        0,
        "NONE",
    )

    # JJOC accepts USFJ's offer: a commitment, the RFA COMMITTED, PARTIAL everywhere.
    op = jjoc.user()
    accepted = jjoc.service.transition_offer(op, u.id, OfferTransitionIn(to="ACCEPTED"))
    assert accepted.committed
    with pytest.raises(Invalid, match="reason"):
        jjoc.service.transition_offer(op, a.id, OfferTransitionIn(to="DECLINED"))
    declined = jjoc.service.transition_offer(
        op, a.id, OfferTransitionIn(to="DECLINED", reason="need_met", note="USFJ covers part")
    )
    assert declined.closing is not None
    assert (declined.closing.reason, declined.closing.reason_name.en) == (
        "need_met",
        "Need already met",
    )
    sync(jjoc, usfj, aus)
    for node in (jjoc, usfj, aus):
        r = node.service.rfa(node.user(), rid)
        line = r.lines[0]
        assert (r.status, r.coverage) == ("COMMITTED", "PARTIAL"), node.ctx.node_id
        assert (line.committed, line.gap, line.offered) == (600_000, 300_000, 600_000)
    assert aus.service.offer(aus.user(), a.id).status == "DECLINED"

    # The accepted offer became a task on USFJ, owned by USFJ, and reached JJOC.
    (task,) = usfj.service.tasks(usfj.user())
    assert (task.id, task.offer_id, task.origin, task.unit, task.status) == (
        task_id_for(u.id),
        u.id,
        "usfj",
        "Task Force Water",
        "PLANNED",
    )
    assert task.due == "2030-01-03T00:00:00.000Z"  # the RFA's needed-by
    usfj.service.edit_task(usfj.user(), task.id, TaskPatch(track_id="track-lcac-1"))
    usfj.service.transition_task(usfj.user(), task.id, TaskTransitionIn(to="IN_PROGRESS"))
    sync(jjoc, usfj, aus)
    (seen,) = jjoc.service.tasks(jjoc.user(), incident_id="eq-2024-noto")
    assert (seen.status, seen.track_id) == ("IN_PROGRESS", "track-lcac-1")
    with pytest.raises(Forbidden):
        jjoc.service.transition_task(jjoc.user(), task.id, TaskTransitionIn(to="DONE"))
    assert len(usfj.service.tasks(usfj.user())) == 1  # replays never double the task

    # AUS offers the rest again; accepted: COMPLETE on every node.
    a2 = aus.service.create_offer(aus.user(), water_offer(rid, 300_000))
    sync(jjoc, usfj, aus)
    jjoc.service.transition_offer(op, a2.id, OfferTransitionIn(to="ACCEPTED"))
    sync(jjoc, usfj, aus)
    for node in (jjoc, usfj, aus):
        r = node.service.rfa(node.user(), rid)
        assert (r.coverage, r.lines[0].gap) == ("COMPLETE", 0), node.ctx.node_id
        assert r.coverage_name.ja == "全量確約"

    # Offerers report progress; delivered rolls up; JJOC completes the RFA.
    usfj.service.report_progress(
        usfj.user(),
        u.id,
        ProgressReport(progress=[ProgressIn(item="water", in_transit=200_000, delivered=400_000)]),
    )
    aus.service.transition_offer(aus.user(), a2.id, OfferTransitionIn(to="DELIVERED"))
    sync(jjoc, usfj, aus)
    line = jjoc.service.rfa(op, rid).lines[0]
    assert (line.in_transit, line.delivered) == (200_000, 700_000)
    done = jjoc.service.transition_rfa(op, rid, RfaTransitionIn(to="COMPLETED"))
    assert done.status == "COMPLETED" and done.allowed_transitions == []
    assert not any(n.refused for n in (jjoc, usfj, aus))


def test_an_offer_is_seen_only_where_its_label_allows(nodes: tuple[Node, Node, Node]) -> None:
    jjoc, usfj, aus = nodes
    rid = open_rfa(jjoc)
    sync(jjoc, usfj, aus)
    u = usfj.service.create_offer(usfj.user(), water_offer(rid, 600_000, "S//REL TO USA, JPN"))
    sync(jjoc, usfj, aus)
    jjoc.service.transition_offer(jjoc.user(), u.id, OfferTransitionIn(to="ACCEPTED"))
    sync(jjoc, usfj, aus)
    assert aus.ctx.events.get("offer", u.id) is None  # never held on the AUS node
    assert aus.ctx.events.get("task", task_id_for(u.id)) is None
    assert aus.service.offers(aus.user()) == []
    r = aus.service.rfa(aus.user(), rid)
    assert (r.coverage, r.offers, r.lines[0].committed) == ("NONE", [], 0)
    # On JJOC a reader cleared only for UNCLASSIFIED sees the RFA, not the offer or its figures.
    low = jjoc.user("clerk", "UNCLASSIFIED")
    assert jjoc.service.rfa(low, rid).coverage == "NONE"
    with pytest.raises(NotFound):
        jjoc.service.offer(low, u.id)
    assert jjoc.service.rfa(jjoc.user(), rid).coverage == "PARTIAL"
    # The affected state must be able to see an offer made to it.
    with pytest.raises(Invalid, match="may not see"):
        usfj.service.create_offer(usfj.user(), water_offer(rid, 1, "S//NOFORN"))


def test_sovereignty_of_sides_on_the_node_itself(nodes: tuple[Node, Node, Node]) -> None:
    jjoc, usfj, aus = nodes
    rid = open_rfa(jjoc)
    sync(jjoc, usfj, aus)
    # Nobody but JJOC validates, prioritises or accepts; an offerer cannot accept its own.
    with pytest.raises(Forbidden):
        usfj.service.edit_rfa(usfj.user(), rid, RfaPatch(priority="low"))
    with pytest.raises((Forbidden, Conflict)):
        aus.service.transition_rfa(aus.user(), rid, RfaTransitionIn(to="COMMITTED"))
    u = usfj.service.create_offer(usfj.user(), water_offer(rid, 100))
    with pytest.raises(Forbidden):
        usfj.service.transition_offer(usfj.user(), u.id, OfferTransitionIn(to="ACCEPTED"))
    sync(jjoc, usfj)
    with pytest.raises(Forbidden):
        jjoc.service.transition_offer(
            jjoc.user(), u.id, OfferTransitionIn(to="WITHDRAWN", reason="need_met")
        )
    with pytest.raises(Forbidden):
        jjoc.service.report_progress(
            jjoc.user(), u.id, ProgressReport(progress=[ProgressIn(item="water", delivered=1)])
        )
    # A viewer acts for no side; content is fixed once validated.
    with pytest.raises(Forbidden):
        jjoc.service.transition_offer(
            jjoc.user("v", "SECRET", "viewer"), u.id, OfferTransitionIn(to="ACCEPTED")
        )
    with pytest.raises(Conflict, match="supersede"):
        jjoc.service.edit_rfa(
            jjoc.user(), rid, RfaPatch(title=None, needed_by="2030-01-04T00:00:00Z")
        )
    with pytest.raises(Invalid, match="reason"):
        jjoc.service.transition_rfa(
            jjoc.user(), rid, RfaTransitionIn(to="CANCELLED", reason="bored")
        )
    out = jjoc.service.transition_rfa(
        jjoc.user(),
        rid,
        RfaTransitionIn(to="SUPERSEDED", reason="replaced_by_new_request", superseded_by="rfa-2"),
    )
    assert (out.status, out.superseded_by, out.closing.reason) == (
        "SUPERSEDED",
        "rfa-2",
        "replaced_by_new_request",
    )


def test_unsolicited_offer_stays_an_offer_until_accepted_for_an_rfa(
    nodes: tuple[Node, Node, Node],
) -> None:
    jjoc, usfj, _ = nodes
    rid = open_rfa(jjoc)
    with pytest.raises(Invalid, match="affected_state and affected_node"):
        usfj.service.create_offer(usfj.user(), water_offer(None, 50_000))
    u = usfj.service.create_offer(
        usfj.user(),
        water_offer(None, 50_000, affected_state="JPN", affected_node="jjoc", military=False),
    )
    assert (u.solicited, u.status, u.committed) == (False, "OFFERED", False)
    sync(jjoc, usfj)
    assert jjoc.service.rfa(jjoc.user(), rid).lines[0].offered == 0
    jjoc.service.transition_offer(jjoc.user(), u.id, OfferTransitionIn(to="ACCEPTED", rfa_id=rid))
    sync(jjoc, usfj)
    r = usfj.service.rfa(usfj.user(), rid)
    assert (r.lines[0].committed, r.coverage, r.offers) == (50_000, "PARTIAL", [u.id])
    assert usfj.service.tasks(usfj.user())[0].rfa_id == rid


def test_rfa_lines_convert_packs_and_refuse_bad_units(nodes: tuple[Node, Node, Node]) -> None:
    from kizuna.assistance.models import LineIn

    jjoc = nodes[0]
    op = jjoc.user()
    rfa = jjoc.service.create_rfa(op, water_rfa())
    assert (rfa.lines[0].pack_size, rfa.lines[0].packs, rfa.lines[0].unit) == (2.0, 450_000, "L")
    for line, why in [
        (LineIn(item="water", quantity=5, unit="gallon"), "not a unit of item"),
        (LineIn(item="water", quantity=-5, unit="L"), "non-negative"),
        (LineIn(item="water", unit="L"), "give a quantity"),
        (LineIn(item="water", unit="L", packs=3), "go together"),
        (LineIn(item="water", unit="L", packs=3, pack_size=2, quantity=7), "are not 7"),
        (
            LineIn(item="helicopter", kind="capability", quantity=2, unit="L"),
            "not a unit of capability",
        ),
    ]:
        with pytest.raises(Invalid, match=why):
            jjoc.service.edit_rfa(op, rfa.id, RfaPatch(lines=[line]))
    out = jjoc.service.edit_rfa(
        op,
        rfa.id,
        RfaPatch(
            lines=[
                LineIn(item="water", quantity=900, unit="m3"),
                LineIn(item="blanket", unit="pcs", quantity=20_000),
            ]
        ),
    )
    assert [(x.item, x.requested, x.unit) for x in out.lines] == [
        ("water", 900_000, "L"),
        ("blanket", 20_000, "piece"),
    ]
    assert len(jjoc.service.rfas(op, incident_id="eq-2024-noto")) == 1
    assert jjoc.service.rfas(op, incident_id="other") == []


def test_military_offers_carry_the_oslo_fields(nodes: tuple[Node, Node, Node]) -> None:
    from kizuna.assistance.models import Oslo

    jjoc, usfj, _ = nodes
    rid = open_rfa(jjoc)
    sync(jjoc, usfj)
    with pytest.raises(Invalid, match="Oslo"):
        usfj.service.create_offer(usfj.user(), water_offer(rid, 1, military=True))
    oslo = Oslo(
        civilian_alternative_considered=True,
        unique_advantage="timeliness",
        handover_date="2030-01-10T00:00:00Z",
        no_cost_to_affected_state=True,
    )
    out = usfj.service.create_offer(
        usfj.user(), water_offer(rid, 1, military=True, oslo=oslo, asset="LCAC")
    )
    assert out.military and out.oslo == oslo
