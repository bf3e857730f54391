"""Assistance lifecycles: who may make each move, reasons, receipt rules, convergence,
roll-up maths and the catalog."""

from __future__ import annotations

from functools import reduce
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.assistance import rules
from kizuna.assistance.models import LineIn
from kizuna.assistance.rules import (
    AFFECTED,
    OFFER_LIFECYCLE,
    OFFERER,
    REQUESTER,
    RFA_LIFECYCLE,
    TASK_LIFECYCLE,
)
from kizuna.core import lifecycle as lc
from kizuna.core.catalog import Catalog, missing_keys
from kizuna.core.errors import Forbidden, Invalid
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, RecordState

CATALOG = Catalog("kizuna.assistance")
SPECS = {"rfa": RFA_LIFECYCLE, "offer": OFFER_LIFECYCLE, "task": TASK_LIFECYCLE}


def test_catalog_is_complete_and_names_every_status_and_reason() -> None:
    assert missing_keys("kizuna.assistance") == {"en": [], "ja": []}
    for name, spec in SPECS.items():
        for status in spec.ranks:
            assert CATALOG.has(f"status.{name}.{status}"), (name, status)
    for code in rules.REASON_CODES:
        assert CATALOG.text(f"reason.{code}").ja, code
    for c in ("NONE", "PARTIAL", "COMPLETE"):
        assert CATALOG.has(f"coverage.{c}")


MATRIX = [
    (name, step, side)
    for name, spec in SPECS.items()
    for step, side in sorted(spec.transitions.items())
]


@pytest.mark.parametrize(("name", "step", "side"), MATRIX)
def test_permission_matrix(name: str, step: tuple[str, str], side: str) -> None:
    spec = SPECS[name]
    frm, to = step
    codes = spec.reasons.get(to)
    reason = sorted(codes)[0] if codes else ""
    for acting in spec.side_roles:
        if acting == side:
            assert lc.check_transition(spec, frm, to, {acting}, [], reason) == to
        else:
            with pytest.raises(Forbidden):
                lc.check_transition(spec, frm, to, {acting}, [], reason)
    with pytest.raises(Forbidden):
        lc.check_transition(spec, frm, to, {side}, ["viewer"], reason)
    if codes:  # every negative or closing move needs one of its fixed codes
        with pytest.raises(Invalid, match="needs a reason"):
            lc.check_transition(spec, frm, to, {side}, [], "")
        with pytest.raises(Invalid, match="unknown reason"):
            lc.check_transition(spec, frm, to, {side}, [], "because")


def test_the_expected_moves_belong_to_the_expected_sides() -> None:
    t = RFA_LIFECYCLE.transitions
    assert t[("SUBMITTED", "VALIDATED")] == AFFECTED and t[("VALIDATED", "OPEN")] == AFFECTED
    assert t[("DRAFT", "SUBMITTED")] == REQUESTER and t[("OPEN", "SUPERSEDED")] == REQUESTER
    o = OFFER_LIFECYCLE.transitions
    assert o[("OFFERED", "ACCEPTED")] == AFFECTED and o[("OFFERED", "DECLINED")] == AFFECTED
    assert o[("ACCEPTED", "IN_TRANSIT")] == OFFERER and o[("OFFERED", "WITHDRAWN")] == OFFERER
    assert set(RFA_LIFECYCLE.reasons) == {"DECLINED", "CANCELLED", "SUPERSEDED"}
    assert set(OFFER_LIFECYCLE.reasons) == {"DECLINED", "WITHDRAWN"}
    assert set(TASK_LIFECYCLE.reasons) == {"CANCELLED"}


# -- receipt --------------------------------------------------------------------

LABEL = parse_label("U")
_seq = iter(range(1, 100_000))


def ev(rt: str, origin: str, op: str = "patch", **payload: Any) -> Event:
    n = next(_seq)
    return Event(
        origin=origin,
        seq=n,
        hlc=n,
        record_type=rt,
        record_id="x1",
        op=op,
        label=LABEL,
        payload=payload,  # type: ignore[arg-type]
    )


def step(rt: str, origin: str, frm: str, to: str, **sets: Any) -> Event:
    return ev(rt, origin, action="transition", reason="other", set=sets, **{"from": frm, "to": to})


RFA_STATE = reduce(
    rules.merge_rfa,
    [ev("rfa", "jjoc", "create", action="create", set={"affected_node": "jjoc", "lines": []})],
    None,
)
OFFER_STATE = reduce(
    rules.merge_offer,
    [ev("offer", "usfj", "create", action="create", set={"affected_node": "jjoc", "lines": []})],
    None,
)
SELF_OFFER = reduce(
    rules.merge_offer,
    [ev("offer", "usfj", "create", action="create", set={"affected_node": "usfj", "lines": []})],
    None,
)


@pytest.mark.parametrize(
    ("state", "event", "reason"),
    [
        (RFA_STATE, step("rfa", "jjoc", "SUBMITTED", "VALIDATED", priority="high"), None),
        (RFA_STATE, step("rfa", "aus", "SUBMITTED", "VALIDATED"), "not_entitled"),
        (RFA_STATE, ev("rfa", "aus", action="set", set={"priority": "low"}), "not_affected_state"),
        (RFA_STATE, ev("rfa", "usfj", action="set", set={"lines": []}), "not_owner"),
        (RFA_STATE, ev("rfa", "usfj", "tombstone"), "not_owner"),
        (RFA_STATE, ev("rfa", "aus", action="noop"), "not_party"),
        (OFFER_STATE, step("offer", "jjoc", "OFFERED", "ACCEPTED", accepted_for="r1"), None),
        (OFFER_STATE, step("offer", "usfj", "OFFERED", "ACCEPTED"), "not_entitled"),
        (
            OFFER_STATE,
            ev("offer", "usfj", action="set", set={"accepted_for": "r1"}),
            "not_affected_state",
        ),
        (OFFER_STATE, step("offer", "aus", "OFFERED", "DECLINED"), "not_entitled"),
        (OFFER_STATE, ev("offer", "jjoc", action="set", set={"progress": {}}), "not_owner"),
        (OFFER_STATE, step("offer", "jjoc", "ACCEPTED", "IN_TRANSIT"), "not_entitled"),
        (OFFER_STATE, step("offer", "usfj", "ACCEPTED", "IN_TRANSIT", progress={}), None),
        # An offer naming its own node as the affected one still cannot be accepted by it.
        (SELF_OFFER, step("offer", "usfj", "OFFERED", "ACCEPTED"), "not_entitled"),
    ],
)
def test_owner_rules_refuse_what_a_peer_does_not_own(
    state: RecordState, event: Event, reason: str | None
) -> None:
    rule = rules.offer_owner if event.record_type == "offer" else rules.rfa_owner
    assert rule(state, event) == reason


def test_a_forged_peer_event_is_refused_at_receipt_over_the_stand_in_federation() -> None:
    from kizuna.assistance.models import RfaTransitionIn
    from tests.assistance.nodes import ship, start, water_rfa

    jjoc, aus = start("jjoc", "JPN"), start("aus", "AUS")
    rfa = jjoc.service.create_rfa(jjoc.user(), water_rfa())
    jjoc.service.transition_rfa(jjoc.user(), rfa.id, RfaTransitionIn(to="SUBMITTED"))
    ship(jjoc, aus)
    state = aus.ctx.events.get("rfa", rfa.id)
    assert state is not None
    # AUS's node writes a validation locally (around its service) and ships it to JJOC.
    from kizuna.store.base import Draft

    aus.ctx.events.append(
        [
            Draft(
                "rfa",
                rfa.id,
                "patch",
                state.label,
                {"action": "transition", "from": "SUBMITTED", "to": "VALIDATED"},
            )
        ]
    )
    ship(aus, jjoc)
    assert jjoc.refused == [("rfa", "aus", "not_entitled")]
    assert jjoc.service.rfa(jjoc.user(), rfa.id).status == "SUBMITTED"
    jjoc.ctx.backend.close()
    aus.ctx.backend.close()


# -- convergence ----------------------------------------------------------------


def _events() -> list[Event]:
    """A realistic history on cut-off nodes: JJOC opens an RFA; USFJ offers; JJOC accepts
    while USFJ withdraws; both report; duplicates and clock ties on purpose."""
    mk = lambda o, s, h, rt, op, p: Event(  # noqa: E731
        origin=o,
        seq=s,
        hlc=h,
        record_type=rt,
        record_id="r1" if rt == "rfa" else "o1",
        op=op,
        label=LABEL,
        payload=p,
    )
    tr = lambda f, t, **x: {"action": "transition", "from": f, "to": t, "reason": "need_met", **x}  # noqa: E731
    return [
        mk(
            "jjoc",
            1,
            10,
            "rfa",
            "create",
            {"action": "create", "set": {"affected_node": "jjoc", "lines": [1]}},
        ),
        mk("jjoc", 2, 11, "rfa", "patch", tr("DRAFT", "SUBMITTED")),
        mk("jjoc", 3, 12, "rfa", "patch", tr("SUBMITTED", "VALIDATED", set={"priority": "high"})),
        mk("jjoc", 4, 13, "rfa", "patch", tr("VALIDATED", "OPEN")),
        mk("jjoc", 5, 20, "rfa", "patch", tr("OPEN", "COMMITTED")),
        mk("jjoc", 6, 20, "rfa", "patch", tr("OPEN", "CANCELLED")),
        mk(
            "usfj",
            1,
            14,
            "offer",
            "create",
            {"action": "create", "set": {"affected_node": "jjoc", "lines": [2]}},
        ),
        mk("jjoc", 7, 20, "offer", "patch", tr("OFFERED", "ACCEPTED", set={"accepted_for": "r1"})),
        mk("usfj", 2, 20, "offer", "patch", tr("OFFERED", "WITHDRAWN")),
        mk(
            "usfj",
            3,
            21,
            "offer",
            "patch",
            {"action": "set", "set": {"progress": {"water": {"delivered": 5}}}},
        ),
        mk(
            "usfj",
            4,
            19,
            "offer",
            "patch",
            {"action": "set", "set": {"progress": {"water": {"delivered": 1}}}},
        ),
    ]


EVENTS = _events()


def _fold(events: list[Event]) -> dict[str, RecordState | None]:
    merges = {"rfa": rules.merge_rfa, "offer": rules.merge_offer}
    out: dict[str, RecordState | None] = {"rfa": None, "offer": None}
    for e in events:
        out[e.record_type] = merges[e.record_type](out[e.record_type], e)
    return out


REFERENCE = _fold(EVENTS)


@settings(max_examples=400, deadline=None)
@given(st.permutations(EVENTS), st.lists(st.sampled_from(EVENTS), max_size=8))
def test_rfa_and_offer_events_converge_in_any_order(order: list[Event], dups: list[Event]) -> None:
    got = _fold([*order, *dups])
    assert got == REFERENCE
    rfa, offer = got["rfa"], got["offer"]
    assert rfa is not None and offer is not None
    assert rules.derive_rfa(rfa).status == "CANCELLED"  # outranks the concurrent COMMITTED
    o = rules.derive_offer(offer)
    assert (o.status, o.accepted_for, o.progress) == (
        "WITHDRAWN",
        "r1",
        {"water": {"delivered": 5}},
    )
    assert rules.derive_rfa(rfa).priority == "high"


# -- lines and roll-ups -----------------------------------------------------------


def test_line_maths_packs_gap_and_roll_ups() -> None:
    (water,) = rules.normalise_lines([LineIn(item="water", unit="L", pack_size=2, packs=450_000)])
    assert water["quantity"] == 900_000
    (beds,) = rules.normalise_lines(
        [LineIn(item="medical_bed", kind="capability", unit="bed", quantity=40)]
    )
    with pytest.raises(Invalid, match="repeated"):
        rules.normalise_lines([LineIn(item="water", unit="L", quantity=1)] * 2)
    rfa = rules.Rfa("r1", "jjoc", "OPEN", "JPN", "jjoc", None, [water, beds], None, None, {})

    def offer(oid: str, status: str, litres: float, node: str = "jjoc", **kw: Any) -> rules.Offer:
        line = {**water, "quantity": litres}
        return rules.Offer(
            oid, "usfj", status, "r1", None, node, [line], kw.get("progress", {}), None
        )

    lines, total = rules.roll_up(rfa, [offer("o1", "OFFERED", 500_000)])
    assert (lines[0]["offered"], lines[0]["committed"], lines[0]["gap"], total) == (
        500_000,
        0,
        900_000,
        "NONE",
    )
    both = [
        offer("o1", "ACCEPTED", 500_000, progress={"water": {"in_transit": 100, "delivered": 50}}),
        offer("o2", "DECLINED", 900_000),
        offer("o3", "ACCEPTED", 900_000, node="elsewhere"),  # names another affected node
    ]
    lines, total = rules.roll_up(rfa, both)
    assert (lines[0]["committed"], lines[0]["gap"], lines[0]["coverage"], total) == (
        500_000,
        400_000,
        "PARTIAL",
        "PARTIAL",
    )
    assert (lines[0]["in_transit"], lines[0]["delivered"], lines[1]["coverage"]) == (
        100,
        50,
        "NONE",
    )
    bed_offer = rules.Offer("o4", "aus", "IN_TRANSIT", None, "r1", "jjoc", [{**beds}], {}, None)
    lines, total = rules.roll_up(rfa, [*both, offer("o5", "DELIVERED", 400_000), bed_offer])
    assert ([x["gap"] for x in lines], total) == ([0, 0], "COMPLETE")


def test_every_line_the_needs_calculator_drafts_is_a_valid_rfa_line() -> None:
    """The relief domain's Sphere lines go straight into an RFA (the web's needs button)."""
    import msgspec

    from kizuna.relief.rules import needs

    drafts = needs(20_000, 3)
    lines = [msgspec.convert(msgspec.to_builtins(d), LineIn) for d in drafts]
    normalised = rules.normalise_lines(lines)  # Invalid on a unit the RFA does not know
    assert [(n["item"], n["quantity"]) for n in normalised] == [
        (d.item, d.quantity) for d in drafts
    ]
