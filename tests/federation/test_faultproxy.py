"""Tests for the link-fault proxy (in-process and process mode)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.faultproxy import (
    FaultProxy,
    FaultProxyError,
    FaultProxyProcess,
    TokenBucket,
    main,
)

HOST = "127.0.0.1"


class EchoServer:
    """Echoes bytes back; closes after EOF. Waits for its handlers on close."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self, ssl_ctx: ssl.SSLContext | None = None) -> int:
        self.server = await asyncio.start_server(self.handle, HOST, 0, ssl=ssl_ctx)
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.writers.add(writer)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            self.tasks.discard(task)
            self.writers.discard(writer)

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)
        await self.server.wait_closed()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    echo = EchoServer()
    yield await echo.start()
    await echo.close()


@pytest.fixture
async def proxy(echo_port: int) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(HOST, 0, HOST, echo_port) as p:
        yield p


async def roundtrip(port: int, payload: bytes, timeout: float = 20.0) -> bytes:
    """Send `payload`, half-close, and read everything echoed back until EOF."""
    reader, writer = await asyncio.open_connection(HOST, port)

    async def send() -> None:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    try:
        sender = asyncio.create_task(send())
        data = await asyncio.wait_for(reader.read(-1), timeout)
        await sender
        return data
    finally:
        writer.close()


async def rtt(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    start = time.monotonic()
    writer.write(b"ping!")
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(5), 10) == b"ping!"
    return time.monotonic() - start


async def broken(reader: asyncio.StreamReader, timeout: float = 5.0) -> bool:
    """True if the connection ends (EOF or reset) within `timeout`."""
    try:
        return await asyncio.wait_for(reader.read(1), timeout) == b""
    except OSError:
        return True


async def refused(port: int) -> bool:
    """True if a new connection through the proxy fails quickly."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return True
    try:
        writer.write(b"hello")
        return await broken(reader)
    except OSError:
        return True
    finally:
        writer.close()


async def test_bytes_pass_through_both_ways(proxy: FaultProxy) -> None:
    payload = os.urandom(1 << 20)
    assert await roundtrip(proxy.port, payload) == payload
    assert await roundtrip(proxy.port, b"small") == b"small"
    stats = proxy.stats
    assert stats.bytes_up == stats.bytes_down == len(payload) + 5
    assert stats.accepted == 2
    assert stats.refused == stats.upstream_failed == 0


async def test_cut_then_heal(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection(HOST, proxy.port)
    assert await rtt(reader, writer) < 5
    proxy.cut()
    assert await broken(reader)
    writer.close()
    assert await refused(proxy.port)
    assert proxy.stats.cut and proxy.stats.refused >= 1
    proxy.heal()
    assert await roundtrip(proxy.port, b"after heal") == b"after heal"
    assert not proxy.stats.cut


async def test_reset_breaks_open_connections_but_keeps_accepting(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection(HOST, proxy.port)
    await rtt(reader, writer)
    proxy.reset()
    assert await broken(reader)
    writer.close()
    assert await roundtrip(proxy.port, b"still up") == b"still up"
    assert proxy.stats.accepted == 2


async def test_stop_closes_open_connections(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection(HOST, proxy.port)
    await rtt(reader, writer)
    await proxy.stop()
    assert await broken(reader)
    writer.close()
    assert await refused(proxy.port)
    await proxy.stop()  # idempotent


async def test_delay_adds_latency_and_keeps_order(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection(HOST, proxy.port)
    try:
        assert await rtt(reader, writer) < 0.4
        proxy.delay(0.25)
        assert 0.45 <= await rtt(reader, writer) < 5  # 0.25 s each way
        writer.write(b"first")
        await writer.drain()
        await asyncio.sleep(0.05)
        proxy.delay(0)  # later chunks are due earlier but must not overtake
        writer.write(b"second")
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(11), 5) == b"firstsecond"
    finally:
        writer.close()
    with pytest.raises(ValueError):
        proxy.delay(-1)


async def test_throttle_64_kbit(proxy: FaultProxy) -> None:
    payload = os.urandom(32 * 1024)
    start = time.monotonic()
    assert await roundtrip(proxy.port, payload) == payload
    unthrottled = time.monotonic() - start

    proxy.throttle(64_000)
    assert proxy.stats.throttle_bps == 64_000
    start = time.monotonic()
    assert await roundtrip(proxy.port, payload) == payload
    throttled = time.monotonic() - start
    # 32 KiB at 8000 B/s is about 4 s; both directions are paced in parallel.
    assert unthrottled < 1.0
    assert 3.0 <= throttled < 20

    proxy.throttle(None)
    start = time.monotonic()
    assert await roundtrip(proxy.port, payload) == payload
    assert time.monotonic() - start < 1.0


async def test_throttle_off_releases_a_paced_transfer(proxy: FaultProxy) -> None:
    proxy.throttle(8_000)  # 1000 B/s: 256 KiB would take minutes
    payload = os.urandom(256 * 1024)
    transfer = asyncio.create_task(roundtrip(proxy.port, payload))
    await asyncio.sleep(0.5)
    assert not transfer.done()
    proxy.throttle(None)
    assert await asyncio.wait_for(transfer, 10) == payload


def test_token_bucket_validation() -> None:
    bucket = TokenBucket(64_000)
    assert bucket.bits_per_second == 64_000
    assert bucket.chunk_size() == 400
    bucket.set_rate(None)
    assert bucket.bits_per_second is None
    with pytest.raises(ValueError):
        bucket.set_rate(0)


async def test_unreachable_target_closes_client() -> None:
    with socket.socket() as s:
        s.bind((HOST, 0))
        dead_port = s.getsockname()[1]
    async with FaultProxy(HOST, 0, HOST, dead_port) as p:
        assert await refused(p.port)
        assert p.stats.upstream_failed == 1
        assert p.stats.active == 0


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_mutual_tls_passes_through(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=cert)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=cert)
    client_ctx.load_cert_chain(cert, key)

    echo = EchoServer()
    target = await echo.start(server_ctx)
    try:
        async with FaultProxy(HOST, 0, HOST, target) as p:
            reader, writer = await asyncio.open_connection(
                HOST, p.port, ssl=client_ctx, server_hostname="localhost"
            )
            payload = os.urandom(100_000)
            writer.write(payload)
            await writer.drain()
            assert await asyncio.wait_for(reader.readexactly(len(payload)), 10) == payload
            writer.close()
            assert p.stats.bytes_up > len(payload)  # TLS framing went through untouched
    finally:
        await echo.close()


async def test_process_mode_via_client(echo_port: int) -> None:
    proc = FaultProxyProcess(HOST, echo_port)
    client = await asyncio.to_thread(proc.start)
    port = proc.listen_port
    try:
        assert await roundtrip(port, b"hello") == b"hello"

        reader, writer = await asyncio.open_connection(HOST, port)
        await rtt(reader, writer)
        await asyncio.to_thread(client.cut)
        assert await broken(reader)
        writer.close()
        assert await refused(port)
        await asyncio.to_thread(client.heal)
        assert await roundtrip(port, b"healed") == b"healed"

        await asyncio.to_thread(client.delay, 0.2)
        reader, writer = await asyncio.open_connection(HOST, port)
        assert await rtt(reader, writer) >= 0.35
        await asyncio.to_thread(client.delay, 0)
        await asyncio.to_thread(client.reset)
        assert await broken(reader)
        writer.close()

        await asyncio.to_thread(client.throttle, 64_000)
        stats = await asyncio.to_thread(lambda: client.stats)
        assert stats.throttle_bps == 64_000 and not stats.cut
        assert stats.bytes_up >= 11 + 5 and stats.refused >= 1
        await asyncio.to_thread(client.throttle, None)
        assert (await asyncio.to_thread(lambda: client.stats)).throttle_bps is None

        for bad in ("bogus", "delay -1", "throttle 0", "delay x"):
            with pytest.raises(FaultProxyError):
                await asyncio.to_thread(client.command, bad)
    finally:
        code = await asyncio.to_thread(proc.stop)
    assert code == 0


def test_cli_refuses_non_loopback_control() -> None:
    with pytest.raises(SystemExit):
        main(["--target", "127.0.0.1:9", "--control", "192.0.2.1:0"])
