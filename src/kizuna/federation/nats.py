"""The NATS JetStream federation transport (``kizuna.transports`` entry point ``nats``).

A peer with ``transport = "nats"`` and ``url = "nats://host:4222?prefix=kizuna"`` is reached
through the NATS server at that URL: the one this node uses for the link, normally its own
nation's (ADR 0010). Subjects, streams and signatures are in :mod:`nats_wire`.

Sending (:class:`NatsConnection`): one batch at a time, never reordered. The batch is
published, signed, into the JetStream stream of what the peer receives from us, with
``Nats-Msg-Id`` = ``<stream>:<dedup id>`` so a resend inside the de-duplication window is
stored once. ``send`` returns only when the peer's signed acknowledgement for that message
id arrives on our acknowledgement stream; only then does the link move the outbox cursor.
A resend JetStream reports as a duplicate is answered from the acknowledgement stream if the
peer already gave one.

Receiving (:class:`PeerServer`): per peer, a durable pull consumer on the stream of what it
sends us. Each message's signature is checked against the peer's pinned certificate (one
that fails is refused, counted through ``Inbound.refused`` and terminated); the batch goes to
``Inbound.receive`` (the federation rules judge it); the signed Ack is published; then the
message is acknowledged to JetStream. A crash in between redelivers it; apply is idempotent.
``digest`` and a stream's answer are core NATS request/reply, signed both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors
import structlog
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from kizuna.core.errors import NotFound
from kizuna.federation.nats_wire import (
    AckMessage,
    Names,
    NatsSettings,
    Refused,
    batch_headers,
    check_ack,
    check_answer,
    check_batch,
    check_question,
    encode_ack,
    encode_answer,
    encode_question,
    parse_url,
)
from kizuna.federation.peers import FederatedNode
from kizuna.kernel import pki
from kizuna.kernel.config import NodeDir
from kizuna.kernel.streams import Ack, Inbound, PeerEndpoint, TransportError
from kizuna.kernel.tasks import cancel_all

log = structlog.get_logger("kizuna.federation")

CONNECT_TIMEOUT = 5.0  # seconds to reach the NATS server before a send fails
PUBLISH_TIMEOUT = 10.0  # JetStream's own acknowledgement of a stored message
RPC_TIMEOUT = 10.0
PING_INTERVAL = 20  # seconds; a silently dead connection is noticed after three
FETCH_BATCH, FETCH_WAIT = 1, 5.0  # one at a time (max_ack_pending = 1)
RETRY_MIN, RETRY_MAX = 0.5, 10.0
DEDUP_WINDOW = 120.0  # JetStream de-duplication window of a batch stream
BATCH_KEEP = 24 * 3600.0  # a batch never consumed is dropped after this (the outbox keeps it)
BATCH_BYTES = 256 * 1024 * 1024  # per batch stream; oldest dropped first (the outbox keeps them)
ACK_KEEP = 3600.0  # acknowledgements kept for resends (longer than DEDUP_WINDOW)
ACK_WAIT = 30.0  # JetStream redelivers a batch not acknowledged after this
STREAM_EXISTS = 10058  # "stream name already in use with a different configuration"
NATS_ERRORS = (nats.errors.Error, OSError, TimeoutError)


def batch_stream_config(names: Names) -> api.StreamConfig:
    return api.StreamConfig(
        name=names.inbound_stream,
        description=f"Kizuna batches to {names.me} from {names.peer}",
        subjects=[names.batches_from_peer],
        retention=api.RetentionPolicy.WORK_QUEUE,  # gone from the server once applied
        storage=api.StorageType.FILE,
        duplicate_window=DEDUP_WINDOW,
        max_age=BATCH_KEEP,
        max_bytes=BATCH_BYTES,
        discard=api.DiscardPolicy.OLD,
    )


def ack_stream_config(names: Names) -> api.StreamConfig:
    return api.StreamConfig(
        name=names.ack_stream,
        description=f"Kizuna acknowledgements to {names.me} from {names.peer}",
        subjects=[names.acks_from_peer],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        max_msgs_per_subject=1,
        max_age=ACK_KEEP,
        discard=api.DiscardPolicy.OLD,
    )


async def ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    """Create the stream, or bring an existing one to ``config``."""
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code != STREAM_EXISTS:
            raise
        await js.update_stream(config)


async def open_client(settings: NatsSettings, node_dir: NodeDir, name: str) -> NATS:
    """A client of the link's NATS server that reconnects by itself once connected; raises
    (a NATS error, OSError or TimeoutError) if the server cannot be reached now."""
    nc = NATS()
    servers = ", ".join(settings.servers)

    async def on_error(exc: Exception) -> None:
        log.debug("nats error", servers=servers, error=str(exc) or type(exc).__name__)

    async def on_disconnect() -> None:
        if nc.is_closed:
            return  # closed by us
        log.warning("nats disconnected", servers=servers, client=name)

    async def on_reconnect() -> None:
        log.info("nats reconnected", servers=servers, client=name)

    options: dict[str, Any] = {}
    if settings.creds:
        options["user_credentials"] = str(node_dir.root / settings.creds)
    if settings.tls:
        options["tls"] = ssl.create_default_context(
            cafile=str(node_dir.root / settings.ca) if settings.ca else None
        )
    try:
        await asyncio.wait_for(
            nc.connect(
                servers=settings.servers,
                name=name,
                connect_timeout=int(CONNECT_TIMEOUT),
                reconnect_time_wait=1,
                max_reconnect_attempts=-1,  # once up, ride out outages
                ping_interval=PING_INTERVAL,
                max_outstanding_pings=3,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
                **options,
            ),
            CONNECT_TIMEOUT,
        )
    except BaseException:
        await close_quietly(nc)
        raise
    return nc


async def close_quietly(nc: NATS) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.close(), 2.0)


def honour_cancel() -> None:
    """Re-raise a cancellation nats-py swallowed (a publish's flush catches CancelledError),
    so a link or consumer that was told to stop does stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class NatsConnection:
    """Batches to one peer, one at a time, each awaited until the peer acknowledges it."""

    def __init__(
        self, node_id: str, node_dir: NodeDir, key: ec.EllipticCurvePrivateKey, peer: PeerEndpoint
    ) -> None:
        self.peer = peer
        self.settings = parse_url(peer.url)
        self.names = Names(self.settings.prefix, node_id, peer.peer_id)
        self._node_dir = node_dir
        self._key = key
        self._cert: x509.Certificate = pki.load_cert(Path(peer.cert_path))
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._open_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future[AckMessage]] = {}

    async def _ready(self) -> tuple[NATS, JetStreamContext]:
        async with self._open_lock:
            if self._nc is not None and self._js is not None and not self._nc.is_closed:
                return self._nc, self._js
            nc: NATS | None = None
            try:
                nc = await open_client(
                    self.settings, self._node_dir, f"kizuna {self.names.me} to {self.peer.peer_id}"
                )
                js = nc.jetstream(timeout=PUBLISH_TIMEOUT)
                await ensure_stream(js, ack_stream_config(self.names))
                await nc.subscribe(self.names.acks_from_peer, cb=self._on_ack)
            except NATS_ERRORS as exc:
                if nc is not None:
                    await close_quietly(nc)
                raise TransportError(
                    f"NATS {', '.join(self.settings.servers)}: {_describe(exc)}"
                ) from exc
            self._nc, self._js = nc, js
            return nc, js

    def _connected(self, nc: NATS) -> None:
        """Fail now while the client reconnects: what it would buffer meanwhile (a stale batch)
        is sent when the server is back, ahead of what the link sends next."""
        if not nc.is_connected:
            raise TransportError(f"NATS {', '.join(self.settings.servers)}: not connected")

    async def _drop(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            await close_quietly(nc)

    async def _on_ack(self, msg: Msg) -> None:
        waiting = self._waiting.get(msg.subject)
        if waiting is None or waiting.done():
            return  # an acknowledgement of a send we gave up on: the stored copy answers
        ack = check_ack(self._cert, msg.subject, msg.headers, msg.data)
        if ack is None:
            log.warning("unsigned acknowledgement ignored", peer=self.peer.peer_id)
            return
        waiting.set_result(ack)

    async def _stored_ack(self, js: JetStreamContext, subject: str) -> AckMessage | None:
        """The peer's acknowledgement already on our acknowledgement stream, if any."""
        try:
            raw = await js.get_last_msg(self.names.ack_stream, subject)
        except nats.js.errors.NotFoundError:
            return None
        except NATS_ERRORS as exc:
            raise TransportError(f"reading acknowledgements: {_describe(exc)}") from exc
        return check_ack(self._cert, subject, raw.headers, raw.data or b"")

    async def send(self, stream: str, body: bytes, dedup_id: str) -> Ack:
        async with self._send_lock:  # one batch in flight: the link's order is kept
            nc, js = await self._ready()
            self._connected(nc)
            msg_id = f"{stream}:{dedup_id or secrets.token_hex(16)}"
            try:
                subject = self.names.batch_to_peer(stream)
            except ValueError as exc:
                raise TransportError(str(exc)) from exc
            if len(body) > nc.max_payload - 1024:
                raise TransportError(
                    f"batch of {len(body)} bytes exceeds the NATS server's max_payload"
                )
            ack_subject = self.names.ack_from_peer(stream, msg_id)
            waiting: asyncio.Future[AckMessage] = asyncio.get_running_loop().create_future()
            self._waiting[ack_subject] = waiting
            try:
                try:
                    stored = await js.publish(
                        subject,
                        body,
                        timeout=PUBLISH_TIMEOUT,
                        headers=batch_headers(self._key, subject, msg_id, body),
                    )
                except nats.js.errors.NoStreamResponseError as exc:
                    raise TransportError(
                        f"no stream on {', '.join(self.settings.servers)} takes {subject}: "
                        f"{self.peer.peer_id} has not opened its side of the link"
                    ) from exc
                except nats.js.errors.APIError as exc:
                    raise TransportError(f"JetStream refused the batch: {exc}") from exc
                except NATS_ERRORS as exc:
                    # The batch may sit in the client's buffer: drop the client with it, or it
                    # would reach the stream after the link returns, ahead of newer FLASH.
                    await self._drop()
                    raise TransportError(f"publish: {_describe(exc)}") from exc
                honour_cancel()
                if stored.duplicate and not waiting.done():
                    # Sent before, inside the window: the peer may have answered already.
                    earlier = await self._stored_ack(js, ack_subject)
                    if earlier is not None and not waiting.done():
                        waiting.set_result(earlier)
                limit = self.settings.ack_timeout
                try:
                    answer = await asyncio.wait_for(waiting, limit)
                except TimeoutError as exc:
                    raise TransportError(
                        f"no acknowledgement from {self.peer.peer_id} within {limit:g} s "
                        "(the batch waits in its stream)"
                    ) from exc
            finally:
                self._waiting.pop(ack_subject, None)
            if answer.error is not None:
                raise TransportError(f"{self.peer.peer_id} refused the batch: {answer.error}")
            return Ack(accepted=answer.accepted, applied=answer.applied, refused=answer.refused)

    async def ask(self, name: str) -> bytes:
        """A signed question to the peer (``digest``, or a stream's answer); its signed answer."""
        nc, _ = await self._ready()
        self._connected(nc)
        subject = self.names.rpc_to_peer(name)
        inbox = nc.new_inbox()
        nonce = secrets.token_hex(16)
        body, headers = encode_question(self._key, subject, inbox, nonce)
        try:
            sub = await nc.subscribe(inbox, max_msgs=1)
            try:
                await nc.publish(subject, body, reply=inbox, headers=headers)
                msg = await sub.next_msg(timeout=RPC_TIMEOUT)
            finally:
                with contextlib.suppress(*NATS_ERRORS):
                    await sub.unsubscribe()
        except NATS_ERRORS as exc:
            raise TransportError(f"{name} from {self.peer.peer_id}: {_describe(exc)}") from exc
        answer = check_answer(self._cert, subject, nonce, msg.headers, msg.data)
        if answer is None:
            raise TransportError(f"unsigned answer to {name} from {self.peer.peer_id}")
        status, data = answer
        if status != "ok":
            raise TransportError(f"{self.peer.peer_id} answered {name}: {data.decode()[:200]}")
        return data

    async def digest(self) -> dict[str, Any]:
        data = await self.ask("digest")
        try:
            return dict(json.loads(data))
        except (ValueError, TypeError) as exc:
            raise TransportError(f"bad digest from {self.peer.peer_id}: {exc}") from exc

    async def close(self) -> None:
        for waiting in self._waiting.values():
            waiting.cancel()
        await self._drop()


class PeerServer:
    """What one peer sends us: its batch stream's durable consumer, and its questions."""

    def __init__(
        self,
        node_id: str,
        node_dir: NodeDir,
        key: ec.EllipticCurvePrivateKey,
        peer: PeerEndpoint,
        inbound: Inbound,
    ) -> None:
        self.peer = peer
        self.inbound = inbound
        self.settings = parse_url(peer.url)
        self.names = Names(self.settings.prefix, node_id, peer.peer_id)
        self._node_dir = node_dir
        self._key = key
        self._cert: x509.Certificate = pki.load_cert(Path(peer.cert_path))

    async def run(self) -> None:
        """Consume until cancelled; reconnect with back-off whenever the server is lost."""
        delay = RETRY_MIN
        while True:
            nc: NATS | None = None
            try:
                nc = await open_client(
                    self.settings,
                    self._node_dir,
                    f"kizuna {self.names.me} from {self.peer.peer_id}",
                )
                js = nc.jetstream(timeout=PUBLISH_TIMEOUT)
                pull = await self._open(nc, js)
                log.info(
                    "nats federation listening",
                    peer=self.peer.peer_id,
                    servers=self.settings.servers,
                    subjects=self.names.batches_from_peer,
                )
                delay = RETRY_MIN
                await self._consume(nc, js, pull)
            except NATS_ERRORS as exc:
                honour_cancel()
                log.warning(
                    "nats inbound link down", peer=self.peer.peer_id, error=_describe(exc)[:200]
                )
            finally:
                if nc is not None:
                    await close_quietly(nc)
            honour_cancel()
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX, delay * 2)

    async def _open(self, nc: NATS, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        names = self.names
        await ensure_stream(js, batch_stream_config(names))
        try:
            await js.consumer_info(names.inbound_stream, names.durable)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(
                names.inbound_stream,
                api.ConsumerConfig(
                    durable_name=names.durable,
                    filter_subject=names.batches_from_peer,
                    deliver_policy=api.DeliverPolicy.ALL,
                    ack_policy=api.AckPolicy.EXPLICIT,
                    ack_wait=ACK_WAIT,
                    # One batch at a time even across the node's workers: stream order is
                    # the order batches are applied in.
                    max_ack_pending=1,
                ),
            )

        async def on_question(msg: Msg) -> None:
            try:
                await self._answer(nc, msg)
            except Exception:
                log.exception("nats question failed", peer=self.peer.peer_id)

        await nc.subscribe(names.rpcs_from_peer, queue=names.durable, cb=on_question)
        return await js.pull_subscribe_bind(durable=names.durable, stream=names.inbound_stream)

    async def _consume(
        self, nc: NATS, js: JetStreamContext, pull: JetStreamContext.PullSubscription
    ) -> None:
        while True:
            honour_cancel()
            if nc.is_closed:
                raise nats.errors.ConnectionClosedError
            try:
                msgs = await pull.fetch(FETCH_BATCH, timeout=FETCH_WAIT)
            except TimeoutError:
                continue  # nothing waiting (or the client is reconnecting)
            for msg in msgs:  # in stream order, one at a time
                honour_cancel()
                await self._handle(nc, js, msg)

    def _refuse(self, refusal: Refused, subject: str) -> None:
        self.inbound.refused(
            refusal.reason,
            peer=self.peer.peer_id,
            transport="nats",
            subject=subject,
            detail=str(refusal),
        )

    async def _handle(self, nc: NATS, js: JetStreamContext, msg: Msg) -> None:
        try:
            stream, dedup_id, msg_id = check_batch(
                self.names, self._cert, msg.subject, msg.headers, msg.data
            )
        except Refused as refusal:
            self._refuse(refusal, msg.subject)
            await msg.term()  # never redelivered; the real peer's resend is signed
            return
        try:
            ack = self.inbound.receive(self.peer.peer_id, stream, msg.data, dedup_id)
            answer = AckMessage(accepted=ack.accepted, applied=ack.applied, refused=ack.refused)
        except LookupError as exc:
            answer = AckMessage(error=str(exc) or f"no stream {stream!r}")
        except ValueError as exc:
            answer = AckMessage(error=str(exc)[:500])
        except Exception:
            log.exception("inbound batch failed", peer=self.peer.peer_id, stream=stream)
            await msg.nak(delay=RETRY_MAX)
            return
        subject = self.names.ack_to_peer(stream, msg_id)
        body, headers = encode_ack(self._key, subject, answer)
        try:
            await js.publish(subject, body, timeout=PUBLISH_TIMEOUT, headers=headers)
        except nats.js.errors.NoStreamResponseError:
            # The sender's ack stream is out of reach (a cut leaf connection): keep the batch
            # and answer when it returns, or the identical resend is swallowed as a duplicate.
            log.info("acknowledgement not deliverable yet", peer=self.peer.peer_id)
            await msg.nak(delay=RETRY_MAX)
            return
        except NATS_ERRORS as exc:
            # Not recorded: take the batch again later (applying it twice changes nothing).
            log.warning("acknowledgement not stored", peer=self.peer.peer_id, error=_describe(exc))
            await msg.nak(delay=1.0)
            return
        await msg.ack()

    async def _answer(self, nc: NATS, msg: Msg) -> None:
        name = self.names.inbound_part(msg.subject, "rpc")
        if name is None:
            return
        try:
            question = check_question(self._cert, msg.subject, msg.reply, msg.headers, msg.data)
        except Refused as refusal:
            self._refuse(refusal, msg.subject)
            return
        status = "ok"
        try:
            if name == "digest":
                body = json.dumps(self.inbound.digest(self.peer.peer_id)).encode()
            else:
                body = self.inbound.answer(self.peer.peer_id, name)
        except NotFound as exc:
            status, body = "error", exc.detail.encode()
        except LookupError as exc:
            status, body = "error", (str(exc) or f"no answer {name!r}").encode()
        headers = encode_answer(self._key, msg.subject, question.nonce, status, body)
        await nc.publish(msg.reply, body, headers=headers)


class NatsTransport:
    name = "nats"

    def __init__(self, node_id: str, node_dir: NodeDir) -> None:
        self.node_id = node_id
        self.node_dir = node_dir
        self._key: ec.EllipticCurvePrivateKey | None = None

    @property
    def key(self) -> ec.EllipticCurvePrivateKey:
        if self._key is None:
            self._key = pki.load_key(self.node_dir.node_key)
        return self._key

    async def serve(self, peers: Sequence[PeerEndpoint], inbound: Inbound) -> None:
        servers = [PeerServer(self.node_id, self.node_dir, self.key, p, inbound) for p in peers]
        tasks = [asyncio.create_task(s.run()) for s in servers]
        try:
            if tasks:
                await asyncio.gather(*tasks)
            else:
                await asyncio.Event().wait()  # until cancelled
        finally:
            await cancel_all(tasks)

    def connect(self, peer: PeerEndpoint) -> NatsConnection:
        return NatsConnection(self.node_id, self.node_dir, self.key, peer)


def transport(node: FederatedNode) -> NatsTransport:
    """The ``nats`` transport of ``node``: each peer's ``url`` names the NATS server to use."""
    return NatsTransport(node.context.node_id, node.dir)


__all__ = ["NatsConnection", "NatsTransport", "PeerServer", "transport"]
