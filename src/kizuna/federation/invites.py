"""One-time invitations for a partner node (ADR 0019).

``kizuna peer invite`` makes an :class:`Invitation`: who we are (node id, nation, the
fingerprint of our node certificate, our federation URL), the agreement we propose, whom it
is for (peer id and nation) and a one-time secret. It travels as one token,
``kzinv1.<base64url JSON>.<base64url signature>``, signed with our node key.

What we keep is an :class:`InvitationRecord` under ``invitations/`` in the node directory:
the secret only as its SHA-256, the binding and the expiry. The record's directory is its
state: ``pending/`` until used, ``used/`` once a joiner enrolled with it, ``refused/`` when
the administrator refused it. Using an invitation is one rename from ``pending/`` to
``used/``: of two joiners racing with the same secret exactly one wins.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Literal

import msgspec

from kizuna.federation.peerconf import write_atomic
from kizuna.kernel.config import NodeDir

TOKEN_PREFIX = "kzinv1"
MAX_TOKEN = 8192  # characters: a token is a few hundred
MAX_EXPIRY = 7 * 86400.0  # seconds an invitation may live, at most
STATES = ("pending", "used", "refused")

State = Literal["pending", "used", "refused"]


class InvitationError(ValueError):
    """A token that is not an invitation."""


class Invitation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the token carries."""

    id: str
    node_id: str  # the inviter
    nation: str
    url: str  # the inviter's federation URL
    fingerprint: str  # SHA-256 of the inviter's node certificate (DER), hex
    peer_id: str  # whom it is for
    peer_nation: str
    types: list[str]
    max_classification: str
    expires_at: float
    secret: str


class InvitationRecord(msgspec.Struct, kw_only=True):
    """What the inviter keeps (never the secret itself)."""

    id: str
    peer_id: str
    nation: str
    types: list[str]
    max_classification: str
    created_at: float
    expires_at: float
    secret_hash: str
    state: State = "pending"
    used_at: float | None = None
    joiner_fingerprint: str = ""
    joiner_url: str = ""
    joiner_address: str = ""
    refused_at: float | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def payload_bytes(invitation: Invitation) -> bytes:
    return msgspec.json.encode(invitation)


def encode_token(invitation: Invitation, signature: bytes) -> str:
    return f"{TOKEN_PREFIX}.{_b64(payload_bytes(invitation))}.{_b64(signature)}"


def decode_token(token: str) -> tuple[Invitation, bytes, bytes]:
    """(invitation, the signed bytes, signature); InvitationError if it is not one."""
    token = "".join(token.split())  # pasted across lines
    if len(token) > MAX_TOKEN:
        raise InvitationError("not a Kizuna invitation (too long)")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise InvitationError(f"not a Kizuna invitation (it starts with {TOKEN_PREFIX}.)")
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
        invitation = msgspec.json.decode(payload, type=Invitation)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InvitationError(f"not a Kizuna invitation ({exc})") from None
    return invitation, payload, signature


def new_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class InvitationStore:
    """The node's invitations, one JSON file each under ``invitations/<state>/``."""

    def __init__(self, nd: NodeDir) -> None:
        self.root: Path = nd.root / "invitations"

    def _dir(self, state: str) -> Path:
        path = self.root / state
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def _path(self, state: str, invitation_id: str) -> Path:
        if not invitation_id.isalnum():
            raise InvitationError("bad invitation id")
        return self._dir(state) / f"{invitation_id}.json"

    def add(self, record: InvitationRecord) -> None:
        self.root.mkdir(exist_ok=True, mode=0o700)
        write_atomic(self._path("pending", record.id), msgspec.json.encode(record), 0o600)

    def get(self, invitation_id: str) -> InvitationRecord | None:
        """The record in whichever state it is (None: unknown)."""
        try:
            paths = [self._path(state, invitation_id) for state in STATES]
        except InvitationError:
            return None
        for path in paths:
            try:
                return msgspec.json.decode(path.read_bytes(), type=InvitationRecord)
            except FileNotFoundError:
                continue
        return None

    def all(self) -> list[InvitationRecord]:
        out = []
        for state in STATES:
            for path in sorted(self._dir(state).glob("*.json")):
                try:
                    out.append(msgspec.json.decode(path.read_bytes(), type=InvitationRecord))
                except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                    continue
        return sorted(out, key=lambda r: r.created_at)

    def move(self, invitation_id: str, src: State, dst: State, **changes: object) -> bool:
        """Move a record from state ``src`` to ``dst`` atomically; False if it was not in
        ``src`` (another joiner used it first, or the administrator refused it)."""
        source = self._path(src, invitation_id)
        target = self._path(dst, invitation_id)
        try:
            os.rename(source, target)  # the one step that decides
        except FileNotFoundError:
            return False
        record = msgspec.json.decode(target.read_bytes(), type=InvitationRecord)
        record = msgspec.structs.replace(record, state=dst, **changes)
        write_atomic(target, msgspec.json.encode(record), 0o600)
        return True


def status(record: InvitationRecord, now: float | None = None) -> str:
    """pending, used, refused, or expired (pending past its expiry)."""
    now = time.time() if now is None else now
    if record.state == "pending" and record.expires_at <= now:
        return "expired"
    return record.state
