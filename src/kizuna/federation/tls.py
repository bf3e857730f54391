"""Mutual TLS between nodes: our node certificate, trust only in configured peers."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from kizuna.kernel import pki
from kizuna.kernel.config import NodeDir


def _trust(ctx: ssl.SSLContext, peer_files: list[Path]) -> None:
    # Peers' certificate files hold their node certificate and then their CA. Only the
    # node certificate is trusted (partial-chain lets it stand as its own anchor): the
    # peer's CA also signs its TAK clients, which must fail the handshake here.
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    for path in peer_files:
        leaf = pki.load_cert(path)
        ctx.load_verify_locations(cadata=leaf.public_bytes(serialization.Encoding.PEM).decode())


def server_context(node_dir: NodeDir, peer_files: list[Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(node_dir.node_cert), str(node_dir.node_key))
    # A certificate that is presented must be a pinned peer's, or the handshake fails; a
    # client may present none, and then reaches only the enrolment route (ADR 0019): every
    # other request without a pinned certificate is refused as `federation_unknown_peer`.
    ctx.verify_mode = ssl.CERT_OPTIONAL
    _trust(ctx, peer_files)  # not our own CA: it signs TAK clients, which are not peers
    return ctx


def client_context(node_dir: NodeDir, peer_file: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(node_dir.node_cert), str(node_dir.node_key))
    ctx.check_hostname = True
    _trust(ctx, [peer_file])
    return ctx


def leaf_fingerprint(peer_file: Path) -> str:
    """Fingerprint of the first certificate in a peer file: the pinned node certificate."""
    return pki.fingerprint(pki.load_cert(peer_file))


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
