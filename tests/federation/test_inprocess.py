"""Federation of two nodes in one process: real mutual TLS on loopback, a stream outside the
log, hand-built batches. No `kizuna` subprocess and no domain of Kizuna: a small test domain
brings a record type and a stream, which federation carries under the same rules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from kizuna.core.labels import Label
from kizuna.core.records import Event
from kizuna.federation.events import encode_batch
from kizuna.federation.https import ALIASES, DEDUP_HEADER, route
from kizuna.federation.service import Federation
from kizuna.federation.tls import client_context
from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, RecordType
from kizuna.kernel.streams import Ack, Envelope, PeerEndpoint
from kizuna.node.runtime import Node
from kizuna.node.setup import init_node
from kizuna.store.base import Draft
from tests.nodes import free_port

TYPES = ["note", "beacon"]


class Beacon(msgspec.Struct, frozen=True):
    id: str
    label: Label
    via: str = ""


class Beacons:
    """A federated stream held in memory: versioned by change, ``via`` names who delivered."""

    name = "beacon"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, tuple[int, Beacon]] = {}
        self.version = 0
        self.listeners: list[Callable[[], None]] = []

    def add(self, beacon: Beacon) -> None:
        with self.lock:
            self.version += 1
            self.items[beacon.id] = (self.version, beacon)
        for listener in self.listeners:
            listener()

    def changes_since(self, cursor: int, limit: int) -> tuple[list[Beacon], int]:
        with self.lock:
            rows = sorted((v, b) for v, b in self.items.values() if v > cursor)[:limit]
        return [b for _, b in rows], (rows[-1][0] if rows else cursor)

    def envelope(self, item: Beacon) -> Envelope:
        return Envelope(label=item.label, relayed_from=item.via or None)

    def prepare(self, item: Beacon, peer_id: str) -> Beacon:
        return item

    def encode(self, items: list[Beacon]) -> bytes:
        return zlib.compress(msgspec.msgpack.encode(items))

    def decode(self, body: bytes) -> list[Beacon]:
        try:
            return msgspec.msgpack.decode(zlib.decompress(body), type=list[Beacon])
        except (zlib.error, msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"malformed beacons: {exc}") from None

    def accept(self, peer_id: str, items: list[Beacon]) -> int:
        for item in items:
            self.add(msgspec.structs.replace(item, via=peer_id))
        return len(items)

    def on_change(self, callback: Callable[[], None]) -> None:
        self.listeners.append(callback)


class Notes(Domain):
    name = "notes"

    def record_types(self) -> Sequence[RecordType]:
        return (RecordType(name="note"),)

    def start(self, ctx: NodeContext) -> Beacons:
        return Beacons()

    def streams(self, service: Any) -> Sequence[Any]:
        return (service,)


def make_node(root: Path, node_id: str, nation: str) -> NodeDir:
    port = free_port(2)
    nd = NodeDir(root / node_id)
    init_node(nd, NodeConfig(node_id=node_id, nation=nation, port=port))
    return nd


def peer(a: NodeDir, b: NodeDir, **agreement: Any) -> None:
    """Tell ``a`` about ``b``, as `kizuna peer add` does."""
    cb = b.load()
    (a.peers / f"{cb.node_id}.pem").write_text(b.node_cert.read_text() + b.ca_cert.read_text())
    ca = a.load()
    ca.peers.append(
        PeerConfig(
            peer_id=cb.node_id,
            nation=cb.nation,
            url=cb.federation_url,
            cert=f"peers/{cb.node_id}.pem",
            types=agreement.pop("types", TYPES),
            **agreement,
        )
    )
    a.save(ca)


class Pair:
    def __init__(self, us: Node, jp: Node) -> None:
        self.us, self.jp = us, jp
        self.fed_us, self.fed_jp = Federation(us), Federation(jp)

    def beacons(self, node: Node) -> Beacons:
        service: Beacons = node.service("notes")
        return service

    def note(self, node: Node, marking: str, text: str) -> str:
        rid = f"{node.node_id}-{text}"
        node.events.append([Draft("note", rid, "create", node.parse_label(marking), {"t": text})])
        return rid

    def client(self) -> httpx.AsyncClient:
        """usfj's side of the mutual-TLS link to jjoc, for hand-built batches."""
        ctx = client_context(self.us.dir, self.us.dir.peers / "jjoc.pem")
        return httpx.AsyncClient(verify=ctx, base_url=self.jp.config.federation_url)


def metric(node: Node, name: str, **labels: str) -> float:
    return node.metrics.registry.get_sample_value(name, labels) or 0.0


async def until(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_pair(tmp_path: Path, **agreement: Any) -> AsyncIterator[Pair]:
    us_dir, jp_dir = make_node(tmp_path, "usfj", "USA"), make_node(tmp_path, "jjoc", "JPN")
    peer(us_dir, jp_dir, **agreement)
    peer(jp_dir, us_dir, **agreement)
    us, jp = Node(us_dir.root, domains=[Notes()]), Node(jp_dir.root, domains=[Notes()])
    p = Pair(us, jp)
    tasks = [asyncio.create_task(p.fed_us.run()), asyncio.create_task(p.fed_jp.run())]
    await asyncio.sleep(0.2)  # listeners bound
    try:
        yield p
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        us.close()
        jp.close()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with running_pair(tmp_path) as p:
        yield p


async def test_events_and_a_stream_federate_under_one_rule(pair: Pair) -> None:
    shared = pair.note(pair.us, "S//REL TO USA, JPN", "shared")
    home = pair.note(pair.us, "S//NOFORN", "home")
    bus, bjp = pair.beacons(pair.us), pair.beacons(pair.jp)
    bus.add(Beacon("b-yes", pair.us.parse_label("UNCLASSIFIED")))
    bus.add(Beacon("b-no", pair.us.parse_label("SECRET//NOFORN")))
    await until(lambda: pair.jp.events.get("note", shared) and "b-yes" in bjp.items)
    await asyncio.sleep(1.5)  # another round of the link: nothing else may arrive
    assert pair.jp.events.get("note", home) is None
    assert sorted(bjp.items) == ["b-yes"]
    assert bjp.items["b-yes"][1].via == "usfj"
    # The beacon jjoc holds came from usfj: it does not go back (echo), nor does the note.
    assert sorted(bus.items) == ["b-no", "b-yes"]
    ours = pair.fed_us.shared("jjoc")
    theirs = pair.fed_jp.shared("usfj")
    assert ours.digest == theirs.digest and ours.count == theirs.count == 1
    denied = metric(pair.us, "kizuna_release_denied_total", path="federation:jjoc")
    assert denied >= 2  # the NOFORN note and the NOFORN beacon
    # And back: jjoc's note reaches usfj.
    back = pair.note(pair.jp, "C//REL TO USA, JPN", "back")
    await until(lambda: pair.us.events.get("note", back))
    assert pair.fed_us.shared("jjoc").digest == pair.fed_jp.shared("usfj").digest


async def test_hand_built_batches_are_judged_at_receipt(pair: Pair) -> None:
    jp = pair.jp
    us_label = pair.us.parse_label("S//REL TO USA, JPN")
    good = Event(
        origin="usfj", seq=1, hlc=1, record_type="note", record_id="n1", op="create", label=us_label
    )
    echo = msgspec.structs.replace(good, origin="jjoc", seq=2, record_id="n2")
    wrong_type = msgspec.structs.replace(good, seq=3, record_type="report", record_id="n3")
    async with pair.client() as c:
        r = await c.post("/federation/v1/events", content=encode_batch([good, echo, wrong_type]))
        assert r.status_code == 200, r.text
        assert msgspec.json.decode(r.content, type=Ack) == Ack(accepted=3, applied=1, refused=2)
        assert jp.events.get("note", "n1") is not None
        violations = "kizuna_federation_violations_total"
        assert metric(jp, violations, peer="usfj", reason="own") == 1
        assert metric(jp, violations, peer="usfj", reason="type") == 1
        refused = [
            e["details"]
            for e in map(json.loads, jp.dir.audit.read_text().splitlines())
            if e["action"] == "federation.receive"
        ]
        assert refused == [
            {
                "reason": "own",
                "origin": "jjoc",
                "seq": 2,
                "record_type": "note",
                "record_id": "n2",
                "label": echo.label.render(),
            },
            {
                "reason": "type",
                "origin": "usfj",
                "seq": 3,
                "record_type": "report",
                "record_id": "n3",
                "label": us_label.render(),
            },
        ]

        # The same batch again with its de-duplication id: answered, not applied twice.
        body = encode_batch([msgspec.structs.replace(good, seq=4, record_id="n4")])
        for _ in range(2):
            r = await c.post("/federation/v1/events", content=body, headers={DEDUP_HEADER: "x1"})
            assert r.json() == {"accepted": 1, "applied": 1, "refused": 0}

        # A stream item relayed from elsewhere, without a relay agreement: refused.
        relayed = Beacon("b1", us_label, via="aus")
        r = await c.post(
            "/federation/v1/beacon", content=zlib.compress(msgspec.msgpack.encode([relayed]))
        )
        assert r.json() == {"accepted": 1, "applied": 0, "refused": 1}
        assert metric(jp, violations, peer="usfj", reason="relay") == 1

        r = await c.post("/federation/v1/events", content=b"not a batch")
        assert r.status_code == 400
        bad = metric(jp, "kizuna_bad_input_total", source="federation", reason="malformed_batch")
        assert bad == 1
        r = await c.post("/federation/v1/nothing", content=b"")
        assert r.status_code == 404
        r = await c.post("/federation/v1/tracks", content=b"")  # the old path of "track"
        assert r.status_code == 404 and "'track'" in r.json()["detail"]

        r = await c.get("/federation/v1/digest")
        assert r.status_code == 200 and r.json()["peer"] == "usfj"
        r = await c.get("/federation/v1/digest", params={"peer": "aus"})
        assert r.status_code == 403


async def test_ownership_is_judged_against_the_record_and_the_batch(tmp_path: Path) -> None:
    """The default ownership rule (a record is its creator's): a peer's write to a record
    another node created is refused, also when the create arrives in the same batch."""
    async with running_pair(tmp_path, relay=True) as pair:
        jp = pair.jp
        mine = pair.note(jp, "S//REL TO USA, JPN", "mine")
        lab = pair.us.parse_label("S//REL TO USA, JPN")

        def ev(origin: str, seq: int, rid: str, op: str, text: str, hops: int = 0) -> Event:
            return Event(
                origin=origin,
                seq=seq,
                hlc=1 << 60,
                record_type="note",
                record_id=rid,
                op=op,  # type: ignore[arg-type]
                label=lab,
                payload={"t": text},
                hops=hops,
            )

        relayed = ev("aus", 1, "n-aus", "create", "from aus", hops=1)
        batch = [
            ev("usfj", 101, mine, "patch", "usfj was here"),  # jjoc's own note
            relayed,
            ev("usfj", 102, "n-aus", "patch", "usfj was here"),  # aus's, created just before
            ev("usfj", 103, "n-us", "create", "usfj's own"),
            ev("usfj", 104, "n-us", "patch", "usfj's own, edited"),
        ]
        async with pair.client() as c:
            r = await c.post("/federation/v1/events", content=encode_batch(batch))
        assert r.json() == {"accepted": 5, "applied": 3, "refused": 2}
        held = {rid: jp.events.get("note", rid) for rid in (mine, "n-aus", "n-us")}
        assert {rid: s.fields["t"] for rid, s in held.items() if s} == {
            mine: "mine",
            "n-aus": "from aus",
            "n-us": "usfj's own, edited",
        }
        violations = "kizuna_federation_violations_total"
        assert metric(jp, violations, peer="usfj", reason="not_owner") == 2


def test_routes_by_stream_name() -> None:
    calls: list[tuple[str, str, str]] = []

    class Inbound:
        def receive(self, peer_id: str, stream: str, body: bytes, dedup_id: str) -> Ack:
            calls.append((peer_id, stream, dedup_id))
            if stream == "broken":
                raise ValueError("malformed")
            return Ack(accepted=0, applied=0, refused=0)

        def digest(self, peer_id: str) -> dict[str, Any]:
            return {"peer": peer_id}

        def refused(self, reason: str, **details: object) -> None:
            raise AssertionError(reason)

    peer = PeerEndpoint(peer_id="jjoc", url="https://x", cert_path="x", fingerprint="f")
    inbound = Inbound()
    post = lambda path, h={}: route(inbound, peer, "POST", path, {}, h, b"")  # noqa: E731
    assert post("/federation/v1/events", {DEDUP_HEADER: "d"})[0] == 200
    assert post("/federation/v1/tracks")[0] == 200
    assert post("/federation/v1/broken")[0] == 400
    assert post("/federation/v1/a/b")[0] == 404
    assert post("/elsewhere")[0] == 404
    assert calls == [
        ("jjoc", "events", "d"),
        ("jjoc", ALIASES["tracks"], ""),
        ("jjoc", "broken", ""),
    ]
    status, body, _ = route(inbound, peer, "GET", "/federation/v1/digest", {}, {}, b"")
    assert status == 200 and msgspec.json.decode(body) == {"peer": "jjoc"}


async def test_digest_route_on_the_api_port(pair: Pair) -> None:
    from litestar.testing import AsyncTestClient

    from kizuna.api.app import create_app
    from kizuna.node.users import make_user

    user, token = make_user("alice", "USA", "SECRET", [], [], pair.us.groups, None)
    pair.us.backend.users.add_user(user)
    app = create_app(pair.us, pair.fed_us.routes())
    async with AsyncTestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        r = await client.get("/federation/v1/digest", params={"peer": "jjoc"}, headers=auth)
        assert r.status_code == 200, r.text
        assert list(r.json()) == ["node", "peer", "count", "digest"]
        assert r.json()["node"] == "usfj" and r.json()["peer"] == "jjoc"
        r = await client.get("/federation/v1/digest", params={"peer": "nobody"}, headers=auth)
        assert r.status_code == 404
        r = await client.get("/federation/v1/digest", params={"peer": "jjoc"})
        assert r.status_code == 401
        doc = (await client.get("/api/docs/openapi.json")).json()
        ok = doc["paths"]["/federation/v1/digest"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]
