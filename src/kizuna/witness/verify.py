"""What peers witnessed of this node's trail, as evidence for ``kizuna audit verify``.

Each peer's evidence is a receipt signed by the peer over a head signed by this node:
asked of the peer over the federation link when a ``fetch`` is given and the peer
answers, and the newest receipt the peer sent us (kept in this node's metadata). A
receipt whose signatures do not verify is forged; a peer with no receipt cannot confirm
the trail (an attacker may have deleted it), which the caller reports as unverified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from kizuna.kernel import pki
from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig
from kizuna.store.audit import Witness
from kizuna.witness.models import AUDIT_HEAD, RECEIPT_KEY, Witnessed, decode
from kizuna.witness.service import check_head, check_receipt

Fetch = Callable[[PeerConfig], Witnessed | None]
"""Ask a peer for its receipt of our head; None: it holds none. Raises OSError or
ValueError when the peer cannot be asked (down, or no such route yet)."""


class Evidence(NamedTuple):
    witnesses: list[Witness]  # heads peers hold, each checked as signed by them and by us
    forged: list[str]  # receipts whose signatures do not verify
    unconfirmed: list[str]  # peers with no usable receipt
    notes: list[str]  # peers that could not be asked live


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def peer_evidence(
    node_dir: NodeDir,
    config: NodeConfig,
    stored: Mapping[str, str],
    fetch: Fetch | None = None,
) -> Evidence:
    own = pki.load_cert(node_dir.node_cert)
    out = Evidence([], [], [], [])
    for peer in config.peers:
        pid = peer.peer_id
        path = node_dir.peers / f"{pid}.pem"
        if not path.is_file():
            out.unconfirmed.append(f"peer {pid}: no certificate at {path}")
            continue
        cert = pki.load_cert(path)
        found: list[tuple[str, Witnessed]] = []
        if fetch is not None:
            try:
                live = fetch(peer)
            except (OSError, ValueError) as exc:
                out.notes.append(f"peer {pid}: not asked live ({str(exc)[:160]})")
            else:
                if live is not None:
                    found.append(("asked now", live))
        text = stored.get(RECEIPT_KEY + pid)
        if text:
            try:
                found.append(("its last receipt", decode(text)))
            except ValueError:
                out.forged.append(f"peer {pid}: the stored receipt is malformed (forged)")
        usable = 0
        for how, item in found:
            if item.witness != pid or item.subject != config.node_id:
                out.forged.append(f"peer {pid}: {how}: a receipt for another node or witness")
            elif not check_receipt(cert, item):
                out.forged.append(f"peer {pid}: {how}: the receipt is not signed by {pid}")
            elif not check_head(own, item):
                out.forged.append(f"peer {pid}: {how}: the head is not signed by this node")
            else:
                usable += 1
                out.witnesses.append(
                    Witness(
                        f"peer {pid} ({how}: {item.n} entries, held since {_iso(item.at)})",
                        item.n,
                        item.hash,
                    )
                )
        if not usable and not any(f.startswith(f"peer {pid}:") for f in out.forged):
            out.unconfirmed.append(
                f"peer {pid}: holds no witnessed head of this node as far as we can tell "
                f"(never exchanged: does the agreement list {AUDIT_HEAD!r}? or the receipt "
                "was deleted here)"
            )
    return out
