"""Issue 19, unit: the network status's pieces: queues against ACP 121 objectives, a link's
state, throughput, alerts, the digest probe, the operators' feed and the terminal table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.labels import GroupRegistry, parse_label
from kizuna.core.records import Precedence
from kizuna.federation.alerts import AlertBook, Facts, conditions
from kizuna.federation.digest import Digest
from kizuna.federation.events import EventStream
from kizuna.federation.link import Link
from kizuna.federation.linkstate import AnsweredError, LinkState, Rate
from kizuna.federation.live import NetworkFeed
from kizuna.federation.monitor import STATUS_FILE, NetworkMonitor
from kizuna.federation.rules import Peer
from kizuna.federation.status import NetworkSettings, NetworkStatus, queues, settings_of
from kizuna.federation.table import NotRunning, read_status, render
from kizuna.kernel.bus import Session
from kizuna.kernel.config import PeerConfig
from kizuna.kernel.metrics import Metrics
from kizuna.kernel.streams import Ack, TransportError
from kizuna.store.base import Backend, Draft, User
from kizuna.store.sqlite_backend import open_sqlite

NOW = 1_800_000_000.0
U = parse_label("S//REL TO USA, JPN")


class Clock:
    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    value = metrics.registry.get_sample_value(name, labels)
    return None if value is None else float(value)


# -- queues against the handling-time objectives --------------------------------------
def test_queues_are_the_four_precedences_in_order_with_their_objectives() -> None:
    qs = queues({Precedence.ROUTINE: (4, NOW - 30), Precedence.FLASH: (1, NOW - 601)}, NOW)
    assert [q.precedence for q in qs] == ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
    assert [q.objective_s for q in qs] == [600, 1800, 10800, 21600]
    assert [q.depth for q in qs] == [1, 0, 0, 4]
    assert [q.oldest_age_s for q in qs] == [601, None, None, 30]
    assert [q.overdue for q in qs] == [True, False, False, False]


def test_an_item_at_its_objective_is_not_yet_overdue_and_unknown_ages_are_none() -> None:
    flash, immediate, priority, _ = queues(
        {
            Precedence.FLASH: (1, NOW - 600),
            Precedence.IMMEDIATE: (2, NOW - 1801),
            Precedence.PRIORITY: (5, None),  # queued before enqueue times were kept
        },
        NOW,
    )
    assert not flash.overdue and immediate.overdue
    assert priority.depth == 5 and priority.oldest_age_s is None and not priority.overdue


# -- a link's state ------------------------------------------------------------------------
def test_link_state_names_the_last_outcome_and_keeps_the_first_failure() -> None:
    clock = Clock()
    s = LinkState(clock)
    assert s.state == "cut" and s.last_contact is None and s.cut_since is None
    s.success(0.012)
    assert (s.state, s.last_contact, s.up_since, s.rtt) == ("connected", NOW, NOW, 0.012)
    clock.t += 5
    s.failure(TransportError("connection refused"), retry_in=0.4)
    assert s.state == "cut" and s.cut_since == NOW + 5 and s.backoff_until == NOW + 5.4
    assert s.up_since is None and s.last_contact == NOW
    clock.t += 5
    s.failure(AnsweredError(503, "peer answered 503"), retry_in=2.0)
    assert s.state == "backoff" and s.cut_since == NOW + 5  # still the first failure
    s.failure(AnsweredError(403, "peer answered 403"), retry_in=2.0)
    assert s.state == "refusing"
    s.failure(AnsweredError(409, "peer answered 409"))
    assert s.state == "refusing" and s.backoff_until is None
    assert s.refusal_counts()[2] == {"refused_by_peer": 2}
    clock.t += 1
    s.success(0.02)
    assert s.state == "connected" and s.cut_since is None and s.up_since == NOW + 11


def test_refusals_are_counted_by_reason_and_direction() -> None:
    s = LinkState(Clock())
    s.refused_in("label")
    s.refused_in("owner", 3)
    s.refused_out("label", 2)
    both, inbound, outbound = s.refusal_counts()
    assert both == {"label": 3, "owner": 3}
    assert inbound == {"label": 1, "owner": 3} and outbound == {"label": 2}


def test_rate_is_items_per_second_over_the_last_minute() -> None:
    t = Clock(1000.0)
    r = Rate(clock=t)
    t.t = 1100.0  # older than the window: averaged over 60 s
    r.add(120)
    assert r.per_second() == pytest.approx(2.0)
    t.t = 1161.0
    assert r.per_second() == 0.0
    young = Rate(clock=Clock(5.0))
    young.add(10)
    assert young.per_second() == pytest.approx(10.0)  # a new link: over its life so far


# -- alerts --------------------------------------------------------------------------------
def facts(**kw: Any) -> Facts:
    base: dict[str, Any] = dict(
        peer="jjoc",
        connected=True,
        cut_since=None,
        up_since=NOW - 1000,
        flash_age=None,
        differ_since=None,
    )
    return Facts(**{**base, **kw})


def test_conditions_hold_past_their_thresholds_with_the_time_they_began() -> None:
    settings = NetworkSettings(link_cut_alert_s=60, digest_alert_s=120)
    assert conditions([facts()], settings, NOW) == {}
    assert conditions([facts(flash_age=600)], settings, NOW) == {}
    assert conditions([facts(flash_age=660)], settings, NOW) == {
        ("flash_overdue", "jjoc"): NOW - 60
    }
    cut = facts(connected=False, up_since=None, cut_since=NOW - 59)
    assert conditions([cut], settings, NOW) == {}
    cut = facts(connected=False, up_since=None, cut_since=NOW - 61)
    assert conditions([cut], settings, NOW) == {("link_cut", "jjoc"): NOW - 61}
    # Digests differing: only with the link up, and counted from the later of up and differ.
    differ = facts(up_since=NOW - 100, differ_since=NOW - 500)
    assert conditions([differ], settings, NOW) == {}
    differ = facts(up_since=NOW - 130, differ_since=NOW - 500)
    assert conditions([differ], settings, NOW) == {("digest_differ", "jjoc"): NOW - 130}
    down = facts(connected=False, up_since=None, cut_since=NOW - 1, differ_since=NOW - 500)
    assert conditions([down], settings, NOW) == {}


def test_an_alert_is_counted_once_when_raised_and_shown_while_active() -> None:
    metrics = Metrics()
    book = AlertBook(metrics)
    key = ("flash_overdue", "jjoc")
    (alert,) = book.update({key: NOW})
    assert alert.kind == "flash_overdue" and alert.peer == "jjoc"
    assert alert.since.startswith("2027-01-15T08:00:00")
    assert (
        "jjoc" in alert.title.en and "FLASH" in alert.title.ja and alert.title.ja != alert.title.en
    )
    book.update({key: NOW})
    assert sample(metrics, "kizuna_network_alerts_total", kind="flash_overdue") == 1
    assert sample(metrics, "kizuna_network_alert_active", kind="flash_overdue", peer="jjoc") == 1
    assert book.update({}) == []
    assert sample(metrics, "kizuna_network_alert_active", kind="flash_overdue", peer="jjoc") == 0
    book.update({key: NOW + 5})  # raised again: counted again
    assert sample(metrics, "kizuna_network_alerts_total", kind="flash_overdue") == 2


def test_federation_settings_are_checked() -> None:
    assert settings_of(None) == NetworkSettings()
    assert settings_of({"clock_offset_s": 660}).clock_offset_s == 660
    with pytest.raises(ValueError, match=r"\[federation\]"):
        settings_of({"link_cut_alert": 5})
    with pytest.raises(ValueError, match=r"\[federation\]"):
        settings_of({"digest_every_s": "soon"})


# -- the monitor over a real store -----------------------------------------------------------
class FakeConnection:
    def __init__(self) -> None:
        self.answer: dict[str, Any] | Exception = {"digest": "same", "count": 0}

    async def send(self, stream: str, body: bytes, dedup_id: str) -> Ack:
        raise TransportError("not in this test")

    async def digest(self) -> dict[str, Any]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def close(self) -> None:
        return None


class FakeFederation:
    def __init__(self, backend: Backend, monitor_clock: Any) -> None:
        self.node_id = "usfj"
        config = PeerConfig(peer_id="jjoc", nation="JPN", url="https://127.0.0.1:1", cert="x")
        self.peers = {"jjoc": Peer(config, GroupRegistry({}), "fp")}
        self.connection = FakeConnection()
        self.events = EventStream(backend, "usfj", GroupRegistry({}))
        self.links = {
            "jjoc": Link(
                "usfj",
                Metrics(),
                self.peers["jjoc"],
                self.connection,
                self.events,
                clock=monitor_clock,
            )
        }
        self.ours = "same"

    def shared(self, peer_id: str) -> Digest:
        return Digest(node="usfj", peer=peer_id, count=0, digest=self.ours)


@pytest.fixture
def backend(tmp_path: Path) -> Any:
    b = open_sqlite("sqlite", tmp_path, "usfj")
    yield b
    b.close()


def make_monitor(backend: Backend, tmp_path: Path, **settings: float) -> tuple[Any, Any, Metrics]:
    metrics = Metrics()
    holder: dict[str, NetworkMonitor] = {}
    fed = FakeFederation(backend, lambda: holder["m"].clock())
    monitor = NetworkMonitor(
        fed,
        nation="USA",
        outbox=backend.outbox,
        metrics=metrics,
        root=tmp_path,
        settings=NetworkSettings(**settings),
    )
    holder["m"] = monitor
    return monitor, fed, metrics


def test_the_monitor_shows_queues_by_precedence_and_raises_flash_overdue_on_the_test_clock(
    backend: Backend, tmp_path: Path
) -> None:
    monitor, fed, metrics = make_monitor(backend, tmp_path)
    drafts = [
        Draft("report", f"r{i}", "create", U, {"i": i}, precedence=p)
        for i, p in enumerate([Precedence.FLASH, Precedence.ROUTINE, Precedence.ROUTINE])
    ]
    backend.events.append(drafts)
    fed.links["jjoc"].fill()
    status = monitor.snapshot()
    (jjoc,) = status.peers
    assert (jjoc.id, jjoc.nation, jjoc.transport, jjoc.state) == ("jjoc", "JPN", "https", "cut")
    assert [q.depth for q in jjoc.queues] == [1, 0, 0, 2]
    assert jjoc.digest.state == "not_yet" and status.alerts == []
    assert (
        sample(metrics, "kizuna_outbox_depth_by_precedence", peer="jjoc", precedence="FLASH") == 1
    )
    assert sample(metrics, "kizuna_link_up", peer="jjoc") == 0
    monitor.configure({"clock_offset_s": 660})  # eleven minutes on
    status = monitor.snapshot()
    assert [a.kind for a in status.alerts] == ["flash_overdue"]
    assert status.peers[0].queues[0].overdue and not status.peers[0].queues[3].overdue
    assert (
        sample(metrics, "kizuna_outbox_oldest_seconds", peer="jjoc", precedence="FLASH") or 0
    ) > 600
    # Delivered: the queue empties and the alert clears.
    outbox = backend.outbox
    outbox.ack("jjoc", [pos for pos, _, _ in outbox.next_batch("jjoc", 10)])
    status = monitor.snapshot()
    assert status.alerts == [] and sum(q.depth for q in status.peers[0].queues) == 0
    assert sample(metrics, "kizuna_network_alerts_total", kind="flash_overdue") == 1


def test_the_digest_probe_compares_and_a_difference_with_the_link_up_alerts(
    backend: Backend, tmp_path: Path
) -> None:
    monitor, fed, metrics = make_monitor(backend, tmp_path, digest_alert_s=60)
    link, check = fed.links["jjoc"], None

    async def probe() -> None:
        monitor.snapshot()
        nonlocal check
        check = monitor.checks["jjoc"]
        await monitor.probe("jjoc", link, check)

    asyncio.run(probe())
    status = monitor.snapshot()
    assert status.peers[0].state == "connected" and status.peers[0].rtt_ms is not None
    assert status.peers[0].digest.state == "agree" and status.peers[0].digest.checked_at
    assert sample(metrics, "kizuna_digest_agree", peer="jjoc") == 1
    fed.ours = "mine"  # the two hold different sets
    asyncio.run(probe())
    status = monitor.snapshot()
    assert status.peers[0].digest.state == "differ" and status.alerts == []
    assert sample(metrics, "kizuna_digest_agree", peer="jjoc") == 0
    monitor.configure({"digest_alert_s": 60, "clock_offset_s": 61})
    assert [a.kind for a in monitor.snapshot().alerts] == ["digest_differ"]
    # The peer answering 403 to the probe: refusing, and the differ alert no longer holds.
    fed.connection.answer = AnsweredError(403, "peer answered 403")
    asyncio.run(probe())
    status = monitor.snapshot()
    assert status.peers[0].state == "refusing" and status.alerts == []
    assert status.peers[0].refusals == {"refused_by_peer": 1}


def test_the_status_file_is_what_the_cli_reads_and_goes_when_the_monitor_stops(
    backend: Backend, tmp_path: Path
) -> None:
    monitor, _, _ = make_monitor(backend, tmp_path)

    async def run_briefly() -> None:
        task = asyncio.create_task(monitor.run())
        await asyncio.sleep(0.3)
        status = read_status(tmp_path, "usfj")
        assert status.node == "usfj" and status.peers[0].id == "jjoc"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_briefly())
    assert not (tmp_path / STATUS_FILE).exists()
    with pytest.raises(NotRunning, match="usfj is not running"):
        read_status(tmp_path, "usfj")
    with pytest.raises(NotRunning, match="稼働していません"):
        read_status(tmp_path, "usfj", "ja")


def test_the_table_has_a_row_per_peer_in_either_language(backend: Backend, tmp_path: Path) -> None:
    monitor, fed, _ = make_monitor(backend, tmp_path, clock_offset_s=700)
    backend.events.append([Draft("report", "f", "create", U, {}, precedence=Precedence.FLASH)])
    fed.links["jjoc"].fill()
    status = monitor.snapshot()
    en = render(status)
    header, row = en[1], en[2]
    for column in ("peer", "nation", "state", "last contact", "rtt", "F", "I", "P", "R", "digest"):
        assert column in header
    assert row.split()[:4] == ["jjoc", "JPN", "https", "cut"]
    assert "1 (11m40s, overdue)" in row
    assert any("flash_overdue" in line for line in en)
    ja = render(status, "ja")
    assert "切断" in ja[2] and "目標超過" in ja[2] and "未照合" in ja[2]
    assert any("最緊急" in line for line in ja)


# -- the operators' WebSocket feed --------------------------------------------------------------
class FakeUsers:
    def __init__(self, roles: dict[str, list[str]]) -> None:
        self.roles = roles

    def user_by_name(self, name: str) -> User | None:
        if name not in self.roles:
            return None
        return User(name=name, nation="USA", clearance="SECRET", roles=self.roles[name])


def test_only_operator_sessions_get_the_status_and_each_version_once() -> None:
    from kizuna.core.labels import Classification
    from kizuna.core.release import make_principal

    users = FakeUsers({"w": ["watch"], "a": ["admin"], "v": ["viewer"]})
    state: dict[str, Any] = {"version": 1, "body": {"node": "usfj"}}
    feed = NetworkFeed(users, lambda: (state["version"], state["body"]))  # type: ignore[arg-type]
    principal = make_principal("USA", Classification.SECRET, [])
    sent: dict[str, list[Any]] = {"w": [], "a": [], "v": []}

    async def go() -> None:
        sessions = {name: Session(principal, name) for name in sent}
        for name, session in sessions.items():
            feed.open(session)

            async def send(message: Any, name: str = name) -> None:
                sent[name].append(message)

            await feed.flush(session, send)
            await feed.flush(session, send)  # nothing new: nothing sent
        state["version"] = 2
        for name, session in sessions.items():

            async def send2(message: Any, name: str = name) -> None:
                sent[name].append(message)

            await feed.flush(session, send2)
            feed.close(session)
            assert feed.name not in session.feed_state

    asyncio.run(go())
    assert [m["type"] for m in sent["w"]] == ["network", "network"]
    assert sent["w"][0] == {"type": "network", "item": {"node": "usfj"}}
    assert len(sent["a"]) == 2 and sent["v"] == []


def test_the_status_shape_is_the_api_contract() -> None:
    """The web app builds against these names (issue 19's API)."""
    import msgspec

    fields = {f.name for f in msgspec.structs.fields(NetworkStatus)}
    assert fields == {"node", "nation", "now", "peers", "alerts"}
    from kizuna.federation.status import PeerStatus

    names = {f.name for f in msgspec.structs.fields(PeerStatus)}
    assert {
        "id",
        "nation",
        "transport",
        "state",
        "backoff_until",
        "last_contact",
        "cut_since",
        "rtt_ms",
        "queues",
        "sent_per_s",
        "received_per_s",
        "sent_total",
        "received_total",
        "refusals",
        "digest",
    } <= names
