"""Outbox contract: a per-peer queue filled by a cursor scan of the log, drained by precedence."""

from __future__ import annotations

import time

from kizuna.core.hlc import pack
from kizuna.core.records import Event, Precedence
from kizuna.store.base import Backend, Draft
from tests.store.contract.support import SECRET, Opener, U


def _drafts(n: int, precedence: Precedence = Precedence.ROUTINE, prefix: str = "r") -> list[Draft]:
    return [
        Draft("report", f"{prefix}{i}", "create", U, {"i": i}, precedence=precedence)
        for i in range(n)
    ]


def _drain(backend: Backend, peer: str) -> list[Event]:
    out = []
    while batch := backend.outbox.next_batch(peer, 2):
        out += [e for _, e, _ in batch]
        backend.outbox.ack(peer, [pos for pos, _, _ in batch])
    return out


def test_enqueue_moves_the_cursor_past_every_scanned_event(backend: Backend) -> None:
    outbox = backend.outbox
    assert outbox.cursor("jjoc") == 0 and outbox.depth("jjoc") == 0
    assert outbox.enqueue_new("jjoc", lambda e: True) == (0, 0)
    made = backend.events.append(_drafts(5))
    seen: list[Event] = []

    def decide(event: Event) -> bool:
        seen.append(event)
        return event.payload["i"] % 2 == 0

    assert outbox.enqueue_new("jjoc", decide) == (5, 3)
    assert seen == made  # asked about each new event once, in commit order
    last_pos = backend.events.events_after(0, 100)[-1][0]
    assert outbox.cursor("jjoc") == last_pos
    assert outbox.depth("jjoc") == 3
    # refused events are not asked about again
    assert outbox.enqueue_new("jjoc", decide) == (0, 0)
    assert len(seen) == 5
    assert [e.payload["i"] for e in _drain(backend, "jjoc")] == [0, 2, 4]


def test_enqueue_scans_at_most_limit_and_resumes(backend: Backend) -> None:
    made = backend.events.append(_drafts(7))
    outbox = backend.outbox
    scans = []
    while (got := outbox.enqueue_new("jjoc", lambda e: True, limit=3))[0]:
        scans.append(got)
    assert scans == [(3, 3), (3, 3), (1, 1)]
    assert outbox.depth("jjoc") == 7
    assert sorted(e.key for e in _drain(backend, "jjoc")) == sorted(e.key for e in made)


def test_next_batch_is_ordered_by_precedence_then_age(backend: Backend) -> None:
    log = backend.events
    routine = log.append(_drafts(2, Precedence.ROUTINE, "routine"))
    priority = log.append(_drafts(1, Precedence.PRIORITY, "priority"))
    flash = log.append(_drafts(2, Precedence.FLASH, "flash"))
    immediate = log.append(_drafts(1, Precedence.IMMEDIATE, "immediate"))
    # a peer's FLASH event older than ours (smaller hlc) goes before ours
    old = pack(int(time.time() * 1000) - 60_000, 0)
    (peer_flash,) = log.apply(
        [
            Event(
                origin="aus",
                seq=1,
                hlc=old,
                record_type="report",
                record_id="aus-flash",
                op="create",
                label=SECRET,
                precedence=Precedence.FLASH,
            )
        ]
    )
    backend.outbox.enqueue_new("jjoc", lambda e: True)
    batch = backend.outbox.next_batch("jjoc", 100)
    assert [e for _, e, _ in batch] == [peer_flash, *flash, *immediate, *priority, *routine]
    assert all(isinstance(size, int) and size > 0 for _, _, size in batch)
    # a smaller batch is the head of the same order; reading does not remove
    assert backend.outbox.next_batch("jjoc", 2) == batch[:2]
    assert backend.outbox.depth("jjoc") == 7


def test_ack_removes_only_the_acknowledged(backend: Backend) -> None:
    backend.events.append(_drafts(4))
    outbox = backend.outbox
    outbox.enqueue_new("jjoc", lambda e: True)
    batch = outbox.next_batch("jjoc", 10)
    outbox.ack("jjoc", [batch[0][0], batch[2][0]])
    assert outbox.depth("jjoc") == 2
    assert outbox.next_batch("jjoc", 10) == [batch[1], batch[3]]
    outbox.ack("jjoc", [batch[0][0]])  # acking twice is harmless
    outbox.ack("jjoc", [])
    assert outbox.depth("jjoc") == 2


def test_queue_stats_count_each_precedence_and_keep_the_oldest_enqueue_time(
    backend: Backend,
) -> None:
    """Issue 19: depth and age of the oldest entry per precedence, per peer."""
    log, outbox = backend.events, backend.outbox
    assert outbox.queue_stats("jjoc") == {}
    before = time.time()
    log.append(_drafts(2, Precedence.FLASH, "flash"))
    log.append(_drafts(3, Precedence.ROUTINE, "routine"))
    outbox.enqueue_new("jjoc", lambda e: True)
    first = time.time()
    time.sleep(0.05)
    log.append(_drafts(1, Precedence.FLASH, "late"))
    outbox.enqueue_new("jjoc", lambda e: True)
    outbox.enqueue_new("aus", lambda e: e.precedence == Precedence.ROUTINE)
    stats = outbox.queue_stats("jjoc")
    assert set(stats) == {Precedence.FLASH, Precedence.ROUTINE}
    flash_depth, flash_oldest = stats[Precedence.FLASH]
    routine_depth, routine_oldest = stats[Precedence.ROUTINE]
    assert (flash_depth, routine_depth) == (3, 3)
    # the oldest FLASH entry is one of the first scan, not the late one
    assert flash_oldest is not None and before - 1 <= flash_oldest <= first + 0.01
    assert routine_oldest is not None and before - 1 <= routine_oldest <= first + 0.01
    assert {k: v[0] for k, v in outbox.queue_stats("aus").items()} == {Precedence.ROUTINE: 3}
    # acknowledged entries leave the counts; an emptied precedence disappears
    flash = [pos for pos, e, _ in outbox.next_batch("jjoc", 10) if e.precedence == 0]
    outbox.ack("jjoc", flash)
    assert {k: v[0] for k, v in outbox.queue_stats("jjoc").items()} == {Precedence.ROUTINE: 3}
    assert sum(n for n, _ in outbox.queue_stats("jjoc").values()) == outbox.depth("jjoc")


def test_peers_have_their_own_cursor_and_queue(backend: Backend) -> None:
    backend.events.append(_drafts(3))
    outbox = backend.outbox
    outbox.enqueue_new("jjoc", lambda e: True)
    assert outbox.cursor("aus") == 0 and outbox.depth("aus") == 0
    outbox.enqueue_new("aus", lambda e: e.payload["i"] == 1)
    assert outbox.depth("jjoc") == 3 and outbox.depth("aus") == 1
    outbox.ack("aus", [pos for pos, _, _ in outbox.next_batch("aus", 10)])
    assert outbox.depth("jjoc") == 3 and outbox.depth("aus") == 0
    assert outbox.cursor("aus") == outbox.cursor("jjoc")


def test_queue_and_cursor_survive_reopen_without_duplicates(open_backend: Opener) -> None:
    backend = open_backend("usfj")
    first = backend.events.append(_drafts(3, prefix="a"))
    backend.outbox.enqueue_new("jjoc", lambda e: True)
    head = backend.outbox.next_batch("jjoc", 1)
    backend.outbox.ack("jjoc", [head[0][0]])
    cursor = backend.outbox.cursor("jjoc")

    backend = open_backend.reopen(backend)
    outbox = backend.outbox
    assert outbox.cursor("jjoc") == cursor
    assert outbox.depth("jjoc") == 2
    assert outbox.enqueue_new("jjoc", lambda e: True) == (0, 0)  # nothing rescanned
    second = backend.events.append(_drafts(2, prefix="b"))
    assert outbox.enqueue_new("jjoc", lambda e: True) == (2, 2)
    drained = _drain(backend, "jjoc")
    assert [e.key for e in drained] == [e.key for e in [*first[1:], *second]]


def test_events_from_returns_the_events_of_those_origins(backend: Backend) -> None:
    log = backend.events
    mine = log.append(_drafts(2))
    peers = log.apply(
        [
            Event(
                origin=origin,
                seq=seq,
                hlc=pack(int(time.time() * 1000), seq),
                record_type="report",
                record_id=f"{origin}{seq}",
                op="create",
                label=SECRET,
            )
            for origin in ("jjoc", "aus")
            for seq in (1, 2)
        ]
    )
    got = backend.outbox.events_from(("usfj", "jjoc"))
    expected = [*mine, *(e for e in peers if e.origin == "jjoc")]
    assert sorted(e.key for e in got) == sorted(e.key for e in expected)
    assert {e.key: e for e in got} == {e.key: e for e in expected}
    assert backend.outbox.events_from(("nobody",)) == []
