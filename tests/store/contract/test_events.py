"""EventLog contract: numbering, atomicity, idempotency, convergence, durability."""

from __future__ import annotations

import random
import time
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.hlc import pack
from kizuna.core.merge import lww_merge
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.store.base import Backend, Draft
from tests.store.contract.support import CONF, LABELS, SECRET, BackendFactory, Opener, U, scratch

ORIGINS = ["jjoc", "aus", "kor"]


def peer_event(origin: str, seq: int, record_id: str = "r1", **kw: Any) -> Event:
    fields: dict[str, Any] = {
        "hlc": pack(int(time.time() * 1000), seq),
        "record_type": "report",
        "op": "create" if seq == 1 else "patch",
        "label": SECRET,
        "payload": {"title": f"{origin}-{seq}"},
        "author": f"{origin}-user",
    }
    fields.update(kw)
    return Event(origin=origin, seq=seq, record_id=record_id, **fields)


def comparable(state: RecordState | None) -> tuple[object, ...] | None:
    """What a reader of a record sees (the clocks' encoding is the merge's business)."""
    if state is None:
        return None
    return (
        state.record_type,
        state.record_id,
        state.fields,
        state.label,
        state.precedence,
        state.deleted,
        state.origin,
        state.created_by,
        state.updated_by,
        state.created_hlc,
        state.updated_hlc,
    )


def log_keys(backend: Backend) -> list[tuple[str, int]]:
    return [e.key for _, e in backend.events.events_after(0, 1_000_000)]


# -- append ---------------------------------------------------------------------


def test_append_numbers_our_events_1_to_n_with_increasing_hlc(backend: Backend) -> None:
    log = backend.events
    assert log.node_id == "usfj"
    made: list[Event] = []
    made += log.append([Draft("report", "r1", "create", U, {"title": "a"}, author="alice")])
    made += log.append(
        [
            Draft("report", "r1", "patch", SECRET, {"title": "b"}, precedence=Precedence.FLASH),
            Draft("report", "r2", "create", CONF, {"body": 1}, new_record=True),
            Draft("note", "n1", "create", U, {}),
        ]
    )
    made += log.append([Draft("report", "r2", "tombstone", CONF, {})])
    assert [e.seq for e in made] == [1, 2, 3, 4, 5]
    assert {e.origin for e in made} == {"usfj"}
    hlcs = [e.hlc for e in made]
    assert hlcs == sorted(set(hlcs))  # strictly increasing, within and across batches
    second = made[1]
    assert (second.record_type, second.record_id, second.op) == ("report", "r1", "patch")
    assert (second.label, second.precedence, second.payload) == (
        SECRET,
        Precedence.FLASH,
        {"title": "b"},
    )
    assert made[0].author == "alice"
    assert log_keys(backend) == [e.key for e in made]


def test_append_after_a_peer_event_orders_after_it(backend: Backend) -> None:
    """A local edit made after seeing a remote one wins, even if the peer's clock runs ahead."""
    log = backend.events
    ahead = pack(int(time.time() * 1000) + 3_600_000, 0)  # an hour ahead of us
    log.apply([peer_event("jjoc", 1, hlc=ahead, payload={"title": "theirs"})])
    (mine,) = log.append([Draft("report", "r1", "patch", SECRET, {"title": "ours"})])
    assert mine.hlc > ahead
    state = log.get("report", "r1")
    assert state is not None and state.fields["title"] == "ours"


def _poisoned(state: RecordState | None, event: Event) -> RecordState:
    if event.payload.get("poison"):
        raise ValueError("poison")
    return lww_merge(state, event)


def test_a_failed_append_applies_nothing(backend: Backend) -> None:
    log = backend.events
    log.register_merge("report", _poisoned)
    log.append([Draft("report", "r0", "create", U, {"title": 0})])
    heard: list[Event] = []
    log.on_commit(heard.extend)
    good = Draft("report", "r1", "create", U, {"title": 1})
    bad = Draft("report", "r0", "patch", U, {"poison": True})  # the merge raises
    with pytest.raises(ValueError, match="poison"):
        log.append([good, bad])
    assert log.get("report", "r1") is None
    r0 = log.get("report", "r0")
    assert r0 is not None and r0.fields == {"title": 0}
    assert log_keys(backend) == [("usfj", 1)]
    assert heard == []
    # the failed batch used no sequence numbers
    assert [e.seq for e in log.append([good])] == [2]


def test_a_failed_apply_applies_nothing(backend: Backend) -> None:
    log = backend.events
    log.register_merge("report", _poisoned)
    batch = [
        peer_event("jjoc", 1, "r1"),
        peer_event("jjoc", 2, "r2"),
        peer_event("jjoc", 3, "r1", payload={"poison": True}),
    ]
    with pytest.raises(ValueError, match="poison"):
        log.apply(batch)
    assert log.get("report", "r1") is None and log.get("report", "r2") is None
    assert log_keys(backend) == []
    # nothing was remembered as seen: the batch without the bad event applies in full
    assert log.apply(batch[:2]) == batch[:2]


# -- apply ----------------------------------------------------------------------


def test_apply_is_idempotent_by_origin_and_seq(backend: Backend) -> None:
    log = backend.events
    first = [peer_event("jjoc", 1), peer_event("jjoc", 2), peer_event("aus", 1, "r2")]
    assert log.apply(first) == first
    assert log.apply(first) == []
    assert log.apply(list(reversed(first))) == []
    later = peer_event("jjoc", 3)
    assert log.apply([*first, later, later]) == [later]  # repeats within a batch count once
    # the key is (origin, seq): a changed body under a seen key is not news
    assert log.apply([peer_event("jjoc", 1, payload={"title": "forged"})]) == []
    state = log.get("report", "r1")
    assert state is not None and state.fields["title"] == "jjoc-3"
    # our own events coming back from a peer are not new either
    mine = log.append([Draft("report", "r9", "create", U, {})])
    assert log.apply(mine) == []
    assert len(log_keys(backend)) == 5


@st.composite
def event_sets(draw: st.DrawFn) -> list[Event]:
    """Events of several origins on a few records, with HLC ties across origins."""
    n = draw(st.integers(1, 14))
    seqs = dict.fromkeys(ORIGINS, 0)
    events = []
    for _ in range(n):
        origin = draw(st.sampled_from(ORIGINS))
        seqs[origin] += 1
        events.append(
            Event(
                origin=origin,
                seq=seqs[origin],
                hlc=draw(st.integers(1, 40)) << 16,
                record_type=draw(st.sampled_from(["report", "report", "note"])),
                record_id=draw(st.sampled_from(["a", "b"])),
                op=draw(st.sampled_from(["create", "patch", "patch", "tombstone"])),
                label=draw(st.sampled_from(LABELS)),
                precedence=draw(st.sampled_from(list(Precedence))),
                payload=draw(
                    st.dictionaries(
                        st.sampled_from(["title", "body", "position"]),
                        st.integers(0, 9),
                        max_size=3,
                    )
                ),
                author=origin + "-user",
            )
        )
    return events


def _fold(events: list[Event]) -> dict[tuple[str, str], RecordState]:
    states: dict[tuple[str, str], RecordState] = {}
    for e in sorted(events, key=lambda e: e.order):  # the merge folds in any order
        key = (e.record_type, e.record_id)
        states[key] = lww_merge(states.get(key), e)
    return states


def _view(backend: Backend) -> dict[tuple[str, str], tuple[object, ...] | None]:
    log = backend.events
    seen = {(s.record_type, s.record_id) for rt in ("report", "note") for s in log.scan(rt)}
    return {key: comparable(log.get(*key)) for key in seen}


@settings(max_examples=60)
@given(event_sets(), st.randoms(use_true_random=False), st.integers(1, 5))
def test_apply_in_any_order_and_batching_converges(
    backend_factory: BackendFactory, events: list[Event], rnd: random.Random, chunk: int
) -> None:
    with scratch(backend_factory) as open_backend:
        a, b = open_backend("usfj"), open_backend("jpn")
        a.events.apply(events)
        shuffled = events + rnd.sample(events, k=len(events) // 2)  # with duplicates
        rnd.shuffle(shuffled)
        new: list[Event] = []
        for i in range(0, len(shuffled), chunk):
            new += b.events.apply(shuffled[i : i + chunk])
        assert sorted(e.key for e in new) == sorted(e.key for e in events)
        expected = {k: comparable(s) for k, s in _fold(events).items()}
        assert _view(a) == expected == _view(b)
        assert sorted(log_keys(a)) == sorted(log_keys(b)) == sorted(e.key for e in events)


# -- reads ----------------------------------------------------------------------


def test_get_and_scan(backend: Backend) -> None:
    log = backend.events
    assert log.get("report", "nope") is None
    assert list(log.scan("report")) == []
    log.append([Draft("report", "r1", "create", U, {"title": "one"}, author="alice")])
    log.append([Draft("report", "r2", "create", SECRET, {"title": "two"})])
    log.append([Draft("note", "n1", "create", U, {"text": "x"})])
    log.append([Draft("report", "r1", "patch", U, {"body": "more"}, author="bob")])
    log.append([Draft("report", "r2", "tombstone", SECRET, {})])
    r1 = log.get("report", "r1")
    assert r1 is not None
    assert r1.fields == {"title": "one", "body": "more"}
    assert (r1.origin, r1.created_by, r1.updated_by) == ("usfj", "alice", "bob")
    r2 = log.get("report", "r2")
    assert r2 is not None and r2.deleted and r2.label == SECRET
    assert log.get("note", "r1") is None  # ids are per record type
    scanned = list(log.scan("report"))
    # every record of the type once, newest update first (lists show that order)
    assert [s.record_id for s in scanned] == ["r2", "r1"]
    assert [comparable(s) for s in scanned] == [comparable(r2), comparable(r1)]
    assert [s.record_id for s in log.scan("note")] == ["n1"]


def test_events_after_pages_through_the_log_in_commit_order(backend: Backend) -> None:
    log = backend.events
    committed: list[Event] = []
    committed += log.append([Draft("report", f"r{i}", "create", U, {}) for i in range(4)])
    committed += log.apply([peer_event("jjoc", 1), peer_event("jjoc", 2)])
    committed += log.append([Draft("report", "r0", "patch", U, {"title": "x"})])
    assert log.events_after(0, 0) == []
    pages, cursor = [], 0
    while page := log.events_after(cursor, 3):
        assert len(page) <= 3
        assert all(pos > cursor for pos, _ in page)
        pages += page
        cursor = page[-1][0]
    positions = [pos for pos, _ in pages]
    assert positions == sorted(set(positions))
    assert [e for _, e in pages] == committed
    assert log.events_after(cursor, 10) == []
    # a position names one event for good
    pos, event = pages[4]
    assert log.events_after(pos - 1, 1) == [(pos, event)]


def test_record_events_are_one_records_events_from_every_origin(backend: Backend) -> None:
    log = backend.events
    mine = log.append(
        [
            Draft("report", "r1", "create", U, {"title": 1}),
            Draft("report", "r2", "create", U, {}),
            Draft("note", "r1", "create", U, {}),
        ]
    )
    theirs = log.apply([peer_event("jjoc", 1, "r1", op="patch"), peer_event("jjoc", 2, "r3")])
    more = log.append([Draft("report", "r1", "patch", U, {"title": 2})])
    got = log.record_events("report", "r1")
    assert sorted(e.key for e in got) == sorted(e.key for e in (mine[0], theirs[0], more[0]))
    assert got[0] == mine[0]
    assert log.record_events("report", "nope") == []


def test_on_commit_listeners_get_exactly_the_new_events(backend: Backend) -> None:
    log = backend.events
    first: list[Event] = []
    second: list[Event] = []
    log.on_commit(first.extend)
    log.on_commit(second.extend)
    made = log.append(
        [Draft("report", "r1", "create", U, {}), Draft("report", "r2", "create", U, {})]
    )
    assert first == made == second
    batch = [peer_event("jjoc", 1), peer_event("jjoc", 2)]
    log.apply(batch[:1])
    first.clear()
    second.clear()
    new = log.apply(batch)  # one seen, one new
    assert first == new == [batch[1]] == second
    first.clear()
    log.apply(batch)  # nothing new
    assert first == []


def _counting(state: RecordState | None, event: Event) -> RecordState:
    """A merge that records how many events built the state."""
    state = lww_merge(state, event)
    state.fields["events"] = state.fields.get("events", 0) + 1
    return state


def test_register_merge_applies_to_its_record_type_only(backend: Backend) -> None:
    log = backend.events
    log.register_merge("counted", _counting)
    log.append([Draft("counted", "c1", "create", U, {"title": "a"})])
    log.append([Draft("report", "r1", "create", U, {"title": "a"})])
    c1 = log.get("counted", "c1")
    assert c1 is not None and c1.fields == {"title": "a", "events": 1}  # a record written once
    log.append([Draft("counted", "c1", "patch", U, {"body": "b"})])
    log.apply([peer_event("jjoc", 1, "c1", record_type="counted", op="patch", payload={})])
    c1 = log.get("counted", "c1")
    assert c1 is not None and c1.fields == {"title": "a", "body": "b", "events": 3}
    assert [s.fields["events"] for s in log.scan("counted")] == [3]
    r1 = log.get("report", "r1")
    assert r1 is not None and r1.fields == {"title": "a"}


# -- durability -----------------------------------------------------------------


def test_state_survives_reopen(open_backend: Opener) -> None:
    backend = open_backend("usfj")
    log = backend.events
    log.register_merge("counted", _counting)
    made = log.append(
        [
            Draft("report", "r1", "create", SECRET, {"title": 1}, author="alice"),
            Draft("counted", "c1", "create", U, {}),
        ]
    )
    ahead = pack(int(time.time() * 1000) + 3_600_000, 0)
    peers = log.apply([peer_event("jjoc", 1, "r2", hlc=ahead), peer_event("jjoc", 2, "r2")])
    log.append([Draft("counted", "c1", "patch", U, {"x": 1})])
    before = {
        "log": log.events_after(0, 100),
        "r1": comparable(log.get("report", "r1")),
        "r2": comparable(log.get("report", "r2")),
        "c1": comparable(log.get("counted", "c1")),
        "reports": [comparable(s) for s in log.scan("report")],
        "r1 events": log.record_events("report", "r1"),
    }

    backend = open_backend.reopen(backend)
    log = backend.events
    log.register_merge("counted", _counting)  # merges are wiring, registered at every start
    after = {
        "log": log.events_after(0, 100),
        "r1": comparable(log.get("report", "r1")),
        "r2": comparable(log.get("report", "r2")),
        "c1": comparable(log.get("counted", "c1")),
        "reports": [comparable(s) for s in log.scan("report")],
        "r1 events": log.record_events("report", "r1"),
    }
    assert after == before
    assert log.apply([*made, *peers]) == []  # what was seen stays seen
    (next_event,) = log.append([Draft("report", "r1", "patch", SECRET, {"title": 2})])
    assert next_event.seq == 4  # the sequence continues
    assert next_event.hlc > max(e.hlc for _, e in before["log"])  # so does the clock
    state = log.get("report", "r1")
    assert state is not None and state.fields["title"] == 2 and state.created_by == "alice"


def test_events_round_trip_unchanged(backend: Backend) -> None:
    """What a peer sends is what is stored and handed on (labels, payload, hops)."""
    event = peer_event(
        "jjoc",
        1,
        payload={"title": "t", "position": {"lat": 35.0, "lon": 139.5}, "tags": ["a", "b"]},
        precedence=Precedence.IMMEDIATE,
        hops=2,
    )
    backend.events.apply([event])
    ((_, stored),) = backend.events.events_after(0, 10)
    assert stored == event
    # deterministic order: a label's REL TO is a set, iterated in hash order
    canonical = msgspec.msgpack.Encoder(order="deterministic")
    assert canonical.encode(stored) == canonical.encode(event)


@pytest.mark.parametrize("batch", [1, 40])  # one statement; binary COPY from 32 events
def test_a_create_of_a_held_record_id_merges_into_it(backend: Backend, batch: int) -> None:
    """A caller may name the id of a record the log already holds (a shelter, a plan per
    incident): the create merges into the record as the merge says, it never fails the
    commit nor replaces the record, on every backend and batch size."""
    log = backend.events
    log.append([Draft("report", "held", "create", U, {"title": "first", "body": "kept"})])
    drafts = [Draft("report", f"other-{n}", "create", U, {"n": n}) for n in range(batch - 1)]
    log.append([*drafts, Draft("report", "held", "create", U, {"title": "second"})])
    state = log.get("report", "held")
    assert state is not None
    assert state.fields["title"] == "second" and state.fields["body"] == "kept"
    assert len(log.record_events("report", "held")) == 2
    assert all(log.get("report", f"other-{n}") is not None for n in range(batch - 1))
