"""UDP and TCP feeds over loopback deliver tracks."""

from __future__ import annotations

import asyncio
import socket

from kizuna.sources.ais import AisIngestor, serve_tcp, serve_tcp_client, serve_udp

from .conftest import UNCLASSIFIED, Collect

LINES = [
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",  # 371798000
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
    "garbage that must not hurt",
    "!AIVDM,1,1,,A,B52K>;h00Fc>jpUlNV@ikwpUoP06,0*4C",  # 338087471
]
PAYLOAD = ("\r\n".join(LINES) + "\r\n").encode()


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def check(collect: Collect, ing: AisIngestor) -> None:
    assert {t.id for t in collect.tracks} == {"ais-371798000", "ais-338087471"}
    assert ing.stats.accepted == 4 and ing.stats.rejected_total == 1
    assert ing.static_for(351759000) is not None


async def test_udp_listener(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    server = await serve_udp("127.0.0.1", 0, ing, name="udp-test")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(PAYLOAD, ("127.0.0.1", server.port))
        await until(lambda: len(collect.tracks) >= 2)
    finally:
        server.close()
    check(collect, ing)
    assert collect.tracks[0].sources[0].connection == "udp-test:127.0.0.1"


async def test_udp_listener_drains_a_burst_into_few_batches(collect: Collect) -> None:
    """2,000 one-sentence datagrams sent back to back, as forwarders send them: every one
    arrives (the listener asks for a receive buffer far above the kernel's 208 KiB
    default), read many per wake-up and handed on in a few batches, not one per datagram."""
    import pyais

    sentences = [
        pyais.encode_dict(
            {"type": 1, "mmsi": 235_000_000 + i, "lat": 50.7 + i * 1e-4, "lon": -1.2},
            talker_id="AI",
            sentence_type="VDM",
        )[0].encode()
        + b"\r\n"
        for i in range(2000)
    ]
    ing = AisIngestor(collect, UNCLASSIFIED)
    server = await serve_udp("127.0.0.1", 0, ing, name="burst")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for line in sentences:
                sock.sendto(line, ("127.0.0.1", server.port))
        await until(lambda: len(collect.tracks) >= 2000)
    finally:
        server.close()
    assert {t.id for t in collect.tracks} == {f"ais-{235_000_000 + i}" for i in range(2000)}
    assert ing.stats.rejected_total == 0
    assert len(collect.batches) <= 20


async def test_tcp_listener_splits_lines_across_chunks(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    async with await serve_tcp("127.0.0.1", 0, ing, name="push") as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        for i in range(0, len(PAYLOAD), 7):  # sentences arrive in pieces
            writer.write(PAYLOAD[i : i + 7])
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        await until(lambda: ing.stats.offered == len(LINES) and len(collect.tracks) >= 2)
    check(collect, ing)
    assert collect.tracks[0].sources[0].connection.startswith("push:127.0.0.1:")


async def test_tcp_client_reads_a_feed(collect: Collect) -> None:
    async def feed(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(PAYLOAD)
        await writer.drain()
        writer.close()

    upstream = await asyncio.start_server(feed, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    ing = AisIngestor(collect, UNCLASSIFIED)
    async with upstream:
        stats = await serve_tcp_client("127.0.0.1", port, ing, name="aggregator")
    check(collect, ing)
    assert stats.offered == len(LINES)
    assert collect.tracks[0].sources[0].connection == "aggregator"
