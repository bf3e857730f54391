"""What peers exchange to witness each other's audit trails, and what each node signs.

A node sends its **head** (``witness == ""``): the count and last hash of its trail with
its own signature (:func:`kizuna.store.audit.head_statement`). A peer that holds it
sends back a **receipt** (``witness`` = the peer): the same head with the peer's
signature over :func:`receipt_statement`, so the trail's owner keeps proof of what the
peer holds, which only the peer's key could have made.
"""

from __future__ import annotations

import re

import msgspec

AUDIT_HEAD = "audit_head"  # the stream's name, and the type a sharing agreement lists

HEAD_KEY = "witness.head."  # + peer id: the newest head we hold of that peer (meta)
RECEIPT_KEY = "witness.receipt."  # + peer id: the newest receipt that peer signed for us

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_SIG = 256  # characters of base64: an ECDSA P-256 DER signature takes at most 96


class Witnessed(msgspec.Struct, frozen=True, kw_only=True):
    subject: str  # the node whose audit trail this head is
    n: int  # entries in its trail
    hash: str  # hash of entry n
    sig: str  # the subject's signature over (n, hash), base64
    witness: str = ""  # "": the subject's own head; else the node that holds it
    at: int = 0  # when the witness first held it, ms since the epoch (its clock)
    receipt: str = ""  # the witness's signature over receipt_statement(self), base64

    def well_formed(self) -> bool:
        return bool(
            _ID.match(self.subject)
            and (not self.witness or _ID.match(self.witness))
            and self.n > 0
            and _HASH.match(self.hash)
            and 0 < len(self.sig) <= MAX_SIG
            and len(self.receipt) <= MAX_SIG
            and (not self.witness or (self.receipt and self.at > 0))
        )


def receipt_statement(item: Witnessed) -> bytes:
    """What a witness signs: it holds ``subject``'s head ``n``/``hash`` since ``at``."""
    return (
        f"kizuna-audit-receipt/1:{item.witness}:{item.subject}:{item.n}:{item.hash}:{item.at}"
    ).encode()


_json = msgspec.json.Decoder(Witnessed)


def encode(item: Witnessed) -> str:
    return msgspec.json.encode(item).decode()


def decode(text: str | bytes) -> Witnessed:
    """Raise ValueError on anything but a well-formed item."""
    try:
        item = _json.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"not a witnessed head: {exc}") from None
    if not item.well_formed():
        raise ValueError("not a well-formed witnessed head")
    return item
