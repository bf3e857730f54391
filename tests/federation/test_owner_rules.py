"""The ownership rules federation applies at receipt, as pure functions of (state, event):
the default (a record is its creator's) and the coordination request's (by side)."""

from __future__ import annotations

from functools import reduce
from typing import Any

import pytest

from kizuna.coordination import plugin as coordination
from kizuna.coordination.rules import merge_request
from kizuna.core.labels import parse_label
from kizuna.core.merge import lww_merge
from kizuna.core.records import Event, RecordState
from kizuna.kernel.contract import RecordType, origin_owns
from kizuna.reports import plugin as reports

LABEL = parse_label("S//REL TO USA, JPN")
_seq = iter(range(1, 10_000))


def ev(origin: str, op: str = "patch", **payload: Any) -> Event:
    return Event(
        origin=origin,
        seq=next(_seq),
        hlc=next(_seq),
        record_type="r",
        record_id="r1",
        op=op,  # type: ignore[arg-type]
        label=LABEL,
        payload=payload,
    )


def test_every_record_type_has_an_ownership_rule() -> None:
    assert RecordType(name="x").owner is origin_owns
    types = [*reports.record_types(), *coordination.record_types()]
    assert {rt.name for rt in types} == {"report", "request"}


def test_a_record_is_written_only_by_its_creator() -> None:
    created = lww_merge(None, ev("usfj", "create", title="t"))
    assert origin_owns(None, ev("jjoc", "create")) is None  # a new record: the sender's
    assert origin_owns(created, ev("usfj")) is None
    for op in ("create", "patch", "tombstone"):
        assert origin_owns(created, ev("jjoc", op)) == "not_owner"
    # A record held before its create (a patch overtook it, or only a wider patch was
    # releasable here) is its first writer's: nobody else may write it, nor claim it.
    early = lww_merge(None, ev("usfj", title="t2"))
    assert early.origin == "usfj"
    assert origin_owns(early, ev("usfj", "create")) is None
    assert origin_owns(early, ev("jjoc")) == "not_owner"
    assert origin_owns(early, ev("aus", "create")) == "not_owner"


REQUEST = reduce(
    merge_request,
    [
        ev(
            "usfj",
            "create",
            action="create",
            set={"addressees": ["jjoc"], "kind": "support", "title": {"en": "Fuel"}},
        ),
        ev("usfj", action="transition", **{"from": "DRAFT", "to": "SUBMITTED"}),
    ],
    None,
)


def step(origin: str, frm: str, to: str, **sets: Any) -> Event:
    return ev(origin, action="transition", set=sets, **{"from": frm, "to": to})


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (step("jjoc", "SUBMITTED", "ACKNOWLEDGED"), None),
        (step("jjoc", "ACKNOWLEDGED", "DECLINED", decline_reason="no"), None),
        (step("jjoc", "ACCEPTED", "IN_PROGRESS", response={"en": "ok"}), None),
        (step("usfj", "SUBMITTED", "CANCELLED"), None),
        (step("usfj", "DRAFT", "SUBMITTED", due=1.0), None),
        (ev("usfj", action="edit", set={"title": {"en": "Fuel (rev)"}}), None),
        (ev("jjoc", action="comment", id="c1", text={"en": "on it"}), None),
        (ev("usfj", "tombstone"), None),
        # The addressee may not do the requester's part, nor the requester the addressee's.
        (step("jjoc", "ACKNOWLEDGED", "CANCELLED"), "not_entitled"),
        (step("usfj", "IN_PROGRESS", "COMPLETED"), "not_entitled"),
        (step("jjoc", "SUBMITTED", "ACKNOWLEDGED", due=1.0), "not_owner"),
        (step("usfj", "SUBMITTED", "CANCELLED", response={"en": "x"}), "not_addressee"),
        (ev("jjoc", action="edit", set={"title": {"en": "x"}}), "not_owner"),
        (ev("jjoc", action="attach", id="a1", name="x"), "not_owner"),
        (ev("jjoc", "tombstone"), "not_owner"),
        (ev("jjoc", "create", action="create", set={"addressees": ["jjoc"]}), "not_owner"),
        (step("jjoc", "DRAFT", "COMPLETED"), "not_entitled"),  # not a transition at all
        (step("jjoc", "SUBMITTED", "BOGUS"), "not_entitled"),
        # A node that is no party to the request: nothing at all.
        (step("aus", "IN_PROGRESS", "COMPLETED"), "not_entitled"),
        (ev("aus", action="comment", id="c2", text={"en": "hi"}), "not_party"),
        (ev("aus", set={"response": {"en": "done"}}), "not_addressee"),
        (ev("aus", action="noop"), "not_party"),
    ],
)
def test_who_may_write_what_of_a_request(event: Event, reason: str | None) -> None:
    (rule,) = (rt.owner for rt in coordination.record_types())
    assert rule(REQUEST, event) == reason


def test_before_its_create_a_request_refuses_nothing() -> None:
    (rule,) = (rt.owner for rt in coordination.record_types())
    early: RecordState = merge_request(None, step("jjoc", "SUBMITTED", "ACKNOWLEDGED"))
    assert rule(None, step("aus", "IN_PROGRESS", "COMPLETED")) is None
    assert rule(early, step("aus", "IN_PROGRESS", "COMPLETED")) is None
