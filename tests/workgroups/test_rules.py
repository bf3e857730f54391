"""Action item rules: lifecycle, ownership at receipt, due alerts, order independence."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kizuna.core import lifecycle as lc
from kizuna.core.catalog import missing_keys
from kizuna.core.errors import Conflict, Forbidden, Invalid
from kizuna.core.hlc import pack
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.workgroups.rules import (
    ESCALATE,
    LIFECYCLE,
    OPR,
    REMIND,
    derive,
    due_alerts,
    item_owner,
    merge_item,
)
from kizuna.workgroups.service import CATALOG

LABEL = parse_label("S//REL TO USA, JPN", originator="USA")
OPR_ = {"office": "J3", "node": "jjoc", "nation": "JPN", "user": "jp.ao"}
OCR_ = {"office": "J5", "node": "usfj", "nation": "USA", "user": "us.ao"}
CHAIR = {"user": "us.chair", "node": "usfj", "nation": "USA"}
DUE = 2_000_000_000.0


def ev(origin: str, seq: int, payload: dict[str, Any], op: str = "patch", at: float = 0) -> Event:
    return Event(
        origin=origin,
        seq=seq,
        hlc=pack(int((DUE - 10_000 + seq + at) * 1000), 0),
        record_type="action_item",
        record_id="ai-1",
        op=op,  # type: ignore[arg-type]
        label=LABEL,
        precedence=Precedence.ROUTINE,
        payload=payload,
        author=f"{origin}.user",
    )


CREATE = ev(
    "hq",
    1,
    {"action": "create", "set": {"title": {"en": "t", "ja": "t"}, "opr": OPR_, "ocr": OCR_,
                                  "chair": CHAIR, "due": DUE, "priority": "high"}},
    op="create",
)  # fmt: skip


def state_of(*events: Event) -> RecordState:
    state: RecordState | None = None
    for e in events:
        state = merge_item(state, e)
    assert state is not None
    return state


def test_only_the_opr_moves_an_item_and_skipping_needs_a_reason() -> None:
    assert lc.allowed_transitions(LIFECYCLE, "OPEN", {OPR}, []) == [
        "IN_PROGRESS",
        "SKIPPED",
        "DONE",
    ]
    assert lc.allowed_transitions(LIFECYCLE, "OPEN", {"ocr", "chair", "origin"}, []) == []
    with pytest.raises(Forbidden):
        lc.check_transition(LIFECYCLE, "OPEN", "IN_PROGRESS", {"ocr"}, [], "")
    with pytest.raises(Invalid, match="reason"):
        lc.check_transition(LIFECYCLE, "IN_PROGRESS", "SKIPPED", {OPR}, [], " ")
    with pytest.raises(Conflict):
        lc.check_transition(LIFECYCLE, "DONE", "IN_PROGRESS", {OPR}, [], "")
    # A user whose roles are all elsewhere may not act for the OPR.
    with pytest.raises(Forbidden):
        lc.check_transition(LIFECYCLE, "OPEN", "DONE", {OPR}, ["viewer"], "")
    assert lc.check_transition(LIFECYCLE, "OPEN", "DONE", {OPR}, ["action_officer"], "") == "DONE"


def test_peers_are_held_to_their_side_at_receipt() -> None:
    state = state_of(CREATE)
    move = {"action": "transition", "from": "OPEN", "to": "IN_PROGRESS"}
    assert item_owner(state, ev("jjoc", 2, move)) is None
    assert item_owner(state, ev("usfj", 2, move)) == "not_entitled"  # the OCR may not
    assert item_owner(state, ev("jjoc", 3, {"action": "edit", "set": {"due": 1.0}})) == "not_owner"
    concur = {"action": "set", "set": {"concurrence": {"concur": True}}}
    assert item_owner(state, ev("usfj", 4, concur)) is None
    assert item_owner(state, ev("jjoc", 4, concur)) == "not_ocr"
    assert (
        item_owner(state, ev("aus", 5, {"action": "comment", "id": "c", "text": {}})) == "not_party"
    )
    remind = {"action": "alert", "id": "x", "kind": REMIND, "due": DUE}
    escalate = {"action": "alert", "id": "y", "kind": ESCALATE, "due": DUE}
    assert item_owner(state, ev("jjoc", 6, remind)) is None
    assert item_owner(state, ev("usfj", 6, remind)) == "not_opr"
    assert item_owner(state, ev("usfj", 7, escalate)) is None
    assert item_owner(state, ev("jjoc", 7, escalate)) == "not_chair"


def test_due_alerts_on_the_nodes_clock() -> None:
    item = derive(state_of(CREATE))
    day = 86_400.0
    assert due_alerts(item, "jjoc", DUE - 2 * day, day) == []  # too early
    assert due_alerts(item, "jjoc", DUE - 3600, day) == [REMIND]  # the OPR's node
    assert due_alerts(item, "usfj", DUE - 3600, day) == []
    assert due_alerts(item, "usfj", DUE + 1, day) == [ESCALATE]  # the chair's node
    assert due_alerts(item, "jjoc", DUE + 1, day) == []  # overdue: no reminder any more
    reminded = derive(
        state_of(CREATE, ev("jjoc", 2, {"action": "alert", "id": f"reminder:{DUE!r}",
                                        "kind": REMIND, "due": DUE}))
    )  # fmt: skip
    assert due_alerts(reminded, "jjoc", DUE - 60, day) == []  # once per due date
    done = derive(
        state_of(CREATE, ev("jjoc", 2, {"action": "transition", "from": "OPEN", "to": "DONE"}))
    )
    assert due_alerts(done, "usfj", DUE + 1, day) == []


def test_concurrent_moves_converge_whatever_the_order() -> None:
    events = [
        CREATE,
        ev("jjoc", 2, {"action": "transition", "from": "OPEN", "to": "IN_PROGRESS"}),
        ev("jjoc", 3, {"action": "transition", "from": "IN_PROGRESS", "to": "SKIPPED",
                       "reason": "overtaken by events"}),
        ev("usfj", 2, {"action": "set", "set": {"concurrence": {"concur": False}}}, at=0.5),
        ev("usfj", 3, {"action": "comment", "id": "c1", "text": {"en": "hi", "ja": ""}}, at=0.5),
        ev("usfj", 4, {"action": "alert", "id": f"escalation:{DUE!r}", "kind": ESCALATE, "due": DUE}),
    ]  # fmt: skip
    seen = set()
    for order in itertools.permutations(events):
        item = derive(state_of(*order, order[0]))  # with a duplicate
        seen.add(
            (
                item.status,
                item.closing["reason"] if item.closing else None,
                repr(item.concurrence),
                len(item.comments),
                len(item.alerts),
            )
        )
    assert seen == {("SKIPPED", "overtaken by events", "{'concur': False}", 1, 1)}


def test_both_languages_have_every_key() -> None:
    assert missing_keys("kizuna.workgroups") == {"en": [], "ja": []}
    # Japanese terms are the glossary's where it has them.
    assert CATALOG.text("level.acg").ja == "同盟調整グループ"
    assert CATALOG.text("level.bocc").ja == "共同統合運用調整所"
    assert CATALOG.text("action_item").ja == "対応事項"
