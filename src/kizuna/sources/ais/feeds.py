"""AIS feeds: a file, a TCP server we connect to, a UDP listener, a TCP listener.

All of them feed raw lines to an :class:`AisIngestor` and flush it after each
chunk of received data, so a quiet feed still delivers promptly and a busy
one delivers in batches. None of them raises on bad input.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import structlog

from kizuna.sources.ais.ingest import AisIngestor, IngestStats
from kizuna.sources.ais.nmea import MAX_LINE

log = structlog.get_logger("kizuna.sources.ais.feeds")

_CHUNK = 65536  # bytes per socket read
_FILE_LINES = 4096  # lines per feed_lines call when reading a file
_UDP_BURST = 512  # datagrams read per wake-up of the UDP listener
_UDP_MAX = 65535  # bytes: the largest UDP payload
_UDP_FLUSH = 0.1  # seconds: the longest a received line waits for the picture


def read_file(
    path: str | Path,
    ingestor: AisIngestor,
    progress: Callable[[int], None] | None = None,
    *,
    received_at: float | None = None,
    every: int = 10_000,
) -> IngestStats:
    """Ingest an NMEA log file; ``#`` comment lines and blank lines are skipped.

    Lines without a tag-block or receiver timestamp are observed at
    ``received_at`` (default: now). ``progress(lines_read)`` is called every
    ``every`` lines. Closes the ingestor (so the stats balance) and returns them.
    """
    when = time.time() if received_at is None else received_at
    feed = ingestor.feed_lines
    n = 0
    with open(path, "rb") as fh:
        while True:
            # a chunk of lines per call, cut at the next progress report
            size = _FILE_LINES if progress is None else min(_FILE_LINES, every - n % every)
            chunk = list(islice(fh, size))
            if not chunk:
                break
            n += len(chunk)
            feed([raw for raw in chunk if raw[:1] != b"#"], when)
            if progress is not None and n % every == 0:
                progress(n)
    ingestor.close()
    if progress is not None:
        progress(n)
    return ingestor.stats


class _LineSplitter:
    """Bytes chunks → complete lines; an over-long partial line is fed as is
    (the ingestor rejects it) rather than buffered without bound."""

    def __init__(self, ingestor: AisIngestor, connection: str) -> None:
        self.ingestor = ingestor
        self.connection = connection
        self.rest = b""

    def feed(self, data: bytes, *, final: bool = False) -> None:
        buf = self.rest + data if self.rest else data
        lines = buf.split(b"\n")
        self.rest = b"" if final else lines.pop()
        if len(self.rest) > MAX_LINE:
            lines.append(self.rest)
            self.rest = b""
        self.ingestor.feed_lines(lines, time.time(), self.connection)
        self.ingestor.flush()


async def _pump(reader: asyncio.StreamReader, splitter: _LineSplitter) -> None:
    while True:
        data = await reader.read(_CHUNK)
        if not data:
            break
        splitter.feed(data)
    splitter.feed(b"", final=True)


async def serve_tcp_client(
    host: str, port: int, ingestor: AisIngestor, *, name: str | None = None
) -> IngestStats:
    """Connect to an NMEA TCP feed (e.g. an AIS receiver or aggregator) and
    ingest until it closes the connection. Returns the ingestor's stats.
    Connection errors propagate (the caller decides about reconnecting)."""
    conn = name or f"tcp:{host}:{port}"
    reader, writer = await asyncio.open_connection(host, port)
    log.info("ais_feed_connected", connection=conn)
    try:
        await _pump(reader, _LineSplitter(ingestor, conn))
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        ingestor.flush()
        log.info("ais_feed_closed", connection=conn, **ingestor.stats.as_dict())
    return ingestor.stats


class _UdpReader:
    """Drains the listener's socket on each readiness event: up to ``_UDP_BURST`` datagrams
    per wake-up, fed to the ingestor as one batch per sender, and one flush at most every
    ``_UDP_FLUSH`` seconds (the ingestor hands a batch on by itself at its batch size).

    asyncio's datagram transport reads one datagram per wake-up and a datagram often
    carries one sentence, so at 20,000 sentences/s the loop's per-datagram overhead
    (a poll, a callback, a flush to the picture) is most of the node's work."""

    def __init__(self, sock: socket.socket, ingestor: AisIngestor, name: str) -> None:
        self.sock = sock
        self.ingestor = ingestor
        self.name = name
        self.loop = asyncio.get_running_loop()
        self._flush_at: asyncio.TimerHandle | None = None
        self.datagrams = 0

    def ready(self) -> None:
        recv = self.sock.recvfrom
        by_host: dict[str, list[bytes]] = {}
        for _ in range(_UDP_BURST):
            try:
                data, addr = recv(_UDP_MAX)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:  # e.g. ICMP errors surfaced on the socket
                log.warning("ais_udp_error", connection=self.name, error=str(exc))
                break
            # A datagram carries whole sentences; never keep a tail across datagrams.
            by_host.setdefault(str(addr[0]), []).extend(data.split(b"\n"))
            self.datagrams += 1
        when = time.time()
        for host, lines in by_host.items():
            self.ingestor.feed_lines(lines, when, f"{self.name}:{host}")
        if by_host and self._flush_at is None:
            self._flush_at = self.loop.call_later(_UDP_FLUSH, self._flush)

    def _flush(self) -> None:
        self._flush_at = None
        self.ingestor.flush()

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        self.sock.close()
        self.ingestor.flush()


def _udp_socket(host: str, port: int, rcvbuf: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        if rcvbuf:
            # SO_RCVBUFFORCE passes net.core.rmem_max where the node may (CAP_NET_ADMIN)
            force = getattr(socket, "SO_RCVBUFFORCE", None)
            try:
                if force is None:
                    raise PermissionError
                sock.setsockopt(socket.SOL_SOCKET, force, rcvbuf)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class FeedServer:
    """A listening feed. ``port`` is the bound port (useful with port 0)."""

    def __init__(self, name: str, port: int, closer: Callable[[], None]) -> None:
        self.name = name
        self.port = port
        self._closer = closer
        self._closed = asyncio.Event()

    def close(self) -> None:
        if not self._closed.is_set():
            self._closer()
            self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def __aenter__(self) -> FeedServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def serve_udp(
    host: str,
    port: int,
    ingestor: AisIngestor,
    *,
    name: str | None = None,
    rcvbuf: int = 4 << 20,
) -> FeedServer:
    """Listen for NMEA over UDP (one or more sentences per datagram). ``rcvbuf`` asks for a
    socket receive buffer that rides out short stalls of the event loop (0: the kernel's)."""
    loop = asyncio.get_running_loop()
    conn = name or "udp"
    sock = _udp_socket(host, port, rcvbuf)
    reader = _UdpReader(sock, ingestor, conn)
    loop.add_reader(sock.fileno(), reader.ready)
    bound = sock.getsockname()[1]
    log.info(
        "ais_udp_listening",
        connection=conn,
        host=host,
        port=bound,
        rcvbuf=sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
    )
    return FeedServer(conn, bound, reader.close)


async def serve_tcp(
    host: str, port: int, ingestor: AisIngestor, *, name: str | None = None
) -> FeedServer:
    """Listen for feeds that push NMEA over TCP; each client is its own
    connection for reassembly and provenance."""
    conn = name or "tcp-listen"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = f"{conn}:{peer[0]}:{peer[1]}" if peer else conn
        try:
            await _pump(reader, _LineSplitter(ingestor, client))
        except (ConnectionError, OSError) as exc:
            log.info("ais_feed_client_error", connection=client, error=str(exc))
        finally:
            writer.close()
            ingestor.flush()

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    log.info("ais_tcp_listening", connection=conn, host=host, port=bound)

    def closer() -> None:
        server.close()
        ingestor.flush()

    return FeedServer(conn, bound, closer)
