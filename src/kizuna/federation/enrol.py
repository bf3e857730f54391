"""Enrolment of a partner node with a one-time invitation (ADR 0019).

Inviter: :func:`invite` stores the invitation (secret hashed) and gives the token;
:class:`Enrolment` answers ``POST /federation/enrol`` on the federation port, the one
route a TLS client without a pinned certificate may reach. It refuses, with one answer
that tells nothing, any request whose secret does not match, and limits failures per
address. With a matching secret it checks the invitation's state, expiry and binding
(peer id and nation), that the presented certificate names that node and that the
request is signed with its key; then it uses the invitation up (one atomic rename), pins
the certificate, records the agreement it proposed, audits, and answers with its own
certificate and the agreement.

Joiner: :func:`join` opens TLS to the inviter without trusting any CA, checks that the
server's certificate has the invitation's fingerprint before it sends a byte, enrols,
checks the answer (the same fingerprint, the token's signature) and pins the inviter with
the agreement proposed (or the one it chose itself).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import msgspec
from cryptography import x509

from kizuna.core.labels import COUNTRIES, Classification, LabelError
from kizuna.federation.invites import (
    MAX_EXPIRY,
    Invitation,
    InvitationRecord,
    InvitationStore,
    decode_token,
    encode_token,
    hash_secret,
    new_id,
    new_secret,
    payload_bytes,
    secret_matches,
    status,
)
from kizuna.federation.peerconf import PeerEditError, add_peer, leaf_of
from kizuna.kernel import pki
from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig
from kizuna.store.audit import AuditLog

PATH = "/federation/enrol"
MAX_REQUEST = 64 * 1024  # bytes: a certificate bundle and a few fields
TIMEOUT = 10.0  # seconds the joiner waits for the inviter
DUMMY_HASH = hash_secret("no such invitation")  # compared against when the id is unknown
NOT_VALID = "invitation not valid"  # the one answer for a secret that does not match
RATE_LIMITED = "too many failed enrolments from this address; wait"


class EnrolError(Exception):
    """A join that failed: what the joiner's administrator reads."""


class EnrolRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    invitation: str
    secret: str
    peer_id: str
    nation: str
    url: str  # where the inviter reaches the joiner's federation port
    cert: str  # the joiner's node certificate, then its CA (PEM)
    signature: str  # hex: the joiner's node key over :func:`signed_part`


class EnrolAnswer(msgspec.Struct, kw_only=True):
    node_id: str
    nation: str
    url: str
    cert: str
    types: list[str]
    max_classification: str


def signed_part(req: EnrolRequest, inviter_fingerprint: str) -> bytes:
    """What the joiner signs: the request's fields and whom it is addressed to."""
    fields = [req.invitation, inviter_fingerprint, req.peer_id, req.nation, req.url]
    fields.append(pki.fingerprint(leaf_of(req.cert.encode())))
    return ("kizuna-enrol-v1\n" + "\n".join(fields)).encode("utf-8")


# -- the inviter ---------------------------------------------------------------------------


def check_agreement(types: list[str], max_classification: str, known: list[str]) -> str:
    """The canonical classification name; ValueError for a bad agreement."""
    try:
        level = Classification.parse(max_classification)
    except LabelError as exc:
        raise ValueError(str(exc)) from None
    unknown = sorted(set(types) - set(known))
    if unknown:
        raise ValueError(f"unknown record types {unknown}; known: {', '.join(known)}")
    if not types:
        raise ValueError("an agreement names at least one record type")
    return level.name


def invite(
    nd: NodeDir,
    config: NodeConfig,
    *,
    peer_id: str,
    nation: str,
    types: list[str],
    max_classification: str,
    expires_at: float,
    url: str | None = None,
    now: float | None = None,
) -> tuple[str, InvitationRecord]:
    """Store a one-time invitation for ``peer_id`` and give its token."""
    now = time.time() if now is None else now
    if expires_at <= now or expires_at - now > MAX_EXPIRY:
        raise ValueError("an invitation expires within 7 days (and not in the past)")
    if nation not in COUNTRIES:
        raise ValueError(f"unknown nation {nation!r}")
    if peer_id == config.node_id or any(p.peer_id == peer_id for p in config.peers):
        raise ValueError(f"peer {peer_id!r} exists")
    secret = new_secret()
    record = InvitationRecord(
        id=new_id(),
        peer_id=peer_id,
        nation=nation,
        types=types,
        max_classification=max_classification,
        created_at=now,
        expires_at=expires_at,
        secret_hash=hash_secret(secret),
    )
    invitation = Invitation(
        id=record.id,
        node_id=config.node_id,
        nation=config.nation,
        url=url or config.federation_url,
        fingerprint=pki.fingerprint(pki.load_cert(nd.node_cert)),
        peer_id=peer_id,
        peer_nation=nation,
        types=types,
        max_classification=max_classification,
        expires_at=expires_at,
        secret=secret,
    )
    signature = pki.sign(pki.load_key(nd.node_key), payload_bytes(invitation))
    InvitationStore(nd).add(record)
    return encode_token(invitation, signature), record


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class FailureLimit:
    """Failed enrolments allowed per client address: ``burst`` at once, one more every
    ``every`` seconds."""

    burst: int = 5
    every: float = 10.0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def _bucket(self, key: str, now: float) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) > 4096:
                self._buckets.clear()
            b = self._buckets[key] = _Bucket(float(self.burst), now)
        b.tokens = min(float(self.burst), b.tokens + (now - b.at) / self.every)
        b.at = now
        return b

    def blocked(self, key: str, now: float) -> bool:
        return self._bucket(key, now).tokens < 1.0

    def failed(self, key: str, now: float) -> None:
        b = self._bucket(key, now)
        b.tokens = max(0.0, b.tokens - 1.0)


Reply = tuple[int, bytes, str]


def _json(status_code: int, body: object) -> Reply:
    return status_code, msgspec.json.encode(body), "application/json"


def _problem(status_code: int, detail: str) -> Reply:
    body = {"type": "about:blank", "title": "Enrolment refused", "status": status_code}
    return status_code, msgspec.json.encode({**body, "detail": detail}), "application/problem+json"


class Enrolment:
    """The inviter's side of ``POST /federation/enrol``."""

    def __init__(
        self,
        nd: NodeDir,
        config: NodeConfig,
        audit: AuditLog,
        on_enrolled: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.nd = nd
        self.config = config
        self.audit = audit
        self.store = InvitationStore(nd)
        self.on_enrolled = on_enrolled
        self.clock = clock
        self.limit = FailureLimit()
        self._limit_audited: dict[str, float] = {}
        self._fingerprint = ""

    @property
    def fingerprint(self) -> str:
        """Our node certificate's (read when first needed: a node may lack one in tests)."""
        if not self._fingerprint:
            self._fingerprint = pki.fingerprint(pki.load_cert(self.nd.node_cert))
        return self._fingerprint

    def _refuse(
        self, client: str, reason: str, status_code: int, detail: str, **ids: object
    ) -> Reply:
        self.audit.append("federation.enrol", f"address:{client}", "refused", reason=reason, **ids)
        return _problem(status_code, detail)

    def handle(self, method: str, body: bytes, client: str) -> Reply:
        now = self.clock()
        if method != "POST":
            return _problem(405, "enrolment is POST")
        if self.limit.blocked(client, now):
            if now - self._limit_audited.get(client, 0.0) >= self.limit.every:
                self._limit_audited[client] = now  # one entry per address and interval
                return self._refuse(client, "rate_limit", 429, RATE_LIMITED)
            return _problem(429, RATE_LIMITED)
        try:
            if len(body) > MAX_REQUEST:
                raise ValueError("too large")
            req = msgspec.json.decode(body, type=EnrolRequest)
        except (ValueError, msgspec.DecodeError, msgspec.ValidationError):
            self.limit.failed(client, now)
            return self._refuse(client, "malformed", 400, "malformed enrolment request")
        record = self.store.get(req.invitation)
        # Compared in constant time, and against a dummy when the id is unknown.
        matched = secret_matches(req.secret, record.secret_hash if record else DUMMY_HASH)
        if record is None or not matched:
            self.limit.failed(client, now)
            return self._refuse(
                client, "bad_secret", 403, NOT_VALID, invitation=req.invitation[:32]
            )
        # The caller holds the secret: from here the answers may say what is wrong.
        ids = {"invitation": record.id, "peer": req.peer_id}
        state = status(record, now)
        if state != "pending":
            detail = {
                "used": "invitation already used",
                "refused": "invitation refused by the administrator",
                "expired": "invitation expired",
            }[state]
            return self._refuse(client, state, 403, detail, **ids)
        if (req.peer_id, req.nation) != (record.peer_id, record.nation):
            return self._refuse(
                client,
                "binding",
                403,
                f"invitation is for node {record.peer_id} ({record.nation})",
                **ids,
            )
        problem = self._check_joiner(req)
        if problem is not None:
            return self._refuse(client, "certificate", 400, problem, **ids)
        leaf = leaf_of(req.cert.encode())
        joiner_fp = pki.fingerprint(leaf)
        if not self.store.move(
            record.id,
            "pending",
            "used",
            used_at=now,
            joiner_fingerprint=joiner_fp,
            joiner_url=req.url,
            joiner_address=client,
        ):
            return self._refuse(client, "used", 403, "invitation already used", **ids)
        peer = PeerConfig(
            peer_id=record.peer_id,
            nation=record.nation,
            url=req.url,
            cert=f"peers/{record.peer_id}.pem",
            types=list(record.types),
            max_classification=record.max_classification,
        )
        try:
            add_peer(self.nd, peer, req.cert.encode())
        except PeerEditError as exc:
            return self._refuse(client, "exists", 409, str(exc), **ids)
        self.audit.append(
            "federation.enrol",
            f"node:{record.peer_id}",
            "ok",
            fingerprint=joiner_fp,
            nation=record.nation,
            url=req.url,
            address=client,
            types=record.types,
            max_classification=record.max_classification,
            **ids,
        )
        self.on_enrolled()
        own = self.nd.node_cert.read_text() + self.nd.ca_cert.read_text()
        answer = EnrolAnswer(
            node_id=self.config.node_id,
            nation=self.config.nation,
            url=self.config.federation_url,
            cert=own,
            types=list(record.types),
            max_classification=record.max_classification,
        )
        return _json(200, answer)

    def _check_joiner(self, req: EnrolRequest) -> str | None:
        """What is wrong with the joiner's certificate or URL (None: nothing)."""
        try:
            leaf = leaf_of(req.cert.encode())
        except ValueError:
            return "cert: not a PEM certificate"
        who = pki.identity_of(leaf)
        if who.common_name != req.peer_id or who.nation != req.nation:
            return f"cert: names {who.common_name} ({who.nation}), not {req.peer_id} ({req.nation})"
        if pki.fingerprint(leaf) == self.fingerprint:
            return "cert: that is this node's own certificate"
        try:
            signature = bytes.fromhex(req.signature)
        except ValueError:
            return "signature: not hex"
        if not pki.verify_signature(leaf, signed_part(req, self.fingerprint), signature):
            return "signature: not made with the certificate's key"
        parts = urlsplit(req.url)
        if parts.scheme != "https" or not parts.hostname:
            return "url: the joiner's federation URL is https://host:port"
        return None


# -- the joiner ----------------------------------------------------------------------------


@dataclass
class Joined:
    inviter: PeerConfig
    fingerprint: str
    skipped: list[str] = field(default_factory=list)  # proposed types not installed here


def _connect(invitation: Invitation) -> http.client.HTTPSConnection:
    """TLS to the inviter, trusting no CA: its certificate must carry the invitation's
    fingerprint, checked before anything is sent."""
    parts = urlsplit(invitation.url)
    if parts.scheme != "https" or not parts.hostname:
        raise EnrolError(f"the invitation's URL {invitation.url!r} is not https://host:port")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # pinned by fingerprint below instead
    conn = http.client.HTTPSConnection(
        parts.hostname, parts.port or 443, context=ctx, timeout=TIMEOUT
    )
    try:
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True) if conn.sock else None
    except (OSError, ssl.SSLError) as exc:
        conn.close()
        raise EnrolError(f"cannot reach the inviter at {invitation.url}: {exc}") from None
    seen = hashlib.sha256(der or b"").hexdigest()
    if seen != invitation.fingerprint:
        conn.close()
        raise EnrolError(
            f"the node at {invitation.url} is not the inviter: its certificate's fingerprint "
            f"is {seen[:16]}…, the invitation's {invitation.fingerprint[:16]}…"
        )
    return conn


def join(
    nd: NodeDir,
    config: NodeConfig,
    token: str,
    *,
    url: str | None = None,
    types: list[str] | None = None,
    max_classification: str | None = None,
    known: list[str] | None = None,
) -> Joined:
    """Enrol with the inviter of ``token`` and pin it (EnrolError: refused or failed)."""
    invitation, signed, signature = decode_token(token)
    if (config.node_id, config.nation) != (invitation.peer_id, invitation.peer_nation):
        raise EnrolError(
            f"this invitation is for node {invitation.peer_id} ({invitation.peer_nation}); "
            f"this node is {config.node_id} ({config.nation})"
        )
    if any(p.peer_id == invitation.node_id for p in config.peers):
        raise EnrolError(f"peer {invitation.node_id!r} exists here already")
    own = nd.node_cert.read_text() + nd.ca_cert.read_text()
    req = EnrolRequest(
        invitation=invitation.id,
        secret=invitation.secret,
        peer_id=config.node_id,
        nation=config.nation,
        url=url or config.federation_url,
        cert=own,
        signature="",
    )
    req.signature = pki.sign(
        pki.load_key(nd.node_key), signed_part(req, invitation.fingerprint)
    ).hex()
    conn = _connect(invitation)
    try:
        conn.request(
            "POST",
            PATH,
            body=msgspec.json.encode(req),
            headers={"content-type": "application/json"},
        )
        response = conn.getresponse()
        body = response.read(MAX_REQUEST + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise EnrolError(f"enrolment with {invitation.url} failed: {exc}") from None
    finally:
        conn.close()
    if response.status != 200:
        try:
            detail = str(json.loads(body).get("detail", ""))
        except (ValueError, AttributeError):
            detail = body[:200].decode("utf-8", "replace")
        raise EnrolError(f"the inviter refused: {detail} ({response.status})")
    try:
        answer = msgspec.json.decode(body, type=EnrolAnswer)
        cert = leaf_of(answer.cert.encode())
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise EnrolError(f"the inviter's answer is malformed: {exc}") from None
    _check_answer(invitation, answer, cert, signed, signature)
    skipped: list[str] = []
    if types is None:  # ours towards the inviter: what it proposed, as far as we have it
        types = [t for t in answer.types if known is None or t in known]
        skipped = [t for t in answer.types if t not in types]
    peer = PeerConfig(
        peer_id=answer.node_id,
        nation=answer.nation,
        url=invitation.url,
        cert=f"peers/{answer.node_id}.pem",
        types=list(types),
        max_classification=max_classification or answer.max_classification,
    )
    try:
        add_peer(nd, peer, answer.cert.encode())
    except PeerEditError as exc:
        raise EnrolError(str(exc)) from None
    return Joined(inviter=peer, fingerprint=pki.fingerprint(cert), skipped=skipped)


def _check_answer(
    invitation: Invitation,
    answer: EnrolAnswer,
    cert: x509.Certificate,
    signed: bytes,
    signature: bytes,
) -> None:
    if pki.fingerprint(cert) != invitation.fingerprint:
        raise EnrolError("the inviter answered with a certificate other than the invitation's")
    if not pki.verify_signature(cert, signed, signature):
        raise EnrolError("the invitation was not signed by the inviter (altered?)")
    if (answer.node_id, answer.nation) != (invitation.node_id, invitation.nation):
        raise EnrolError(
            f"the inviter answered as {answer.node_id} ({answer.nation}), the invitation names "
            f"{invitation.node_id} ({invitation.nation})"
        )
