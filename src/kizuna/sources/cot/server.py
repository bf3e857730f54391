"""CoT server for TAK clients: TCP (8087) and mutual-TLS (8089) streaming.

Each connection has a :class:`Principal`: from its client certificate on TLS
(issued by the node's CA, read with the node's groups), else the configured
default. Incoming events are labelled (from ``access``/``caveat``/``releaseableTo``
or the connection's default) as originated by the host node's ``nation`` and
pass the node's one ingress rule (``kernel/ingress.py``, ADR 0006): a client is a
writer, never the originator, and may write only labels releasable to itself
and not above its clearance. Accepted atoms become :class:`Track` objects handed
to ``on_tracks``, and every accepted event is relayed to each *other* client
that ``may_release`` allows. Every reject is counted (``stats()`` and the
``on_reject(reason)`` hook, which the plugin points at the node's metrics); a
refused label is also handed to ``on_refused`` (the plugin audits it).

Sending never blocks the server: writes made in one loop iteration are
batched; once a client's socket buffer is full its further events wait in a
bounded queue keyed by uid (a newer event replaces an older one with the same
uid; when the queue is full the oldest is dropped). An event is accepted only if it
can be relayed on both wires (XML and TAK protobuf); one published that a wire cannot
carry is counted ``unsendable`` for those clients, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import structlog

from kizuna.core.labels import DEFAULT_GROUPS, Classification, GroupRegistry, Label, LabelError
from kizuna.core.release import Principal, may_release
from kizuna.kernel.ingress import IngressRefused, Refusal, rule
from kizuna.kernel.pki import identity_from_peercert
from kizuna.picture.models import Track
from kizuna.sources.cot import proto
from kizuna.sources.cot.codec import (
    MAX_EVENT_BYTES,
    CotError,
    CotEvent,
    event_from_track,
    label_from_event,
    parse_xml,
    to_xml,
    track_from_event,
)
from kizuna.sources.cot.framing import Frame, FrameSplitter

log = structlog.get_logger(__name__)

PING = "t-x-c-t"
PONG = "t-x-c-t-r"
_HIGH_WATER = 256 * 1024  # bytes in a client's socket buffer before it counts as slow


class _Out:
    """One outgoing event, encoded at most once per encoding."""

    __slots__ = ("_encoded", "event")

    def __init__(self, event: CotEvent) -> None:
        self.event = event
        self._encoded: dict[bool, bytes | CotError] = {}

    def data(self, use_proto: bool) -> bytes | CotError:
        """The event on one wire, or why that wire cannot carry it (logged once)."""
        got = self._encoded.get(use_proto)
        if got is None:
            try:
                got = proto.encode_stream(self.event) if use_proto else to_xml(self.event)
            except CotError as exc:
                got = exc
                log.warning("cot.unsendable", uid=self.event.uid, proto=use_proto, error=str(exc))
            self._encoded[use_proto] = got
        return got


class _Client:
    def __init__(
        self,
        server: CotServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        principal: Principal,
        default_label: Label,
        name: str,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self.principal = principal
        self.default_label = default_label
        self.name = name
        self.use_proto = False
        self.closing = False
        self.errors_in_a_row = 0
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._scheduled = False
        self._slow = False
        self._pending: OrderedDict[str, bytes] = OrderedDict()
        self._drainer: asyncio.Task[None] | None = None
        self.transport.set_write_buffer_limits(high=_HIGH_WATER, low=_HIGH_WATER // 4)

    def offer(self, key: str, out: _Out) -> bool:
        """Queue one event for this client without ever blocking; False if not queued."""
        if self.closing:
            return False
        data = out.data(self.use_proto)
        if isinstance(data, CotError):
            self.server.counters["unsendable"] += 1
            return False
        if self._slow:
            self._enqueue(key, data)
            return True
        self._batch.append(data)
        self._batch_bytes += len(data)
        if self._batch_bytes > _HIGH_WATER:
            self._flush()  # a burst within one loop iteration: push it now
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        return True

    def _enqueue(self, key: str, data: bytes) -> None:
        stats = self.server.counters
        if key in self._pending:
            del self._pending[key]
            stats["coalesced"] += 1
        elif len(self._pending) >= self.server.queue_limit:
            self._pending.popitem(last=False)
            stats["dropped"] += 1
        self._pending[key] = data

    @property
    def queued(self) -> int:
        return len(self._pending)

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._batch = self._batch, []
        self._batch_bytes = 0
        if self.closing or not batch:
            return
        self.transport.writelines(batch)
        self.server.counters["sent"] += len(batch)
        if self.transport.get_write_buffer_size() > _HIGH_WATER and not self._slow:
            self._slow = True
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while not self.closing:
                await self.writer.drain()
                if not self._pending:
                    break
                while self._pending and self.transport.get_write_buffer_size() <= _HIGH_WATER:
                    _, data = self._pending.popitem(last=False)
                    self.transport.write(data)
                    self.server.counters["sent"] += 1
        except (ConnectionError, OSError):
            self.closing = True
        finally:
            self._slow = False

    def close(self) -> None:
        self.closing = True
        self._pending.clear()
        if self._drainer is not None:
            self._drainer.cancel()
        self.writer.close()


class CotServer:
    """CoT streaming server. Use ``async with CotServer(...) as srv:`` or start/stop."""

    def __init__(
        self,
        *,
        on_tracks: Callable[[list[Track]], None] | None = None,
        default_principal: Principal | None = None,
        nation: str | None = None,
        groups: GroupRegistry = DEFAULT_GROUPS,
        on_reject: Callable[[str], None] | None = None,
        on_refused: Callable[[str, Label, Refusal], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        tcp_port: int | None = 8087,
        tls_port: int | None = 8089,
        default_classification: Classification = Classification.UNCLASSIFIED,
        default_rel_to: tuple[str, ...] = (),
        queue_limit: int = 1000,
        max_errors_in_a_row: int = 5,
        max_event_bytes: int = MAX_EVENT_BYTES,
        announce_protocol: bool = True,
    ) -> None:
        if tls_port is not None and ssl_context is None:
            raise ValueError("a TLS port needs an ssl_context (see certs.server_ssl_context)")
        self.on_tracks = on_tracks
        self.on_reject = on_reject
        self.on_refused = on_refused
        # The host node's nation originates whatever clients write (default: the nation of
        # the plain-TCP default principal, USA when neither is given).
        node_nation = nation or (default_principal.nation if default_principal else "USA")
        self.ingress = rule(node_nation, groups)
        self.default_principal = default_principal or self.ingress.principal(
            node_nation, Classification.UNCLASSIFIED, name="tcp-default"
        )
        self.ssl_context = ssl_context
        self.host = host
        self.tcp_port = tcp_port
        self.tls_port = tls_port
        self.default_classification = default_classification
        self.default_rel_to = default_rel_to
        self.queue_limit = queue_limit
        self.max_errors_in_a_row = max_errors_in_a_row
        self.max_event_bytes = max_event_bytes
        self.announce_protocol = announce_protocol
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "connections",
                "received",
                "sent",
                "relayed",
                "withheld",
                "unsendable",
                "dropped",
                "coalesced",
                "tracks",
                "pings",
                "negotiated",
                "published",
                "closed_for_errors",
                "sink_errors",
                "rejected",
            ),
            0,
        )
        self.rejected: dict[str, int] = {}
        self.buffer_peak = 0
        self._clients: set[_Client] = set()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.tcp_address: tuple[str, int] | None = None
        self.tls_address: tuple[str, int] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self.tcp_port is not None:
            srv = await asyncio.start_server(self._on_tcp, self.host, self.tcp_port)
            self._servers.append(srv)
            self.tcp_address = srv.sockets[0].getsockname()[:2]
        if self.tls_port is not None:
            srv = await asyncio.start_server(
                self._on_tls,
                self.host,
                self.tls_port,
                ssl=self.ssl_context,
                ssl_handshake_timeout=10.0,
            )
            self._servers.append(srv)
            self.tls_address = srv.sockets[0].getsockname()[:2]
        log.info("cot.listening", tcp=self.tcp_address, tls=self.tls_address)

    async def stop(self) -> None:
        for srv in self._servers:
            srv.close()
        for client in list(self._clients):
            client.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for srv in self._servers:
            with contextlib.suppress(Exception):
                await srv.wait_closed()
        self._servers.clear()

    async def __aenter__(self) -> CotServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ public

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def stats(self) -> dict[str, Any]:
        """Counters: received, sent, dropped, … and ``rejected_<reason>``."""
        out: dict[str, Any] = dict(self.counters)
        out["clients"] = len(self._clients)
        out["buffer_peak"] = self.buffer_peak
        out["queued"] = sum(c.queued for c in self._clients)
        for reason, n in self.rejected.items():
            out[f"rejected_{reason}"] = n
        return out

    def publish(self, item: Track | CotEvent) -> int:
        """Send a track (AIS, federation, …) or a labelled event to every client allowed.

        Call from the server's event loop. Returns how many clients it was queued for.
        """
        ev = event_from_track(item) if isinstance(item, Track) else item
        if ev.label is None:
            raise ValueError("publish() needs a labelled event")
        self.counters["published"] += 1
        return self._fan_out(ev, sender=None)

    def principals(self) -> set[Principal]:
        """The principals of the connected clients."""
        return {c.principal for c in self._clients if not c.closing}

    def send_to(self, principal: Principal, events: list[CotEvent]) -> int:
        """Offer labelled events to every client of ``principal`` (markers and shapes built
        for it), each re-checked with ``may_release``. Call from the server's loop."""
        n = 0
        for client in list(self._clients):
            if client.closing or client.principal != principal:
                continue
            for ev in events:
                if ev.label is None or not may_release(ev.label, client.principal):
                    self.counters["withheld"] += 1
                    continue
                n += client.offer(ev.uid, _Out(ev))
        self.counters["shapes"] = self.counters.get("shapes", 0) + n
        return n

    # ------------------------------------------------------------------ connections

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve(reader, writer, self.default_principal)

    async def _on_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peercert = writer.get_extra_info("peercert")
        try:
            ident = identity_from_peercert(peercert or {})
            if not ident.nation:
                raise LabelError("certificate carries no NATION")
            principal = self.ingress.principal(  # groups as this node defines them
                ident.nation,
                Classification.parse(ident.clearance),
                ident.groups,
                name=ident.common_name,
            )
        except (LabelError, AssertionError) as exc:
            self._reject("auth", f"client certificate refused: {exc}", None)
            writer.close()
            return
        await self._serve(reader, writer, principal)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, principal: Principal
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        peer = writer.get_extra_info("peername")
        name = f"{principal.name or 'anon'}@{peer[0]}:{peer[1]}" if peer else principal.name
        ingress = self.ingress
        try:
            default_label = ingress.check(
                ingress.label(
                    min(self.default_classification, principal.clearance),
                    rel_to=self.default_rel_to,
                ),
                principal,
            )
        except (LabelError, IngressRefused):
            default_label = ingress.label(Classification.UNCLASSIFIED)
        client = _Client(self, reader, writer, principal, default_label, name)
        self._clients.add(client)
        self.counters["connections"] += 1
        log.info("cot.connected", client=name, nation=principal.nation)
        if self.announce_protocol:
            client.offer("\x00takp-v", _Out(proto.support_event()))
        splitter = FrameSplitter(self.max_event_bytes)
        try:
            while not client.closing:
                data = await reader.read(65536)
                if not data:
                    break
                items = splitter.feed(data)
                self.buffer_peak = max(self.buffer_peak, splitter.peak)
                tracks: list[Track] = []
                for item in items:
                    if isinstance(item, CotError):
                        self._reject(item.reason, str(item), client)
                    else:
                        self._handle(client, item, tracks)
                    if client.errors_in_a_row >= self.max_errors_in_a_row:
                        self.counters["closed_for_errors"] += 1
                        log.warning("cot.closing", client=name, reason="repeated bad input")
                        client.closing = True
                        break
                if tracks and self.on_tracks is not None:
                    try:
                        self.on_tracks(tracks)
                    except Exception:
                        self.counters["sink_errors"] += 1
                        log.exception("cot.sink_failed", client=name)
        except (ConnectionError, OSError, ssl.SSLError) as exc:
            log.info("cot.connection_error", client=name, error=str(exc))
        except asyncio.CancelledError:
            pass
        finally:
            self._clients.discard(client)
            client.close()
            self._tasks.discard(task)  # type: ignore[arg-type]
            log.info("cot.disconnected", client=name)

    # ------------------------------------------------------------------ events

    def _reject(self, reason: str, message: str, client: _Client | None) -> None:
        self.counters["rejected"] += 1
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        if client is not None:
            client.errors_in_a_row += 1
        log.warning(
            "cot.rejected", reason=reason, error=message[:200], client=client and client.name
        )
        if self.on_reject is not None:
            try:
                self.on_reject(reason)
            except Exception:
                log.exception("cot.on_reject_failed", reason=reason)

    def _handle(self, client: _Client, frame: Frame, tracks: list[Track]) -> None:
        try:
            ev = parse_xml(frame.data) if frame.kind == "xml" else proto.decode_message(frame.data)
            if ev.type.startswith("t-x-"):
                self.counters["received"] += 1
                client.errors_in_a_row = 0
                self._control(client, ev)
                return
            proto.wire_times(ev)  # what is accepted must relay on both wires
            ingress = self.ingress
            ev.label = label_from_event(
                ev, client.default_label, ingress.originator, ingress.groups
            )
        except CotError as exc:
            self._reject(exc.reason, str(exc), client)
            return
        refusal = ingress.refusal(ev.label, client.principal)
        if refusal is not None:
            self._reject("not_permitted", refusal.message, client)
            if self.on_refused is not None:
                try:
                    self.on_refused(client.name, ev.label, refusal)
                except Exception:
                    log.exception("cot.on_refused_failed", client=client.name)
            return
        client.errors_in_a_row = 0
        self.counters["received"] += 1
        self._fan_out(ev, sender=client)
        if ev.is_atom:
            tracks.append(track_from_event(ev, connection=client.name))
            self.counters["tracks"] += 1

    def _control(self, client: _Client, ev: CotEvent) -> None:
        if ev.type == PING:
            self.counters["pings"] += 1
            now = time.time()
            pong = CotEvent(
                uid="takPong", type=PONG, time=now, start=now, stale=now + 20.0, how="h-g-i-g-o"
            )
            client.offer("\x00pong", _Out(pong))
        elif ev.type == "t-x-takp-q":
            ok = proto.requested_version(ev) == proto.PROTO_VERSION
            client.offer("\x00takp-r", _Out(proto.response_event(ok)))
            if ok:
                client.use_proto = True
                self.counters["negotiated"] += 1
                log.info("cot.protobuf", client=client.name)
        # other t-x-* (takp-v/r from odd clients, keep-alives) are neither relayed nor tracks

    def _fan_out(self, ev: CotEvent, sender: _Client | None) -> int:
        label = ev.label
        assert label is not None
        out = _Out(ev)
        n = 0
        for client in self._clients:
            if client is sender or client.closing:
                continue
            if not may_release(label, client.principal):
                self.counters["withheld"] += 1
                continue
            n += client.offer(ev.uid, out)
        self.counters["relayed"] += n
        return n
