"""The witness: sends this node's signed audit head, holds peers' heads, issues receipts.

State lives in the node's metadata: ``witness.head.<peer>`` (the newest head of that
peer we hold, as the peer signed it) and ``witness.receipt.<peer>`` (the newest receipt
that peer signed for our head). A held head only moves forward: a head of a peer with
fewer entries than we hold, or the same count and another hash, is refused, counted
and audited once (the peer's trail was rolled back or rewritten).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import structlog
from cryptography import x509

from kizuna.core.labels import Classification, Label
from kizuna.kernel import pki
from kizuna.kernel.config import NodeDir
from kizuna.kernel.context import NodeContext
from kizuna.store.audit import signed_by
from kizuna.witness.models import (
    HEAD_KEY,
    RECEIPT_KEY,
    Witnessed,
    decode,
    encode,
    receipt_statement,
)

log = structlog.get_logger("kizuna.witness")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def check_receipt(cert: x509.Certificate, item: Witnessed) -> bool:
    """Whether the witness named in ``item`` (holder of ``cert``) signed its receipt."""
    raw = _unb64(item.receipt) if item.receipt else None
    return raw is not None and pki.verify_signature(cert, receipt_statement(item), raw)


def check_head(cert: x509.Certificate, item: Witnessed) -> bool:
    """Whether the subject (holder of ``cert``) signed the head in ``item``."""
    return signed_by(pki.signature_check(cert), item.n, item.hash, item.sig)


class WitnessService:
    def __init__(
        self,
        ctx: NodeContext,
        *,
        interval: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ctx = ctx
        self.node_id = ctx.node_id
        self.interval = interval
        self.clock = clock
        self.dir = NodeDir(ctx.root)
        self.meta = ctx.backend.meta
        self._key = pki.load_key(self.dir.node_key) if self.dir.node_key.exists() else None
        self._cert = pki.load_cert(self.dir.node_cert) if self.dir.node_cert.exists() else None
        self._peer_certs: dict[str, x509.Certificate | None] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._items: dict[tuple[str, str], tuple[int, Witnessed]] = {}
        self._callbacks: list[Callable[[], None]] = []
        self._refused: dict[str, tuple[str, int, str]] = {}  # last audited refusal per peer
        # After a restart, receipts for the heads we hold go out again (signed anew).
        for peer in self._known_peers():
            held = self.held(peer)
            if held is not None:
                self._issue_receipt(held, at=held.at)
        self.refresh()

    # -- identities ---------------------------------------------------------------
    def _known_peers(self) -> list[str]:
        peers: Path = self.dir.peers
        return sorted(p.stem for p in peers.glob("*.pem")) if peers.is_dir() else []

    def peer_cert(self, peer_id: str) -> x509.Certificate | None:
        if peer_id not in self._peer_certs:
            path = self.dir.peers / f"{peer_id}.pem"
            self._peer_certs[peer_id] = pki.load_cert(path) if path.is_file() else None
        return self._peer_certs[peer_id]

    def nation_of(self, node_id: str) -> str | None:
        if node_id == self.node_id:
            return self.ctx.nation
        cert = self.peer_cert(node_id)
        nation = pki.identity_of(cert).nation if cert is not None else ""
        return nation or None

    # -- what we send -------------------------------------------------------------
    def _put(self, key: tuple[str, str], item: Witnessed) -> None:
        with self._lock:
            self._seq += 1
            self._items[key] = (self._seq, item)
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def refresh(self) -> bool:
        """Offer the trail's current head if it changed and is signed; True if it did."""
        if self._key is None:
            return False
        head = self.ctx.audit.head()
        if not head.sig or head.n <= 0:
            return False
        with self._lock:
            current = self._items.get(("head", self.node_id))
        if current is not None and (current[1].n, current[1].hash) == (head.n, head.hash):
            return False
        self._put(
            ("head", self.node_id),
            Witnessed(subject=self.node_id, n=head.n, hash=head.hash, sig=head.sig),
        )
        return True

    def changes_since(self, cursor: int, limit: int) -> tuple[list[Witnessed], int]:
        with self._lock:
            fresh = sorted((seq, item) for seq, item in self._items.values() if seq > cursor)
        fresh = fresh[:limit]
        return [item for _, item in fresh], (fresh[-1][0] if fresh else cursor)

    def on_change(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def label(self, item: Witnessed) -> Label:
        """A head goes to every peer of the agreement; a receipt only to the subject's
        nation (an unknown subject: to none but our own)."""
        if not item.witness:
            return unclassified(self.nation_of(item.subject) or self.ctx.nation)
        nation = self.nation_of(item.subject)
        rel = {nation} if nation else set()
        origin = self.nation_of(item.witness) or self.ctx.nation
        return Label(
            classification=Classification.UNCLASSIFIED,
            rel_to=frozenset(rel | {origin}),
            originator=origin,
        )

    def _signed_receipt(self, held: Witnessed, at: int) -> Witnessed | None:
        if self._key is None:
            return None
        draft = msgspec.structs.replace(held, witness=self.node_id, at=at, receipt="")
        sig = pki.sign(self._key, receipt_statement(draft))
        return msgspec.structs.replace(draft, receipt=base64.b64encode(sig).decode("ascii"))

    def _issue_receipt(self, held: Witnessed, *, at: int) -> None:
        receipt = self._signed_receipt(held, at or int(self.clock() * 1000))
        if receipt is not None:
            self._put(("receipt", held.subject), receipt)

    # -- what we hold --------------------------------------------------------------
    def held(self, peer_id: str) -> Witnessed | None:
        return _load(self.meta.meta_get(HEAD_KEY + peer_id))

    def receipt(self, peer_id: str) -> Witnessed | None:
        """The newest receipt ``peer_id`` signed for our head."""
        return _load(self.meta.meta_get(RECEIPT_KEY + peer_id))

    def answer(self, peer_id: str) -> Witnessed | None:
        """What ``peer_id`` asks of us over the federation link: a receipt, signed now, for
        the newest head of its trail that we hold (None: we hold none)."""
        held = self.held(peer_id)
        return self._signed_receipt(held, held.at) if held is not None else None

    def accept(self, peer_id: str, items: list[Witnessed]) -> int:
        """Keep the peer's newest head and its newest receipt for us from a batch.

        Only those two items are checked (signatures cost CPU, a batch may hold many);
        receipts the peer issued to other nodes are not ours to keep."""
        malformed = [i for i in items if not i.well_formed()]
        if malformed:
            self._refuse(peer_id, "witness_malformed", malformed[0], items=len(malformed))
        good = [i for i in items if i.well_formed()]
        heads = [i for i in good if not i.witness and i.subject == peer_id]
        receipts = [i for i in good if i.witness == peer_id and i.subject == self.node_id]
        applied = 0
        if heads:
            applied += self._hold(peer_id, max(heads, key=lambda i: i.n))
        if receipts:
            applied += self._take_receipt(peer_id, max(receipts, key=lambda i: (i.n, i.at)))
        return applied

    def _refuse(self, peer_id: str, reason: str, item: Witnessed, **details: object) -> None:
        """Count every refusal; audit each distinct one once (a peer resending the same
        bad head every round must not grow our trail)."""
        self.ctx.metrics.federation_violations.labels(peer_id, reason).inc()
        seen = (reason, item.n, item.hash)
        if self._refused.get(peer_id) == seen:
            return
        self._refused[peer_id] = seen
        self.ctx.audit.append(
            "witness.receive",
            f"node:{peer_id}",
            "refused",
            reason=reason,
            subject=item.subject[:64],
            n=item.n,
            hash=item.hash[:64],
            **details,
        )
        log.warning("witness refused", peer=peer_id, reason=reason, n=item.n, **details)

    def _hold(self, peer_id: str, item: Witnessed) -> int:
        cert = self.peer_cert(peer_id)
        if cert is None or not check_head(cert, item):
            self._refuse(peer_id, "witness_bad_signature", item)
            return 0
        held = self.held(peer_id)
        if held is not None:
            if (item.n, item.hash) == (held.n, held.hash):
                return 0
            if item.n <= held.n:
                self._refuse(
                    peer_id,
                    "witness_rollback" if item.n < held.n else "witness_fork",
                    item,
                    held_n=held.n,
                    held_hash=held.hash,
                )
                return 0
        stamp = int(self.clock() * 1000)
        kept = Witnessed(subject=item.subject, n=item.n, hash=item.hash, sig=item.sig, at=stamp)
        self.meta.meta_set(HEAD_KEY + peer_id, encode(kept))
        self._issue_receipt(kept, at=stamp)
        return 1

    def _take_receipt(self, peer_id: str, item: Witnessed) -> int:
        cert = self.peer_cert(peer_id)
        if cert is None or not check_receipt(cert, item):
            self._refuse(peer_id, "witness_bad_receipt", item)
            return 0
        if self._cert is None or not check_head(self._cert, item):
            self._refuse(peer_id, "witness_bad_receipt", item, why="head not signed by us")
            return 0
        stored = self.receipt(peer_id)
        if stored is not None and (item.n, item.at) <= (stored.n, stored.at):
            return 0
        self.meta.meta_set(RECEIPT_KEY + peer_id, encode(item))
        return 1

    async def run(self) -> None:
        """Offer the head again whenever the trail moved, every ``interval`` seconds."""
        while True:
            try:
                self.refresh()
            except Exception:  # a bad moment on disk must not end the witness
                log.exception("witness refresh failed")
            await asyncio.sleep(self.interval)


def unclassified(nation: str) -> Label:
    return Label(classification=Classification.UNCLASSIFIED, originator=nation)


def _load(text: str | None) -> Witnessed | None:
    if not text:
        return None
    try:
        return decode(text)
    except ValueError:
        return None
