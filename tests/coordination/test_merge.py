"""Merge of concurrent request changes: same events, any order, duplicates → same state."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.coordination.models import REQUEST, Status
from kizuna.coordination.rules import (
    ADDRESSEE,
    REQUESTER,
    TERMINAL,
    allowed_transitions,
    derive,
    is_complete,
    merge_request,
)
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.store.sqlite import SqliteStore

RID = "0190a000-0000-7000-8000-000000000001"
LABELS = [parse_label(m) for m in ("S//REL TO USA, JPN", "C//REL TO USA, JPN", "S//NOFORN", "U")]
TITLES = ["Fuel at Misawa", "Misawa fuel (rev)", "燃料支援"]


@dataclass
class Sim:
    """A node writing events against its local state, as the service does."""

    node: str
    side: str | None
    clock: int = 0
    seq: int = 0
    state: RecordState | None = None
    log: list[Event] = field(default_factory=list)

    def emit(self, op: str, label_i: int, payload: dict[str, Any], bump: int) -> Event:
        self.seq += 1
        self.clock += 1 + bump
        event = Event(
            origin=self.node,
            seq=self.seq,
            hlc=self.clock,
            record_type=REQUEST,
            record_id=RID,
            op=op,
            label=LABELS[label_i],
            precedence=Precedence(label_i % 4),
            payload=payload,
            author=f"{self.node}-user",
        )
        self.receive([event])
        return event

    def receive(self, events: list[Event]) -> None:
        for e in events:
            self.clock = max(self.clock, e.hlc)
            self.state = merge_request(self.state, e)
            self.log.append(e)

    def act(self, choice: int, bump: int, label_i: int) -> None:
        if self.state is None or not is_complete(self.state):
            if self.side is None:  # a stray writer: content it does not own
                self.emit(
                    "patch", label_i, {"action": "edit", "set": {"title": {"en": "rogue"}}}, bump
                )
            return
        r = derive(self.state)
        sides = [self.side] if self.side else []
        options: list[tuple[str, ...]] = [
            ("transition", to) for to in allowed_transitions(r.status, sides, [])
        ]
        options.append(("comment",))
        if self.side == REQUESTER and r.status not in TERMINAL:
            options.append(("edit",))
        if self.side is None:
            options += [("transition", "COMPLETED"), ("rogue",)]
        kind = options[choice % len(options)]
        if kind[0] == "transition":
            sets: dict[str, Any] = {}
            if kind[1] == "DECLINED":
                sets["decline_reason"] = f"no capacity ({self.node} {bump})"
            if self.side == ADDRESSEE:
                sets["response"] = {"en": f"answer {choice}", "ja": ""}
            payload = {
                "action": "transition",
                "from": r.status.value,
                "to": kind[1],
                "reason": "",
                "set": sets,
            }
            self.emit("patch", 0, payload, bump)
        elif kind[0] == "comment":
            self.emit(
                "patch",
                label_i,
                {"action": "comment", "id": f"{self.node}-{self.seq}", "text": {"en": "c"}},
                bump,
            )
        elif kind[0] == "edit":
            sets = {"title": {"en": TITLES[choice % 3], "ja": ""}, "due": 1000.0 + choice}
            self.emit("patch", label_i, {"action": "edit", "set": sets}, bump)
        else:
            self.emit(
                "patch",
                label_i,
                {"action": "edit", "set": {"title": {"en": "rogue"}, "response": "rogue"}},
                bump,
            )


def create(sim: Sim, addressees: tuple[str, ...] = ("jjoc",)) -> None:
    sets = {
        "addressees": list(addressees),
        "kind": "support",
        "title": {"en": TITLES[0], "ja": ""},
        "body": {"en": "", "ja": ""},
        "original_language": "en",
        "links": [],
        "due": 600.0,
        "due_auto": True,
    }
    sim.emit("create", 0, {"action": "create", "set": sets}, 0)
    sim.emit(
        "patch",
        1,
        {
            "action": "attach",
            "id": "a1",
            "name": "plan.txt",
            "media_type": "text/plain",
            "content": b"plan",
        },
        0,
    )


STEP = st.one_of(
    st.tuples(
        st.just("act"),
        st.sampled_from(["usfj", "jjoc", "rogue"]),
        st.integers(0, 9),
        st.integers(0, 2),
        st.integers(0, 3),
    ),
    st.tuples(
        st.just("sync"),
        st.sampled_from(["usfj", "jjoc", "rogue"]),
        st.sampled_from(["usfj", "jjoc", "rogue"]),
    ),
)


def run(steps: list[tuple[Any, ...]]) -> tuple[dict[str, Sim], list[Event]]:
    sims = {
        "usfj": Sim("usfj", REQUESTER),
        "jjoc": Sim("jjoc", ADDRESSEE),
        "rogue": Sim("rogue", None),
    }
    create(sims["usfj"])
    for step in steps:
        if step[0] == "act":
            sims[step[1]].act(step[2], step[3], step[4])
        elif step[1] != step[2]:
            src, dst = sims[step[1]], sims[step[2]]
            dst.receive([e for e in src.log if e.origin == src.node])
    events = [e for s in sims.values() for e in s.log if e.origin == s.node]
    return sims, events


def fold(events: list[Event]) -> RecordState:
    state = reduce(merge_request, events, None)
    assert state is not None
    return state


def check_ownership(state: RecordState, events: list[Event]) -> None:
    r = derive(state)
    assert r.requester == "usfj" and r.addressees == ["jjoc"]
    assert r.title["en"] != "rogue" and r.response != "rogue"
    assert [a.id for a in r.attachments] == ["a1"]
    # The label is the requester's latest create/edit label, never a comment's.
    content = [
        e for e in events if e.origin == "usfj" and e.payload["action"] in ("create", "edit")
    ]
    assert state.label == max(content, key=lambda e: e.order).label
    # Terminal states stick: if any terminal transition exists, the result is terminal.
    targets = {e.payload.get("to") for e in events if e.payload["action"] == "transition"}
    if targets & {s.value for s in TERMINAL}:
        assert r.status in TERMINAL
    comments = [c.id for c in r.comments]
    assert len(comments) == len(set(comments))
    assert len(comments) == sum(e.payload["action"] == "comment" for e in events)


@settings(max_examples=2_000)  # 10,000 is for label and release properties; this one is slower
@given(
    steps=st.lists(STEP, max_size=25),
    data=st.data(),
)
def test_any_order_with_duplicates_converges(
    steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    sims, events = run(steps)
    order1 = data.draw(st.permutations(events))
    order2 = data.draw(st.permutations(events))
    dupes = data.draw(st.lists(st.sampled_from(events), max_size=6))
    at = data.draw(st.integers(0, len(order2)))
    order2 = order2[:at] + dupes + order2[at:] + dupes[:2]
    one, two = fold(order1), fold(order2)
    assert one == two
    check_ownership(one, events)
    # Once fully synchronised, each node holds that same state too.
    for sim in sims.values():
        sim.receive(events)
        assert sim.state == one


@settings(max_examples=150)  # two real stores per example: kept small even in CI
@given(steps=st.lists(STEP, max_size=15), data=st.data())
def test_two_stores_converge(steps: list[tuple[Any, ...]], data: st.DataObject) -> None:
    _, events = run(steps)
    expected = fold(events)
    states = []
    for node_id in ("peer1", "peer2"):
        store = SqliteStore(":memory:", node_id)
        store.register_merge(REQUEST, merge_request)
        order = data.draw(st.permutations(events))
        cut = data.draw(st.integers(0, len(order)))
        store.apply(order[:cut])
        store.apply(order[cut // 2 :])  # overlapping batches: duplicates
        store.apply(order[cut:])
        state = store.get(REQUEST, RID)
        store.close()
        states.append(state)
    assert states[0] == states[1] == expected


def test_concurrent_accept_and_decline_resolve_to_decline() -> None:
    usfj, jjoc, jjoc2 = Sim("usfj", REQUESTER), Sim("jjoc", ADDRESSEE), Sim("jjoc2", ADDRESSEE)
    create(usfj, ("jjoc", "jjoc2"))
    usfj.act(0, 0, 0)  # SUBMITTED
    jjoc.receive(usfj.log)
    jjoc.act(0, 0, 0)  # ACKNOWLEDGED
    jjoc2.receive(jjoc.log)
    # Cut off from each other, one addressee accepts (later clock), the other declines.
    jjoc.act(0, 5, 0)
    jjoc2.act(1, 0, 0)
    assert derive(jjoc.state).status is Status.ACCEPTED  # type: ignore[arg-type]
    assert derive(jjoc2.state).status is Status.DECLINED  # type: ignore[arg-type]
    events = [*jjoc.log, jjoc2.log[-1]]
    for order in (events, events[::-1]):
        r = derive(fold(order))
        assert r.status is Status.DECLINED
        assert r.decline_reason.startswith("no capacity (jjoc2")


def test_cancel_while_cut_off_loses_to_completion() -> None:
    sims, _ = run([("sync", "usfj", "jjoc"), ("act", "usfj", 0, 0, 0), ("sync", "usfj", "jjoc")])
    jjoc, usfj = sims["jjoc"], sims["usfj"]
    for _ in range(4):  # ACKNOWLEDGED, ACCEPTED, IN_PROGRESS, COMPLETED
        jjoc.act(0, 0, 0)
    usfj.act(0, 0, 0)  # CANCELLED, never having heard back
    assert derive(usfj.state).status is Status.CANCELLED  # type: ignore[arg-type]
    everything = [e for s in sims.values() for e in s.log if e.origin == s.node]
    assert derive(fold(everything)).status is Status.COMPLETED
    assert derive(fold(everything[::-1])).status is Status.COMPLETED
