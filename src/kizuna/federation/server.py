"""The federation listener: HTTP/1.1 over mutual TLS, peers identified by pinned certificate.

It knows no route: each request goes to the handler with the fingerprint of the
client's certificate, which uvicorn cannot give an application (see :mod:`https`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import h11
import structlog

from kizuna.federation.tls import der_fingerprint

log = structlog.get_logger("kizuna.federation")

MAX_BODY = 16 * 1024 * 1024

CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("federation_client", default="")
"""The address of the client whose request the handler is answering."""

Handler = Callable[
    [str, str, dict[str, str], dict[str, str], bytes, str], Awaitable[tuple[int, bytes, str]]
]
"""(method, path, query, headers, body, peer fingerprint) -> (status, body, content type)."""


class FederationServer:
    def __init__(
        self,
        host: str,
        port: int,
        ctx: ssl.SSLContext,
        handler: Handler,
        on_refused: Callable[[str], None],
    ) -> None:
        self.host, self.port, self.ctx = host, port, ctx
        self.handler = handler
        self.on_refused = on_refused
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # TLS is started per connection, with reading paused until the handshake, so that
        # no byte of the ClientHello is lost and a refused handshake is ours to log.
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Accept(self), self.host, self.port)

    def _accepted(self, transport: asyncio.Transport) -> None:
        task = asyncio.get_running_loop().create_task(self._upgrade(transport))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _upgrade(self, transport: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        peer = transport.get_extra_info("peername")
        CLIENT.set(str(peer[0]) if isinstance(peer, tuple) and peer else "")  # this task only
        reader = asyncio.StreamReader(limit=65536)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            tls = await loop.start_tls(
                transport, protocol, self.ctx, server_side=True, ssl_handshake_timeout=10
            )
        except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
            self.on_refused(f"tls handshake from {peer}: {getattr(exc, 'reason', None) or exc}")
            transport.abort()
            return
        if tls is None:
            transport.abort()
            return
        protocol.connection_made(tls)
        writer = asyncio.StreamWriter(tls, protocol, reader, loop)
        await self._serve(reader, writer)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_obj = writer.get_extra_info("ssl_object")
        der = ssl_obj.getpeercert(binary_form=True) if ssl_obj else None
        fingerprint = der_fingerprint(der) if der else ""
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    break
                target = urlsplit(request.target.decode("ascii", "replace"))
                query = {k: v[0] for k, v in parse_qs(target.query).items()}
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
                try:
                    status, out, ctype = await self.handler(
                        request.method.decode(), target.path, query, headers, body, fingerprint
                    )
                except Exception:  # never let one bad batch take the listener down
                    log.exception("federation handler failed")
                    status, out, ctype = 500, b'{"detail":"internal error"}', "application/json"
                await self._respond(conn, writer, status, out, ctype)
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("federation connection closed", reason=str(exc)[:200])
        except ssl.SSLError as exc:
            self.on_refused(f"tls: {exc.reason}")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)  # TLS close_notify may never come

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request: h11.Request | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and conn.their_state is h11.IDLE:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise h11.RemoteProtocolError("body too large")
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return request, b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                return None, b""

    async def _respond(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        ctype: str,
    ) -> None:
        headers = [("content-type", ctype), ("content-length", str(len(body)))]
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
        writer.write(conn.send(h11.Data(data=body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()


class _Accept(asyncio.Protocol):
    """Holds a fresh connection with reading paused until TLS takes it over."""

    def __init__(self, server: FederationServer) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        self.server._accepted(transport)


def problem(status: int, detail: str) -> tuple[int, bytes, str]:
    body = {"type": "about:blank", "title": "Federation error", "status": status, "detail": detail}
    return status, json.dumps(body).encode(), "application/problem+json"
