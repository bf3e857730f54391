"""CotServer with real pytak clients over TCP and mutual TLS."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
import takproto
from cot_support import WAIT, PytakClient, cot, read_xml_event

from kizuna.core.labels import Classification, make_label
from kizuna.core.release import make_principal
from kizuna.kernel.pki import create_ca, issue_cert, write_cert, write_key
from kizuna.picture.models import Track
from kizuna.sources.cot import proto
from kizuna.sources.cot.codec import CotEvent, to_xml
from kizuna.sources.cot.server import CotServer


def url_of(srv: CotServer, tls: bool = False) -> str:
    host, port = srv.tls_address if tls else srv.tcp_address
    return f"{'tls' if tls else 'tcp'}://{host}:{port}"


def tcp_server(**kw) -> CotServer:
    return CotServer(tcp_port=0, tls_port=None, **kw)


async def test_tcp_relay_and_tracks() -> None:
    got: list[Track] = []
    async with tcp_server(on_tracks=got.extend) as srv:
        url = url_of(srv)
        a, b = await PytakClient.connect(url), await PytakClient.connect(url)
        await b.recv(skip=())  # the t-x-takp-v announcement comes first
        await a.send(cot("ALPHA-1"))
        ev = await b.recv()
        assert ev.get("uid") == "ALPHA-1" and ev.get("access") == "UNCLASSIFIED"
        assert ev.find("detail/contact").get("callsign") == "ALPHA-1"
        # chat is relayed but is not a track
        await a.send(cot("GeoChat.ALPHA-1.All.1", cot_type="b-t-f"))
        assert (await b.recv()).get("type") == "b-t-f"
        # a ping is answered with a pong to the sender only
        await a.send(cot("ALPHA-1-ping", cot_type="t-x-c-t"))
        assert (await a.recv()).get("type") == "t-x-c-t-r"
        await b.send(cot("BRAVO-1"))
        assert (await a.recv()).get("uid") == "BRAVO-1"  # A never saw its own events
        assert [t.id for t in got] == ["cot-ALPHA-1", "cot-BRAVO-1"]
        assert got[0].sidc == "10031000001211000000" and got[0].source == "cot"
        assert got[0].label.originator == "USA"
        stats = srv.stats()
        assert stats["received"] == 4 and stats["tracks"] == 2 and stats["pings"] == 1
        await a.close()
        await b.close()


async def test_tls_clients_get_only_what_their_certificate_allows(pki) -> None:
    got: list[Track] = []
    srv = CotServer(on_tracks=got.extend, tcp_port=None, tls_port=0, ssl_context=pki.ssl_context())
    async with srv:
        url = url_of(srv, tls=True)
        usa = await PytakClient.connect(url, pki.client("VIPER", "USA", "SECRET"))
        jpn = await PytakClient.connect(url, pki.client("SAKURA", "JPN", "SECRET"))
        kor = await PytakClient.connect(url, pki.client("HANA", "KOR", "SECRET"))
        low = await PytakClient.connect(url, pki.client("LOWSIDE", "JPN", "UNCLASSIFIED"))
        for c in (usa, jpn, kor, low):
            await c.recv(skip=())
        await usa.send(cot("VIPER", access="SECRET", releaseableTo="JPN"))
        await usa.send(cot("MARKER", access="UNCLASSIFIED"))
        first = await jpn.recv()
        assert first.get("uid") == "VIPER" and first.get("releaseableTo") == "USA JPN"
        assert (await jpn.recv()).get("uid") == "MARKER"
        # KOR (not in REL TO) and the uncleared JPN user see only the marker
        assert (await kor.recv()).get("uid") == "MARKER"
        assert (await low.recv()).get("uid") == "MARKER"
        assert got[0].label.render() == "SECRET//REL TO USA, JPN"
        assert srv.stats()["withheld"] == 2
        # an uncleared sender may not label above its clearance
        await low.send(cot("LEAK", access="SECRET"))
        await low.send(cot("LOW-OK"))
        assert (await kor.recv()).get("uid") == "LOW-OK"
        assert srv.stats()["rejected_not_permitted"] == 1
        for c in (usa, jpn, kor, low):
            await c.close()


async def test_tls_requires_a_certificate_from_our_ca(pki, tmp_path) -> None:
    srv = CotServer(tcp_port=None, tls_port=0, ssl_context=pki.ssl_context())
    other_ca, other_key = create_ca("rogue", "USA")
    cert, key = issue_cert(other_ca, other_key, common_name="rogue", nation="USA")
    write_cert(tmp_path / "rogue.pem", cert)
    write_key(tmp_path / "rogue.key", key)
    async with srv:
        host, port = srv.tls_address
        for chain in (None, (tmp_path / "rogue.pem", tmp_path / "rogue.key")):
            ctx = ssl.create_default_context(cafile=str(pki.ca))
            if chain:
                ctx.load_cert_chain(*map(str, chain))
            with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
                reader, _ = await asyncio.open_connection(host, port, ssl=ctx)
                await asyncio.wait_for(reader.readuntil(b"</event>"), WAIT)
        assert srv.stats()["connections"] == 0


async def test_protobuf_negotiation() -> None:
    async with tcp_server() as srv:
        host, port = srv.tcp_address
        reader, writer = await asyncio.open_connection(host, port)
        offer = await read_xml_event(reader)
        assert offer.get("type") == "t-x-takp-v"
        assert offer.find("detail/TakControl/TakProtocolSupport").get("version") == "1"
        writer.write(to_xml(proto.request_event("NEGO-1")))
        answer = await read_xml_event(reader)
        assert answer.get("type") == "t-x-takp-r"
        assert answer.find("detail/TakControl/TakResponse").get("status") == "true"
        # from now on this client receives protobuf; an XML (pytak) client's event arrives as such
        xml_client = await PytakClient.connect(url_of(srv))
        await xml_client.send(cot("XML-1", access="UNCLASSIFIED"))
        assert await asyncio.wait_for(reader.readexactly(1), WAIT) == b"\xbf"
        size = 0
        for shift in range(0, 64, 7):
            byte = (await reader.readexactly(1))[0]
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        msg = takproto.parse_proto(
            bytearray(b"\xbf")
            + bytearray(proto.encode_varint(size))
            + bytearray(await reader.readexactly(size))
        )
        assert msg.cotEvent.uid == "XML-1" and msg.cotEvent.access == "UNCLASSIFIED"
        # it may send protobuf (encoded by takproto) and the XML client gets XML
        writer.write(bytes(takproto.xml2proto(cot("PROTO-1"), takproto.TAKProtoVer.STREAM)))
        await writer.drain()
        assert (await xml_client.recv()).get("uid") == "PROTO-1"
        assert srv.stats()["negotiated"] == 1
        writer.close()
        await xml_client.close()


async def test_pytak_protobuf_sender_is_understood() -> None:
    async with tcp_server() as srv:
        url = url_of(srv)
        listener = await PytakClient.connect(url)
        sender = await PytakClient.connect(url, TAK_PROTO="1")  # pytak sends protobuf frames
        await sender.send(cot("PB-1"))
        assert (await listener.recv()).get("uid") == "PB-1"
        await sender.close()
        await listener.close()


async def test_malformed_input_is_counted_and_others_keep_service() -> None:
    async with tcp_server(max_errors_in_a_row=6) as srv:
        host, port = srv.tcp_address
        url = f"tcp://{host}:{port}"
        good, watcher = await PytakClient.connect(url), await PytakClient.connect(url)
        reader, writer = await asyncio.open_connection(host, port)
        from test_cot_codec import ATAK_SA, BILLION_LAUGHS

        bad = [
            b"<event uid='x'><point lat='1'></event>",  # broken XML
            BILLION_LAUGHS,
            cot("T1").replace(b'lat="35.68"', b'lat="north"'),  # wrong types
            b"\xbf\x08" + b"\xff" * 8,  # garbage protobuf
        ]
        for data in bad:
            writer.write(data)
        writer.write(ATAK_SA.replace(b"on station", b"A" * 10_000_000))  # 10 MB event
        writer.write(cot("STILL-OK"))  # the same connection recovers after the junk
        await writer.drain()
        assert (await watcher.recv()).get("uid") == "STILL-OK"
        await good.send(cot("GOOD-1"))
        assert (await watcher.recv()).get("uid") == "GOOD-1"
        stats = srv.stats()
        assert stats["rejected"] == 5
        for reason in ("xml", "entities", "invalid", "proto", "too_large"):
            assert stats[f"rejected_{reason}"] == 1, reason
        assert stats["buffer_peak"] < 3 * 65536
        # repeated garbage closes the offending connection, nobody else's
        for _ in range(6):
            writer.write(b"<event><broken></event>")
        await writer.drain()
        await asyncio.wait_for(_closed(reader), WAIT)
        assert srv.stats()["closed_for_errors"] == 1
        await good.send(cot("GOOD-2"))
        assert (await watcher.recv()).get("uid") == "GOOD-2"
        await good.close()
        await watcher.close()


async def _closed(reader: asyncio.StreamReader) -> None:
    try:
        while await reader.read(65536):
            pass
    except ConnectionResetError:
        pass  # closed with our unread junk still in its buffer


async def test_slow_client_is_coalesced_not_buffered() -> None:
    async with tcp_server(queue_limit=20) as srv:
        host, port = srv.tcp_address
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, port))  # never reads
        fast = await PytakClient.connect(url_of(srv))
        await fast.recv(skip=())
        label = make_label(Classification.UNCLASSIFIED, originator="USA")
        for i in range(300):
            ev = CotEvent(
                uid=f"U{i % 40}",
                type="a-f-S-C",
                time=1e9 + i,
                start=1e9 + i,
                stale=2e9,
                remarks="x" * 60_000,
                label=label,
            )
            assert srv.publish(ev) == 2
            assert (await fast.recv()).get("uid") == f"U{i % 40}"
        stats = srv.stats()
        assert stats["coalesced"] + stats["dropped"] > 0
        assert stats["queued"] <= 20
        sock.close()
        await fast.close()


async def test_publish_track_respects_release() -> None:
    jpn = make_principal("JPN", Classification.SECRET, name="jp-default")
    async with tcp_server(default_principal=jpn) as srv:
        client = await PytakClient.connect(url_of(srv))
        await client.recv(skip=())
        base = dict(
            source="ais",
            lat=34.9,
            lon=139.8,
            observed_at=1.7e9,
            stale_at=1.7e9 + 600,
            cot_type="a-n-S-X",
            sidc="10043000001400000000",
        )
        secret_kor = Track(
            id="ais-1",
            source_id="1",
            label=make_label(Classification.SECRET, rel_to={"KOR"}, originator="USA"),
            **base,
        )
        open_track = Track(
            id="ais-2",
            source_id="2",
            name="MARU",
            label=make_label(Classification.UNCLASSIFIED, originator="USA"),
            **base,
        )
        assert srv.publish(secret_kor) == 0
        assert srv.publish(open_track) == 1
        ev = await client.recv()
        assert (ev.get("uid"), ev.get("type")) == ("ais-2", "a-n-S-X")
        assert ev.find("detail/contact").get("callsign") == "MARU"
        await client.close()


def _proto_frame(uid: str) -> bytes:
    """A protobuf stream frame written directly (our encoder refuses such a uid)."""
    msg = takproto.proto.TakMessage()
    c = msg.cotEvent
    c.uid, c.type, c.sendTime, c.staleTime = uid, "a-f-G", 1_800_000_000_000, 1_800_000_060_000
    body = msg.SerializeToString()
    return b"\xbf" + proto.encode_varint(len(body)) + body


async def test_events_the_codec_cannot_send_on_are_refused_not_fatal() -> None:
    """Regressions of the fuzz findings: each used to end the sender's connection."""
    got: list[Track] = []
    async with tcp_server(on_tracks=got.extend, max_errors_in_a_row=10) as srv:
        host, port = srv.tcp_address
        watcher = await PytakClient.connect(url_of(srv))
        _, writer = await asyncio.open_connection(host, port)
        ok = cot("STILL-OK")
        head, tail = ok.split(b"<detail>", 1)
        writer.write(b'<?xml version="1.0" encoding="T"?>' + ok.split(b"?>", 1)[1])
        writer.write(head + b"<detail>" + b"<a>" * 5_000 + b"</a>" * 5_000 + tail)
        writer.write(ok.replace(b'time="20', b'time="00').replace(b'start="20', b'start="00'))
        writer.write(_proto_frame("A\x01B"))
        writer.write(ok)  # the batch goes on, on the same connection
        await writer.drain()
        assert (await watcher.recv()).get("uid") == "STILL-OK"
        stats = srv.stats()
        assert (stats["rejected_xml"], stats["rejected_invalid"]) == (1, 3), stats
        assert [t.id for t in got] == ["cot-STILL-OK"]
        # published content a wire cannot carry is withheld from it, never raised
        label = make_label(Classification.UNCLASSIFIED, originator="USA")
        bad = CotEvent(uid="X\x0c", type="a-f-G", time=1e9, start=1e9, stale=2e9, label=label)
        assert srv.publish(bad) == 0 and srv.stats()["unsendable"] == 2
        writer.close()
        await watcher.close()
