"""The after-action archive of an exercise: its records as one node held them at ENDEX,
hash-chained like the audit trail and signed with the node's key.

Entry n holds ``prev`` (entry n-1's hash; the first: 64 zeros), ``item`` and ``hash`` =
SHA-256 over the canonical JSON of ``{n, prev, item}``. The node signs the head statement
``kizuna-exercise-archive/1:<exercise>:<node>:<count>:<last hash>`` with ``node.key``
(ECDSA P-256, :func:`kizuna.kernel.pki.sign`) and ships its certificate with it, so the
archive verifies anywhere: a changed, dropped, reordered or appended entry breaks the chain
or the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kizuna.exercises.models import Archive, ArchiveEntry, ArchiveItem, VerifyOut
from kizuna.kernel import pki

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal content, equal text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(n: int, prev: str, item: ArchiveItem) -> str:
    body = {"n": n, "prev": prev, "item": msgspec.to_builtins(item)}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def statement(exercise_id: str, node: str, count: int, head: str) -> bytes:
    return f"kizuna-exercise-archive/1:{exercise_id}:{node}:{count}:{head}".encode()


def chain(items: Sequence[ArchiveItem]) -> list[ArchiveEntry]:
    out: list[ArchiveEntry] = []
    prev = GENESIS
    for n, item in enumerate(items, start=1):
        digest = _digest(n, prev, item)
        out.append(ArchiveEntry(n=n, prev=prev, hash=digest, item=item))
        prev = digest
    return out


def build(
    *,
    exercise_id: str,
    node: str,
    nation: str,
    created_at: str,
    purge_after: str,
    items: Sequence[ArchiveItem],
    key: ec.EllipticCurvePrivateKey | None,
    cert_pem: str,
) -> Archive:
    entries = chain(items)
    head = entries[-1].hash if entries else GENESIS
    sig = ""
    if key is not None:
        raw = pki.sign(key, statement(exercise_id, node, len(entries), head))
        sig = base64.b64encode(raw).decode("ascii")
    return Archive(
        exercise_id=exercise_id,
        node=node,
        nation=nation,
        created_at=created_at,
        purge_after=purge_after,
        entries=entries,
        head=head,
        sig=sig,
        cert=cert_pem if key is not None else "",
    )


def verify(archive: Archive, cert: x509.Certificate | None = None) -> VerifyOut:
    """Whether the chain holds and the head is signed by the archive's node (``cert``, else
    the certificate it carries)."""
    problems: list[str] = []
    prev = GENESIS
    for i, entry in enumerate(archive.entries, start=1):
        if entry.n != i:
            problems.append(f"entry {i}: numbered {entry.n}")
        if entry.prev != prev:
            problems.append(f"entry {i}: does not follow entry {i - 1}")
        if _digest(entry.n, entry.prev, entry.item) != entry.hash:
            problems.append(f"entry {i}: its hash does not match its content")
        prev = entry.hash
    if archive.head != prev:
        problems.append("the head is not the last entry's hash")
    signed = False
    if cert is None and archive.cert:
        try:
            cert = x509.load_pem_x509_certificate(archive.cert.encode())
        except ValueError:
            problems.append("the certificate cannot be read")
    if not archive.sig:
        problems.append("the archive is not signed")
    elif cert is not None:
        try:
            raw = base64.b64decode(archive.sig, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        text = statement(archive.exercise_id, archive.node, len(archive.entries), archive.head)
        signed = bool(raw) and pki.verify_signature(cert, text, raw)
        if not signed:
            problems.append("the signature does not verify")
    return VerifyOut(
        valid=not problems, signed=signed, entries=len(archive.entries), problems=problems
    )


def node_key(root: Path) -> tuple[ec.EllipticCurvePrivateKey | None, str]:
    """The node's key and certificate (PEM), if the node directory has them."""
    key_path, cert_path = root / "node.key", root / "node.pem"
    if not key_path.exists() or not cert_path.exists():
        return None, ""
    return pki.load_key(key_path), cert_path.read_text(encoding="utf-8")
