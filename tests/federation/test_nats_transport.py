"""Federation over NATS JetStream (issue 11, part 3; ADR 0010).

Real node processes on loopback linked through the NATS server at ``KIZUNA_NATS_URL``
(default ``nats://127.0.0.1:4222``, JetStream on), plus the transport in-process against a
recording :class:`Inbound`. Each test uses its own subject prefix, so its subjects and streams
collide with no other run, and deletes its streams afterwards. Without a reachable server
the tests skip, or fail when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from kizuna.core.labels import Classification, parse_label
from kizuna.core.records import Event, Precedence
from kizuna.core.release import make_principal, may_release
from kizuna.kernel import pki
from kizuna.kernel.config import NodeDir
from kizuna.kernel.streams import Ack, BatchCodec, PeerEndpoint, TransportError
from tests.cluster import Cluster
from tests.federation.test_federation import (
    GROUPS,
    MARKINGS,
    NATIONS,
    digests_equal,
    titles,
    wait_until,
    write_reports,
)
from tests.nodes import make_node_dir, metric, peer_one_way
from tests.support.faultproxy import FaultProxyProcess

NATS_URL = os.environ.get("KIZUNA_NATS_URL", "nats://127.0.0.1:4222")
REFUSED = "kizuna_access_refused_total"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: NATS with JetStream must be running)")
    pytest.skip(reason)


async def _probe(url: str) -> None:
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()


@pytest.fixture(scope="module")
def nats_server() -> str:
    """The NATS server's URL, once it answered with JetStream on."""
    try:
        import nats  # noqa: F401
    except ImportError:
        _unavailable("nats-py is not installed")
    try:
        asyncio.run(asyncio.wait_for(_probe(NATS_URL), 5))
    except Exception as exc:
        _unavailable(f"no NATS server with JetStream at {NATS_URL}: {exc!r}")
    if "nats" not in {ep.name for ep in entry_points(group="kizuna.transports")}:
        pytest.fail(
            'no `nats` entry point in kizuna.transports: add nats = "kizuna.federation.nats:'
            'transport" to pyproject.toml and reinstall'
        )
    return NATS_URL


async def _delete_streams(url: str, prefix: str) -> None:
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name and info.config.name.startswith(f"{prefix}-"):
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()


@pytest.fixture
def prefix(nats_server: str) -> Iterator[str]:
    """A subject prefix of this test alone; its streams are deleted afterwards."""
    value = f"kzt{uuid.uuid4().hex[:12]}"
    yield value
    asyncio.run(_delete_streams(nats_server, value))


@pytest.fixture
def link_url(nats_server: str, prefix: str) -> str:
    return f"{nats_server}?prefix={prefix}"


@pytest.fixture
def nats_cluster(cluster: Cluster, prefix: str) -> Iterator[Cluster]:
    """The real-node cluster, stopped before the test's streams are deleted."""
    yield cluster
    cluster.stop()


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _js_call(url: str, call: Any) -> Any:
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        return await call(nc, nc.jetstream())
    finally:
        await nc.close()


def _names(prefix: str, me: str, peer: str) -> Any:
    from kizuna.federation.nats_wire import Names

    return Names(prefix, me, peer)


def consumed(url: str, prefix: str, receiver: str, sender: str) -> int:
    """How many batches ``receiver``'s durable consumer took from ``sender``'s stream."""
    names = _names(prefix, receiver, sender)

    async def call(nc: Any, js: Any) -> int:
        info = await js.consumer_info(names.inbound_stream, names.durable)
        return int(info.delivered.stream_seq)

    return int(_run(_js_call(url, call)))


def waiting(url: str, prefix: str, receiver: str, sender: str) -> int:
    """Batches stored in ``receiver``'s stream from ``sender`` and not yet applied."""
    names = _names(prefix, receiver, sender)

    async def call(nc: Any, js: Any) -> int:
        info = await js.stream_info(names.inbound_stream)
        return int(info.state.messages)

    return int(_run(_js_call(url, call)))


# -- real nodes ---------------------------------------------------------------------------------


def test_three_nodes_hold_exactly_what_their_nations_may_see_over_nats(
    nats_cluster: Cluster, link_url: str, prefix: str, nats_server: str
) -> None:
    cluster = nats_cluster
    for node_id, nation in NATIONS.items():
        cluster.node(node_id, nation)
    pairs = (("usfj", "jjoc"), ("usfj", "aus"), ("jjoc", "aus"))
    for a, b in pairs:
        cluster.link(a, b, transport="nats", url=link_url)
    cluster.start()
    writers = {nid: n.user(f"w-{nid}", NATIONS[nid], "SECRET") for nid, n in cluster.nodes.items()}
    rnd = random.Random(11)
    plan = {nid: [rnd.choice(MARKINGS) for _ in range(300)] for nid in NATIONS}
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda nid: write_reports(writers[nid], plan[nid], nid), NATIONS))

    expected: dict[str, set[str]] = {nid: set() for nid in NATIONS}
    for origin, markings in plan.items():
        for i, marking in enumerate(markings):
            label = parse_label(marking, originator=NATIONS[origin], groups=GROUPS)
            for holder, nation in NATIONS.items():
                peer = make_principal(nation, Classification.SECRET, registry=GROUPS)
                if holder == origin or may_release(label, peer):
                    expected[holder].add(f"{origin} {i}")
    auditors = {
        nid: n.user(f"a-{nid}", NATIONS[nid], "TOP SECRET") for nid, n in cluster.nodes.items()
    }
    for nid, client in auditors.items():
        wait_until(lambda c=client, n=nid: len(titles(c)) >= len(expected[n]), 120, f"{nid} sync")
    for nid, client in auditors.items():
        got = titles(client)
        assert len(got) == len(set(got)), f"{nid} holds duplicates"
        assert set(got) == expected[nid], f"{nid} holds the wrong set"
    for a, b in pairs:
        wait_until(lambda a=a, b=b: digests_equal(auditors[a], auditors[b], a, b), 30, "digests")
        # The batches went through JetStream, both ways, not over the HTTPS listener.
        assert consumed(nats_server, prefix, b, a) > 0
        assert consumed(nats_server, prefix, a, b) > 0


def test_receiver_stopped_then_restarted_converges_without_duplicates(
    nats_cluster: Cluster, link_url: str, prefix: str, nats_server: str
) -> None:
    cluster = nats_cluster
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    # A short wait for acknowledgements, so the sender gives up and resends while jjoc is down.
    cluster.link("usfj", "jjoc", transport="nats", url=f"{link_url}&ack_timeout=2")
    cluster.start()
    us = cluster.nodes["usfj"].user("alice", "USA", "SECRET")
    jp = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")
    write_reports(us, ["S//REL TO USA, JPN"] * 5, "before")
    wait_until(lambda: len(titles(jp)) == 5, 60, "initial sync")

    # jjoc's consumer goes away without a word; usfj keeps writing, and resending.
    cluster.nodes["jjoc"].kill9()
    write_reports(us, ["S//REL TO USA, JPN"] * 300, "while down")
    wait_until(lambda: waiting(nats_server, prefix, "jjoc", "usfj") > 0, 30, "a batch stored")
    sender_log = cluster.nodes["usfj"].dir / "node.log"
    wait_until(lambda: "no acknowledgement" in sender_log.read_text(), 30, "a send timed out")
    time.sleep(6)  # several more resends
    # Resends of one batch are stored once (Nats-Msg-Id); the outbox keeps everything else.
    assert waiting(nats_server, prefix, "jjoc", "usfj") < 20

    cluster.nodes["jjoc"].start()
    jp2 = httpx.Client(base_url=cluster.nodes["jjoc"].url, headers=jp.headers, timeout=30)
    write_reports(jp2, ["S//REL TO USA, JPN"] * 20, "after")
    wait_until(lambda: digests_equal(us, jp2, "usfj", "jjoc"), 90, "digests equal")
    a, b = titles(us), titles(jp2)
    assert len(a) == len(set(a)) == 325
    assert len(b) == len(set(b)) == 325 and sorted(a) == sorted(b)
    wait_until(lambda: waiting(nats_server, prefix, "jjoc", "usfj") == 0, 30, "stream drained")


def test_flash_overtakes_routine_backlog_on_a_thin_nats_link(
    nats_cluster: Cluster, link_url: str, prefix: str, nats_server: str
) -> None:
    """NATS has no priority: the link's precedence order holds because the transport keeps
    one batch in flight and never lets a stale one reach the stream after a cut."""
    cluster = nats_cluster
    us_node = cluster.node("usfj", "USA")
    jp_node = cluster.node("jjoc", "JPN")
    target = urlsplit(nats_server)
    proc = FaultProxyProcess(target.hostname or "127.0.0.1", target.port or 4222)
    proxy = proc.start()
    cluster.proxies[("usfj", "nats")] = (proc, proxy)  # stopped with the cluster
    thin = f"nats://127.0.0.1:{proc.listen_port}?prefix={prefix}"
    peer_one_way(us_node.dir, jp_node.dir, url=thin, transport="nats")  # usfj's NATS client
    peer_one_way(jp_node.dir, us_node.dir, url=link_url, transport="nats")
    cluster.start()
    us = us_node.user("alice", "USA", "SECRET")
    jp = jp_node.user("kenji", "JPN", "SECRET")
    write_reports(us, ["S//REL TO USA, JPN"], "warm-up")
    wait_until(lambda: "warm-up 0" in titles(jp), 60, "the link works")
    proxy.cut()
    for k in range(10):
        body = [
            {"label": "S//REL TO USA, JPN", "title": {"en": f"routine-{k} {i}"}}
            for i in range(1000)
        ]
        r = us.post("/api/v1/reports/batch", json=body)
        assert r.status_code == 201, r.text
    r = us.post(
        "/api/v1/reports",
        json={"label": "S//REL TO USA, JPN", "precedence": "FLASH", "title": {"en": "FLASH"}},
    )
    assert r.status_code == 201, r.text
    time.sleep(3)  # the link fails a few sends while cut
    proxy.throttle(64_000)
    proxy.heal()
    healed = time.monotonic()
    wait_until(lambda: "FLASH" in titles(jp), 30, "FLASH delivered")
    took = time.monotonic() - healed
    order = titles(jp)  # newest first by HLC; the FLASH was written last
    assert order[0] == "FLASH"
    # Ahead of the 10,000 ROUTINE reports queued before it, or with only the first small batch.
    assert len(order) < 200, f"{len(order) - 2} ROUTINE reports arrived with it"
    assert took < 15


def _report_event(title: str, seq: int) -> Event:
    return Event(
        origin="usfj",
        seq=seq,
        hlc=1,
        record_type="report",
        record_id=f"usfj-forged-{seq}",
        op="create",
        label=parse_label("UNCLASSIFIED", originator="USA"),
        precedence=Precedence.ROUTINE,
        payload={"title": {"en": title}},
        author="mallory",
    )


def test_forged_and_unsigned_batches_are_refused(
    nats_cluster: Cluster, link_url: str, prefix: str, nats_server: str, tmp_path: Path
) -> None:
    from kizuna.federation.nats_wire import MSG_ID, SIGNATURE, batch_headers

    cluster = nats_cluster
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    rogue = make_node_dir(tmp_path / "rogue", "rogue", "USA")
    cluster.link("usfj", "jjoc", transport="nats", url=link_url)
    cluster.start()
    us = cluster.nodes["usfj"].user("alice", "USA", "SECRET")
    jp = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")
    write_reports(us, ["UNCLASSIFIED"], "first")
    wait_until(lambda: "first 0" in titles(jp), 60, "the link works")

    codec = BatchCodec(Event)
    subject = _names(prefix, "usfj", "jjoc").batch_to_peer("events")
    usfj_key = pki.load_key(NodeDir(cluster.nodes["usfj"].dir).node_key)
    rogue_key = pki.load_key(NodeDir(rogue).node_key)
    unsigned = codec.encode([_report_event("forged unsigned", 10**9)])
    by_rogue = codec.encode([_report_event("forged by rogue", 10**9 + 1)])
    tampered = codec.encode([_report_event("forged tampered", 10**9 + 2)])
    honest = codec.encode([_report_event("honest body", 10**9 + 3)])
    messages = [
        (unsigned, {MSG_ID: "events:unsigned"}),
        (by_rogue, batch_headers(rogue_key, subject, "events:rogue", by_rogue)),
        # usfj's real signature, over another body: the body is bound to it.
        (
            tampered,
            {**batch_headers(usfj_key, subject, "events:tamper", honest), MSG_ID: "events:tamper"},
        ),
        (unsigned, {MSG_ID: "events:garbage", SIGNATURE: base64.b64encode(b"x" * 70).decode()}),
    ]

    async def publish(nc: Any, js: Any) -> None:
        for body, headers in messages:
            await js.publish(subject, body, headers=headers)

    _run(_js_call(nats_server, publish))
    wait_until(lambda: waiting(nats_server, prefix, "jjoc", "usfj") == 0, 30, "forgeries consumed")
    with httpx.Client(base_url=cluster.nodes["jjoc"].url, timeout=30) as c:
        assert metric(c, REFUSED, reason="federation_unsigned") == 1
        assert metric(c, REFUSED, reason="federation_bad_signature") == 3
    # The consumer goes on: the real peer's next batch arrives; no forgery was applied.
    write_reports(us, ["UNCLASSIFIED"], "second")
    wait_until(lambda: "second 0" in titles(jp), 60, "the link still works")
    auditor = cluster.nodes["jjoc"].user("audit", "USA", "TOP SECRET")
    assert not [t for t in titles(auditor) if t.startswith(("forged", "honest"))]
    log = (cluster.nodes["jjoc"].dir / "node.log").read_text()
    assert "federation_bad_signature" in log and "federation_unsigned" in log


# -- the transport in-process -------------------------------------------------------------------


class Recorder:
    """An Inbound that applies nothing and remembers what it was handed."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, str, bytes, str]] = []
        self.refusals: list[str] = []

    def receive(self, peer_id: str, stream: str, body: bytes, dedup_id: str) -> Ack:
        if stream == "nosuch":
            raise LookupError("no federated stream 'nosuch'")
        self.batches.append((peer_id, stream, body, dedup_id))
        return Ack(accepted=2, applied=len(self.batches), refused=0)

    def digest(self, peer_id: str) -> dict[str, Any]:
        return {"peer": peer_id, "digest": "d"}

    def answer(self, peer_id: str, stream: str) -> bytes:
        raise LookupError(f"no answering stream {stream!r}")

    def refused(self, reason: str, **details: object) -> None:
        self.refusals.append(reason)


@pytest.fixture
def two_dirs(tmp_path: Path, link_url: str) -> tuple[Path, Path]:
    us = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    jp = make_node_dir(tmp_path / "jjoc", "jjoc", "JPN")
    peer_one_way(us, jp, transport="nats", url=link_url)
    peer_one_way(jp, us, transport="nats", url=link_url)
    return us, jp


def _endpoint(directory: Path, peer: str, url: str) -> PeerEndpoint:
    return PeerEndpoint(
        peer_id=peer, url=url, cert_path=str(directory / "peers" / f"{peer}.pem"), fingerprint=""
    )


async def test_resends_are_applied_once_and_acks_wait_for_the_receiver(
    two_dirs: tuple[Path, Path], link_url: str
) -> None:
    from kizuna.federation.nats import NatsTransport

    us, jp = two_dirs
    sender = NatsTransport("usfj", NodeDir(us))
    receiver = NatsTransport("jjoc", NodeDir(jp))
    conn = sender.connect(_endpoint(us, "jjoc", f"{link_url}&ack_timeout=2"))
    inbound = Recorder()

    def serve() -> asyncio.Task[None]:
        return asyncio.create_task(receiver.serve([_endpoint(jp, "usfj", link_url)], inbound))

    async def send_until_up(body: bytes, dedup: str) -> Ack:
        for _ in range(50):  # the receiver creates its stream when it starts serving
            try:
                return await conn.send("events", body, dedup)
            except TransportError:
                await asyncio.sleep(0.2)
        raise AssertionError("the receiver never came up")

    server = serve()
    try:
        first = await send_until_up(b"one", "d1")
        assert first == Ack(accepted=2, applied=1, refused=0)
        # The same batch again (its answer lost): stored once, answered by the stored Ack.
        assert await conn.send("events", b"one", "d1") == first
        assert [(s, b, d) for _, s, b, d in inbound.batches] == [("events", b"one", "d1")]
        assert (await conn.digest())["peer"] == "usfj"
        with pytest.raises(TransportError, match="nosuch"):
            await conn.send("nosuch", b"x", "d0")
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)

    # The receiver is gone: the batch is stored, but send fails until the receiver applied it.
    with pytest.raises(TransportError, match="no acknowledgement"):
        await conn.send("events", b"two", "d2")
    # An acknowledgement the receiver did not sign does not count.
    names = conn.names
    forged_subject = names.ack_from_peer("events", "events:d2")

    async def forge() -> None:
        await asyncio.sleep(0.5)
        nc = conn._nc
        assert nc is not None
        await nc.publish(forged_subject, b'{"accepted":1,"applied":1,"refused":0}')
        body, headers = _rogue_ack(us, forged_subject)
        await nc.publish(forged_subject, body, headers=headers)

    forging = asyncio.create_task(forge())
    with pytest.raises(TransportError, match="no acknowledgement"):
        await conn.send("events", b"two", "d2")
    await forging
    assert len(inbound.batches) == 1

    server = serve()
    try:
        second = await send_until_up(b"two", "d2")
        assert second == Ack(accepted=2, applied=2, refused=0)
        assert [d for *_, d in inbound.batches] == ["d1", "d2"]  # once each
        assert inbound.refusals == []
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
        await conn.close()


def _rogue_ack(signer_dir: Path, subject: str) -> tuple[bytes, dict[str, str]]:
    """An acknowledgement signed with the wrong key (the sender's own, not the receiver's)."""
    from kizuna.federation.nats_wire import AckMessage, encode_ack

    key = pki.load_key(NodeDir(signer_dir).node_key)
    return encode_ack(key, subject, AckMessage(accepted=1, applied=1, refused=0))


# -- the wire, without a server -----------------------------------------------------------------


def test_peer_urls_and_subjects() -> None:
    from kizuna.federation.nats_wire import Names, parse_url

    s = parse_url("nats://u:p@10.0.0.1:4222,10.0.0.2:4222?prefix=jfhq&ack_timeout=30")
    assert s.servers == ["nats://u:p@10.0.0.1:4222", "nats://u:p@10.0.0.2:4222"]
    assert (s.prefix, s.ack_timeout, s.tls) == ("jfhq", 30.0, False)
    assert parse_url("tls://nats.example:4222?ca=nats-ca.pem").tls
    for bad in (
        "https://127.0.0.1:4222",
        "nats://127.0.0.1:4222?prefix=a.b",
        "nats://127.0.0.1:4222?colour=red",
        "nats://127.0.0.1:4222/kizuna",
        "nats://127.0.0.1:4222?ack_timeout=0",
    ):
        with pytest.raises(ValueError):
            parse_url(bad)
    ours, theirs = Names("kz", "usfj", "jjoc"), Names("kz", "jjoc", "usfj")
    subject = ours.batch_to_peer("events")
    assert subject == "kz.batch.jjoc.usfj.events"
    assert theirs.inbound_part(subject, "batch") == "events"
    assert ours.inbound_part(subject, "batch") is None  # not addressed to usfj
    assert ours.ack_from_peer("events", "events:x") == theirs.ack_to_peer("events", "events:x")
    assert ours.inbound_stream != theirs.inbound_stream
    assert Names("kz", "a-b", "c").inbound_stream != Names("kz", "a", "b-c").inbound_stream
    with pytest.raises(ValueError):
        ours.batch_to_peer("a.b")


def test_signatures_bind_sender_subject_id_and_body(tmp_path: Path) -> None:
    from kizuna.federation.nats_wire import (
        AckMessage,
        Names,
        Refused,
        batch_headers,
        check_ack,
        check_batch,
        check_question,
        encode_ack,
        encode_question,
    )

    us = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    other = make_node_dir(tmp_path / "other", "other", "USA")
    key, cert = pki.load_key(NodeDir(us).node_key), pki.load_cert(NodeDir(us).node_cert)
    other_key = pki.load_key(NodeDir(other).node_key)
    receiver = Names("kz", "jjoc", "usfj")
    subject = Names("kz", "usfj", "jjoc").batch_to_peer("events")
    headers = batch_headers(key, subject, "events:d1", b"body")
    assert check_batch(receiver, cert, subject, headers, b"body") == ("events", "d1", "events:d1")
    refusals = {
        "federation_bad_signature": [
            (subject, headers, b"other body"),
            (subject, batch_headers(other_key, subject, "events:d1", b"body"), b"body"),
            (subject, {**headers, "Nats-Msg-Id": "events:d2"}, b"body"),
        ],
        "federation_unsigned": [(subject, {"Nats-Msg-Id": "events:d1"}, b"body")],
        "federation_bad_subject": [("kz.batch.jjoc.rogue.events", headers, b"body")],
    }
    for reason, cases in refusals.items():
        for subj, hdrs, body in cases:
            with pytest.raises(Refused) as caught:
                check_batch(receiver, cert, subj, hdrs, body)
            assert caught.value.reason == reason
    # Acknowledgements: only the peer's key, only for the subject it was given for.
    ack_subject = "kz.ack.jjoc.usfj.events.k"
    body, hdrs = encode_ack(key, ack_subject, AckMessage(accepted=1, applied=1))
    assert check_ack(cert, ack_subject, hdrs, body) == AckMessage(accepted=1, applied=1)
    assert check_ack(cert, "kz.ack.jjoc.usfj.events.other", hdrs, body) is None
    forged_body, forged_hdrs = encode_ack(other_key, ack_subject, AckMessage(applied=9))
    assert check_ack(cert, ack_subject, forged_hdrs, forged_body) is None
    # Questions: the reply subject is signed, and old questions are refused.
    q_body, q_hdrs = encode_question(key, "kz.rpc.jjoc.usfj.digest", "_INBOX.a", "n1")
    assert check_question(cert, "kz.rpc.jjoc.usfj.digest", "_INBOX.a", q_hdrs, q_body).nonce == "n1"
    with pytest.raises(Refused):
        check_question(cert, "kz.rpc.jjoc.usfj.digest", "_INBOX.evil", q_hdrs, q_body)
    with pytest.raises(Refused):
        check_question(
            cert, "kz.rpc.jjoc.usfj.digest", "_INBOX.a", q_hdrs, q_body, now=time.time() + 3600
        )
