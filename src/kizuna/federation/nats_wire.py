"""What the NATS transport puts on the wire: its settings, subjects, and signatures.

Pure: no NATS client here, so each rule is testable on its own. ADR 0010 explains the design.

A link between this node (``me``) and a peer uses, under a subject prefix (default
``kizuna``; one token), per direction:

- ``<prefix>.batch.<to>.<from>.<stream>``: a batch, in the JetStream stream of what ``to``
  receives from ``from`` (created by ``to``), with ``Nats-Msg-Id: <stream>:<dedup id>``;
- ``<prefix>.ack.<to>.<from>.<stream>.<key>``: the acknowledgement ``from`` gives for a batch
  ``to`` sent it, in the JetStream stream of acknowledgements ``to`` receives (created by
  ``to``, one message kept per subject);
- ``<prefix>.rpc.<to>.<from>.<name>``: a question (``digest``, a stream's answer), core NATS
  request/reply.

Every batch, acknowledgement, question and answer is signed with the sender's node key and
verified against its certificate pinned in ``peers/<id>.pem``: neither a NATS server nor another
of its clients can pose as a peer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kizuna.kernel import pki

DEFAULT_PREFIX = "kizuna"
MSG_ID = "Nats-Msg-Id"  # JetStream de-duplication
SIGNATURE = "Kizuna-Signature"  # base64 of an ECDSA-SHA256 signature (DER) by the node key
STATUS = "Kizuna-Status"  # of an answer: "ok" or "error"
RPC_SKEW = 300.0  # seconds a signed question stays valid
SCHEMES = ("nats", "tls")
OPTIONS = ("prefix", "creds", "ca", "ack_timeout")
DEFAULT_ACK_TIMEOUT = 15.0  # seconds a send waits for the peer's acknowledgement

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def is_token(value: str) -> bool:
    """Whether ``value`` may stand as one token of a subject or in a stream's name."""
    return bool(_TOKEN.match(value))


def _token(value: str, what: str) -> str:
    if not is_token(value):
        raise ValueError(f"{what} {value!r} must be letters, digits, '-' or '_'")
    return value


class NatsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """A peer's ``url``: ``nats://[user:password@]host:port[,host:port]`` (or ``tls://``) with
    options ``prefix``, ``creds``, ``ca`` and ``ack_timeout`` in its query."""

    servers: list[str]
    prefix: str = DEFAULT_PREFIX
    creds: str | None = None  # a NATS credentials file (relative to the node directory)
    ca: str | None = None  # a CA file for ``tls://`` servers
    ack_timeout: float = DEFAULT_ACK_TIMEOUT  # then the send fails and the link retries

    @property
    def tls(self) -> bool:
        return any(s.startswith("tls://") for s in self.servers)


def parse_url(url: str) -> NatsSettings:
    """Raise ValueError for a URL that is not a NATS URL this transport understands."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.netloc:
        raise ValueError(f"peer url {url!r} is not nats://host:port (or tls://host:port)")
    if parts.path not in ("", "/"):
        raise ValueError(f"peer url {url!r}: the subject prefix goes in ?prefix=, not the path")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - set(OPTIONS))
    if unknown:
        raise ValueError(f"peer url {url!r}: unknown options {unknown}; known: {list(OPTIONS)}")
    one = {k: v[-1] for k, v in query.items()}
    try:
        ack_timeout = float(one.get("ack_timeout") or DEFAULT_ACK_TIMEOUT)
    except ValueError:
        raise ValueError(f"peer url {url!r}: ack_timeout must be a number of seconds") from None
    if not 0 < ack_timeout <= 3600:
        raise ValueError(f"peer url {url!r}: ack_timeout must be in (0, 3600] seconds")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    servers = [
        f"{parts.scheme}://{userinfo + '@' if userinfo else ''}{host}"
        for host in hosts.split(",")
        if host
    ]
    return NatsSettings(
        servers=servers,
        prefix=_token(one.get("prefix") or DEFAULT_PREFIX, "subject prefix"),
        creds=one.get("creds") or None,
        ca=one.get("ca") or None,
        ack_timeout=ack_timeout,
    )


def stream_name(prefix: str, kind: str, to: str, sender: str) -> str:
    """A JetStream stream's name: readable, and distinct for every (to, from) pair even when
    node ids contain the separator."""
    tag = hashlib.blake2b(f"{to}\0{sender}".encode(), digest_size=4).hexdigest()
    return f"{prefix}-{kind}-{to}-{sender}-{tag}"


def ack_key(msg_id: str) -> str:
    """The last token of a batch's acknowledgement subject."""
    return hashlib.blake2b(msg_id.encode(), digest_size=16).hexdigest()


class Names:
    """The subjects and JetStream streams of the link between ``me`` and ``peer``."""

    def __init__(self, prefix: str, me: str, peer: str) -> None:
        self.prefix = _token(prefix, "subject prefix")
        self.me = _token(me, "node id")
        self.peer = _token(peer, "peer id")

    # -- what we send ----------------------------------------------------------------
    def batch_to_peer(self, stream: str) -> str:
        return f"{self.prefix}.batch.{self.peer}.{self.me}.{_token(stream, 'stream name')}"

    def ack_to_peer(self, stream: str, msg_id: str) -> str:
        return f"{self.prefix}.ack.{self.peer}.{self.me}.{stream}.{ack_key(msg_id)}"

    def rpc_to_peer(self, name: str) -> str:
        return f"{self.prefix}.rpc.{self.peer}.{self.me}.{_token(name, 'question')}"

    # -- what we receive ---------------------------------------------------------------
    @property
    def batches_from_peer(self) -> str:
        return f"{self.prefix}.batch.{self.me}.{self.peer}.*"

    def ack_from_peer(self, stream: str, msg_id: str) -> str:
        return f"{self.prefix}.ack.{self.me}.{self.peer}.{stream}.{ack_key(msg_id)}"

    @property
    def acks_from_peer(self) -> str:
        return f"{self.prefix}.ack.{self.me}.{self.peer}.>"

    @property
    def rpcs_from_peer(self) -> str:
        return f"{self.prefix}.rpc.{self.me}.{self.peer}.*"

    @property
    def inbound_stream(self) -> str:
        """Batches to us from the peer (we create it, on the server we use for the link)."""
        return stream_name(self.prefix, "batch", self.me, self.peer)

    @property
    def ack_stream(self) -> str:
        """Acknowledgements to us from the peer (we create it)."""
        return stream_name(self.prefix, "ack", self.me, self.peer)

    @property
    def durable(self) -> str:
        return f"kizuna-{self.me}"

    def inbound_part(self, subject: str, kind: str) -> str | None:
        """The last token of a ``kind`` subject we receive from the peer (the stream of a
        batch, the name of a question), or None when the subject is not one of this link's."""
        parts = subject.split(".")
        if len(parts) != 5 or parts[:2] != [self.prefix, kind]:
            return None
        if parts[2:4] != [self.me, self.peer]:
            return None
        return parts[4] if is_token(parts[4]) else None


# -- signatures -----------------------------------------------------------------------------


def _signed(kind: str, *fields: str, body: bytes) -> bytes:
    """What a signature covers: the kind of message, its routing, a hash of its body."""
    return "\n".join([f"kizuna-nats/{kind}/1", *fields, hashlib.sha256(body).hexdigest()]).encode()


def sign(key: ec.EllipticCurvePrivateKey, kind: str, *fields: str, body: bytes) -> str:
    return base64.b64encode(pki.sign(key, _signed(kind, *fields, body=body))).decode()


def verify(
    cert: x509.Certificate, signature: str | None, kind: str, *fields: str, body: bytes
) -> bool:
    if not signature:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return pki.verify_signature(cert, _signed(kind, *fields, body=body), raw)


class Refused(Exception):
    """A message this node turns away; ``reason`` is what ``Inbound.refused`` counts."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def batch_headers(
    key: ec.EllipticCurvePrivateKey, subject: str, msg_id: str, body: bytes
) -> dict[str, str]:
    return {MSG_ID: msg_id, SIGNATURE: sign(key, "batch", subject, msg_id, body=body)}


def check_batch(
    names: Names,
    cert: x509.Certificate,
    subject: str,
    headers: Mapping[str, str] | None,
    body: bytes,
) -> tuple[str, str, str]:
    """``(stream, dedup id, msg id)`` of a batch from the peer whose signature verifies
    against its pinned certificate; raise :class:`Refused` otherwise."""
    stream = names.inbound_part(subject, "batch")
    if stream is None:
        raise Refused("federation_bad_subject", f"not a batch subject of this link: {subject}")
    headers = headers or {}
    msg_id = headers.get(MSG_ID, "")
    signature = headers.get(SIGNATURE)
    if not signature:
        raise Refused("federation_unsigned", "batch without a signature")
    if not verify(cert, signature, "batch", subject, msg_id, body=body):
        raise Refused("federation_bad_signature", "batch signature does not verify")
    named, _, dedup = msg_id.partition(":")
    if named != stream:
        raise Refused("federation_bad_subject", f"message id {msg_id!r} names another stream")
    return stream, dedup, msg_id


class AckMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The receiver's answer to one batch: its Ack, or why it could not take the batch."""

    accepted: int = 0
    applied: int = 0
    refused: int = 0
    error: str | None = None


_ack_decoder = msgspec.json.Decoder(AckMessage)


def encode_ack(
    key: ec.EllipticCurvePrivateKey, subject: str, ack: AckMessage
) -> tuple[bytes, dict[str, str]]:
    body = msgspec.json.encode(ack)
    return body, {SIGNATURE: sign(key, "ack", subject, body=body)}


def check_ack(
    cert: x509.Certificate, subject: str, headers: Mapping[str, str] | None, body: bytes
) -> AckMessage | None:
    """The acknowledgement if the peer signed it for ``subject``, else None."""
    if not verify(cert, (headers or {}).get(SIGNATURE), "ack", subject, body=body):
        return None
    try:
        return _ack_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class Question(msgspec.Struct, frozen=True):
    nonce: str
    at: float  # unix time; a question older than RPC_SKEW is refused


_question_decoder = msgspec.json.Decoder(Question)


def encode_question(
    key: ec.EllipticCurvePrivateKey, subject: str, reply: str, nonce: str
) -> tuple[bytes, dict[str, str]]:
    """A signed question; the signature covers the reply subject, so a replay can only send
    the answer where the asker listens."""
    body = msgspec.json.encode(Question(nonce, time.time()))
    return body, {SIGNATURE: sign(key, "rpc", subject, reply, body=body)}


def check_question(
    cert: x509.Certificate,
    subject: str,
    reply: str,
    headers: Mapping[str, str] | None,
    body: bytes,
    now: float | None = None,
) -> Question:
    if not reply:
        raise Refused("federation_bad_subject", "question without a reply subject")
    signature = (headers or {}).get(SIGNATURE)
    if not signature:
        raise Refused("federation_unsigned", "question without a signature")
    if not verify(cert, signature, "rpc", subject, reply, body=body):
        raise Refused("federation_bad_signature", "question signature does not verify")
    try:
        question = _question_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Refused("federation_bad_subject", f"malformed question: {exc}") from None
    if abs((time.time() if now is None else now) - question.at) > RPC_SKEW:
        raise Refused("federation_stale", "question outside the allowed clock skew")
    return question


def encode_answer(
    key: ec.EllipticCurvePrivateKey, subject: str, nonce: str, status: str, body: bytes
) -> dict[str, str]:
    return {STATUS: status, SIGNATURE: sign(key, "answer", subject, nonce, status, body=body)}


def check_answer(
    cert: x509.Certificate, subject: str, nonce: str, headers: Mapping[str, str] | None, body: bytes
) -> tuple[str, bytes] | None:
    """``(status, body)`` of an answer the peer signed for our question, else None."""
    headers = headers or {}
    status = headers.get(STATUS, "")
    if not verify(cert, headers.get(SIGNATURE), "answer", subject, nonce, status, body=body):
        return None
    return status, body
