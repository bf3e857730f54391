"""The event log: idempotent, order-independent, durable across restarts."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.labels import parse_label
from kizuna.core.merge import lww_merge
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.store.base import Draft
from kizuna.store.sqlite import SqliteStore

LABELS = [parse_label(m) for m in ("U", "S//REL TO USA, JPN", "C//REL TO USA, AUS, JPN")]
ORIGINS = ["usfj", "jjoc", "aus"]


@st.composite
def event_sets(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(1, 12))
    events = []
    seqs = dict.fromkeys(ORIGINS, 0)
    for _ in range(n):
        origin = draw(st.sampled_from(ORIGINS))
        seqs[origin] += 1
        events.append(
            Event(
                origin=origin,
                seq=seqs[origin],
                hlc=draw(st.integers(1, 50)) << 16,  # deliberate HLC ties across origins
                record_type="report",
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


def fold(events: list[Event]) -> dict[str, RecordState]:
    states: dict[str, RecordState] = {}
    for e in events:
        states[e.record_id] = lww_merge(states.get(e.record_id), e)
    return states


def comparable(states: dict[str, RecordState]) -> dict[str, tuple[object, ...]]:
    return {
        k: (s.fields, s.label, s.precedence, s.deleted, s.origin, s.created_by, s.updated_hlc)
        for k, s in states.items()
    }


@given(event_sets(), st.randoms(use_true_random=False))
def test_any_order_with_duplicates_gives_the_same_state(
    events: list[Event], rnd: random.Random
) -> None:
    shuffled = events + rnd.sample(events, k=len(events) // 2)  # duplicates
    rnd.shuffle(shuffled)
    assert comparable(fold(shuffled)) == comparable(fold(events))


@settings(max_examples=60)
@given(event_sets(), st.randoms(use_true_random=False))
def test_sqlite_store_converges_in_any_order(
    tmp_path_factory: object, events: list[Event], rnd: random.Random
) -> None:
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as tmp:
        a = SqliteStore(Path(tmp) / "a.db", "x1")
        b = SqliteStore(Path(tmp) / "b.db", "x2")
        a.apply(events)
        shuffled = events * 2
        rnd.shuffle(shuffled)
        for i in range(0, len(shuffled), 3):
            b.apply(shuffled[i : i + 3])
        for rid in ("a", "b"):
            sa, sb = a.get("report", rid), b.get("report", rid)
            assert (sa is None) == (sb is None)
            if sa and sb:
                assert comparable({rid: sa}) == comparable({rid: sb})
        assert a.events_after(0, 1000).__len__() == len(events) == len(b.events_after(0, 1000))
        a.close()
        b.close()


def test_idempotent_apply_and_sequence_survive_restart(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "n.db", "usfj")
    made = store.append([Draft("report", "r1", "create", LABELS[1], {"title": 1}, author="alice")])
    assert store.apply(made) == []  # our own event again: nothing new
    store.close()
    again = SqliteStore(tmp_path / "n.db", "usfj")
    more = again.append([Draft("report", "r1", "patch", LABELS[1], {"title": 2})])
    assert more[0].seq == 2 and more[0].hlc > made[0].hlc
    state = again.get("report", "r1")
    assert state is not None and state.fields["title"] == 2 and state.created_by == "alice"
    assert [e.seq for e in again.record_events("report", "r1")] == [1, 2]


def test_a_failed_batch_applies_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "n.db", "usfj")

    def broken(state: RecordState | None, event: Event) -> RecordState:
        if event.payload.get("poison"):
            raise ValueError("poison")
        return lww_merge(state, event)

    store.register_merge("report", broken)
    store.append([Draft("report", "r0", "create", LABELS[0], {"title": 0})])
    good = Draft("report", "r1", "create", LABELS[0], {"title": 1})
    bad = Draft("report", "r0", "patch", LABELS[0], {"poison": True})  # fails while merging
    with contextlib.suppress(ValueError):
        store.append([good, bad])
    assert store.get("report", "r1") is None
    assert len(store.events_after(0, 10)) == 1
    assert store.append([good])[0].seq == 2
