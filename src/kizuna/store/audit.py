"""Tamper-evident audit trail: an append-only JSON-lines file, each entry hash-chained and signed.

Entry n holds ``prev`` (entry n-1's hash), ``hash`` = SHA-256 over its own canonical
content and ``prev``, and ``sig``: the node's ECDSA signature (``node.key`` beside the
trail) over ``n`` and ``hash``. After each append the node signs the **chain head**
``n:hash:sig`` (a different statement: "the trail ends here") and keeps it twice, in
the node's database and in ``audit.head`` beside the trail, so that deleting the last
entries, deleting the database, or rewriting one copy of the head is caught. Without the key nobody can write an entry
or a head that verifies; what an attacker with the key, or with old copies of the
head, can still do is in ``docs/decisions/0008-audit-anchoring.md`` (peers witness
the head against that).

Several processes may append (``kizuna user add`` while the node serves): each append
holds an exclusive lock on the trail and first catches up with entries another
process appended, if they carry the node's signature.

:func:`verify` only reads: the trail, the head file and a head the caller read from
the database (:func:`read_sqlite_meta` opens a SQLite database read-only).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, Protocol

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

log = structlog.get_logger("kizuna.audit")

GENESIS = "0" * 64
KEY_FILE = "node.key"  # the node's key, beside the trail in the node directory
HEAD_RECORD = 256  # bytes of audit.head: the head, padded
UNANCHORED = "audit.unanchored"  # the first entry of a chain restarted for want of a head

Check = Callable[[bytes, bytes], bool]
"""``check(statement, signature)``: whether the node's key made ``signature``."""
Statement = Callable[[int, str], bytes]


def entry_statement(n: int, digest: str) -> bytes:
    """What the node signs for entry ``n`` with hash ``digest`` (its ``sig``)."""
    return f"kizuna-audit-entry/1:{n}:{digest}".encode()


def head_statement(n: int, digest: str) -> bytes:
    """What the node signs to say its trail *ends* at entry ``n`` (the head's signature).

    Distinct from :func:`entry_statement`, so an entry's signature never serves as a head:
    cutting the trail after entry k and writing "k:hash:sig" from its line does not verify."""
    return f"kizuna-audit-head/1:{n}:{digest}".encode()


def head_path(trail: Path) -> Path:
    """The file beside the trail holding its signed head (``audit.head``)."""
    return trail.with_suffix(".head")


def _digest(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k not in ("hash", "sig")}
    canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def signed_by(
    check: Check, n: int, digest: str, sig: object, statement: Statement | None = None
) -> bool:
    """Whether ``sig`` (base64) is the node's signature over ``statement(n, digest)``
    (by default the head's)."""
    if not isinstance(sig, str) or not sig:
        return False
    raw = _unb64(sig)
    return raw is not None and check((statement or head_statement)(n, digest), raw)


class Head(NamedTuple):
    """A chain head: entry count, last hash, and the node's signature over both."""

    n: int
    hash: str
    sig: str = ""

    def render(self) -> str:
        return f"{self.n}:{self.hash}:{self.sig}" if self.sig else f"{self.n}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``n:hash`` (unsigned, as written before heads were signed) or ``n:hash:sig``."""
        parts = text.strip().split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"not a chain head: {text[:80]!r}")
        try:
            n = int(parts[0])
        except ValueError:
            raise ValueError(f"not a chain head: {text[:80]!r}") from None
        if n < 0 or len(parts[1]) != 64:
            raise ValueError(f"not a chain head: {text[:80]!r}")
        return cls(n, parts[1], parts[2] if len(parts) == 3 else "")

    def signed(self, check: Check) -> bool:
        return signed_by(check, self.n, self.hash, self.sig)


class Signer(Protocol):
    """Signs entries and heads, and checks its own signatures."""

    def sign(self, data: bytes) -> bytes: ...

    def check(self, data: bytes, signature: bytes) -> bool: ...


class NodeKey:
    """The node's ECDSA P-256 key (``node.key``) as the trail's signer."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._public = key.public_key()

    @classmethod
    def load(cls, path: Path) -> NodeKey:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return cls(key)

    @classmethod
    def beside(cls, trail: Path) -> NodeKey | None:
        """The key in the trail's directory, if there is one (a node directory)."""
        path = trail.parent / KEY_FILE
        return cls.load(path) if path.exists() else None

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def check(self, data: bytes, signature: bytes) -> bool:
        try:
            self._public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def _last_line(fh: IO[bytes], size: int) -> bytes:
    """The last complete line of the open trail (b"" if none)."""
    chunk = 4096
    while True:
        start = max(0, size - chunk)
        fh.seek(start)
        data = fh.read(size - start)
        body = data[:-1] if data.endswith(b"\n") else data
        cut = body.rfind(b"\n")
        if cut >= 0:
            return body[cut + 1 :]
        if start == 0:
            return body
        chunk *= 4


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


class AuditLog:
    """The node's trail. ``anchor_get``/``anchor_set`` keep the head in the database.

    ``signer`` defaults to ``node.key`` beside the trail (none: entries are unsigned,
    as in unit tests' temporary directories)."""

    def __init__(
        self,
        path: Path,
        anchor_get: Callable[[], str | None],
        anchor_set: Callable[[str], None],
        *,
        signer: Signer | Literal["auto"] | None = "auto",
        head_file: Path | None = None,
    ) -> None:
        self.path = path
        self.head_file = head_file if head_file is not None else head_path(path)
        self._anchor_set = anchor_set
        # The database copy of the head is written outside the trail's locks (a commit
        # waits for the WAL flush: held there, it serialised every append of the node, on
        # every worker), newest first: see :meth:`_anchor`.
        self._anchor_lock = threading.Lock()
        self._anchored = 0  # the count of the newest head this process wrote to the database
        self._newest: tuple[int, str] = (0, "")  # the newest head this process rendered
        self._signer: Signer | None = NodeKey.beside(path) if signer == "auto" else signer
        self._lock = threading.Lock()
        self._size: int | None = None  # the trail's size after our last write (None: unknown)
        head, self._unanchored = self._resume(anchor_get())
        self._count, self._last = head.n, head.hash
        self._head_sig = head.sig  # the head's signature for (_count, _last), "" if not yet

    @property
    def signed(self) -> bool:
        return self._signer is not None

    def _resume(self, stored: str | None) -> tuple[Head, str]:
        """Where the chain continues: the newest head carrying the node's signature.

        An unsigned or forged head is never continued (that would sign over a rewrite);
        with no trustworthy head but a non-empty trail, a new chain starts with an
        ``audit.unanchored`` entry, so the gap stays visible to :func:`verify`."""
        found: list[tuple[str, Head]] = []
        for where, text in (("database", stored), ("audit.head", _read_text(self.head_file))):
            if not text:
                continue
            try:
                found.append((where, Head.parse(text)))
            except ValueError:
                log.warning("malformed audit head ignored", where=where)
        signer = self._signer
        if signer is None:
            return (found[0][1] if found else Head(0, GENESIS)), ""
        good = [h for _, h in found if h.signed(signer.check)]
        if good:
            return max(good, key=lambda h: h.n), ""
        trail = self.path.stat().st_size if self.path.exists() else 0
        if not trail:
            return Head(0, GENESIS), ""
        why = ", ".join(f"{w} head {h.n} not signed by the node key" for w, h in found)
        why = why or "no head in the database nor in audit.head"
        log.warning("audit trail has no signed head: starting a new chain", why=why)
        return Head(0, GENESIS), why

    def head(self) -> Head:
        """The current head (signed when the node has a key), caught up with entries
        other processes appended."""
        with self._lock:
            if self.path.exists():
                with self.path.open("rb") as fh:
                    fcntl.flock(fh, fcntl.LOCK_SH)
                    self._catch_up(fh, os.fstat(fh.fileno()).st_size)
            return self._head()

    def _head(self) -> Head:
        if not self._head_sig and self._signer is not None and self._count:
            raw = self._signer.sign(head_statement(self._count, self._last))
            self._head_sig = _b64(raw)
        return Head(self._count, self._last, self._head_sig)

    def _catch_up(self, fh: IO[bytes], size: int) -> None:
        """Adopt the trail's last entry if another process appended it with our key."""
        if size == self._size or self._unanchored:
            return
        line = _last_line(fh, size)
        self._size = size
        try:
            entry = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return
        if not isinstance(entry, dict):
            return
        n, digest = entry.get("n"), entry.get("hash")
        if not isinstance(n, int) or n <= self._count or digest != _digest(entry):
            return
        signer = self._signer
        sig = entry.get("sig")
        if signer is not None and not signed_by(signer.check, n, digest, sig, entry_statement):
            return  # not ours: never continue a chain over it
        self._count, self._last, self._head_sig = n, digest, ""

    def _entry(self, action: str, actor: str, outcome: str, details: dict[str, Any]) -> bytes:
        entry: dict[str, Any] = {
            "n": self._count + 1,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "action": action,
            "actor": actor,
            "outcome": outcome,
            "details": details,
            "prev": self._last,
        }
        entry["hash"] = _digest(entry)
        if self._signer is not None:
            entry["sig"] = _b64(self._signer.sign(entry_statement(entry["n"], entry["hash"])))
        self._count, self._last, self._head_sig = entry["n"], entry["hash"], ""
        return (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode()

    def append(self, action: str, actor: str, outcome: str, **details: Any) -> None:
        with self._lock, self.path.open("a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            size = os.fstat(fh.fileno()).st_size
            self._catch_up(fh, size)
            out = b""
            if size and _ends_without_newline(fh, size):
                out += b"\n"  # a write cut short: keep the next entries on lines of their own
            if self._unanchored:
                out += self._entry(UNANCHORED, "node", "warning", {"reason": self._unanchored})
                self._unanchored = ""
            out += self._entry(action, actor, outcome, details)
            fh.write(out)
            fh.flush()
            self._size = size + len(out)
            head = self._head().render()
            self._write_head(head)
            n = self._count
            if n > self._newest[0]:
                self._newest = (n, head)
        self._anchor(n)

    def _anchor(self, n: int) -> None:
        """Return once the database holds a head of this process covering entry ``n``.

        Appends of several threads wait here together, and the first to get the lock
        writes the newest head of them all: one commit covers every entry appended
        meanwhile (the trail file and ``audit.head`` had each one at once). A head is
        never written over a newer one of this process."""
        with self._anchor_lock:
            if self._anchored >= n:
                return  # a newer head, covering ours, is in the database already
            with self._lock:
                count, head = self._newest
            try:
                self._anchor_set(head)
            except Exception as exc:  # e.g. SQLite busy past its timeout on a loaded node
                # The entry is in the trail and audit.head already, and the write it
                # records has been done: the next append anchors a newer head.
                log.warning("audit anchor not written", entry=n, error=str(exc))
                return
            self._anchored = count

    def _write_head(self, head: str) -> None:
        # Overwritten in place, one block of fixed size (a rename per append costs a
        # millisecond on some filesystems); a write torn by a crash leaves a malformed
        # copy, which the next append rewrites and which the database copy outlives.
        record = (head.ljust(HEAD_RECORD - 1) + "\n").encode()
        fd = os.open(self.head_file, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, record, 0)
            os.ftruncate(fd, len(record))
        finally:
            os.close(fd)


def _ends_without_newline(fh: IO[bytes], size: int) -> bool:
    fh.seek(size - 1)
    return fh.read(1) != b"\n"


# -- verification (reads only) -------------------------------------------------------------


class Witness(NamedTuple):
    """A head someone else holds of this trail (a peer), already checked as theirs."""

    source: str  # e.g. "peer aus (witnessed 2025-01-01T00:00:00Z)"
    n: int
    hash: str


def verify(
    path: Path,
    anchor: str | None,
    *,
    head_file: Path | None = None,
    check: Check | None = None,
    witnesses: Sequence[Witness] = (),
) -> tuple[bool, str]:
    """Check the chain; returns (ok, message naming the first bad entry).

    ``anchor`` is the head read from the database (None: none there); ``head_file``
    the head's copy beside the trail. With ``check`` (the node certificate's key),
    every entry and every head must carry the node's signature and at least one head
    must exist. ``witnesses`` are heads peers hold: each must match the trail."""
    strict = check is not None or head_file is not None
    heads: list[tuple[str, Head]] = []
    head_problem = ""  # reported after the trail's own problems, which name an entry
    sources = [("the database", anchor)]
    if head_file is not None:
        sources.append(("audit.head", _read_text(head_file)))
    for where, text in sources:  # heads first: an append while we read the trail is fine
        if not text:
            continue
        try:
            head = Head.parse(text)
        except ValueError:
            head_problem = head_problem or f"the chain head in {where} is malformed (rewritten)"
            continue
        if check is not None and not head.signed(check):
            head_problem = head_problem or (
                f"the chain head in {where} ({head.n} entries) is not signed by the "
                "node's key (rewritten without the key)"
            )
            continue
        heads.append((where, head))
    wanted = {h.n for _, h in heads} | {w.n for w in witnesses}
    hash_at: dict[int, str] = {0: GENESIS}
    prev, count = GENESIS, 0
    if path.exists():
        with path.open(encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                entry, bad = _check_entry(line, lineno, prev, check)
                if bad:
                    return False, bad
                prev, count = entry["hash"], lineno
                if lineno in wanted:
                    hash_at[lineno] = prev
    if head_problem:
        return False, head_problem
    if strict and not heads and count:
        return (
            False,
            f"no chain head: neither the database nor audit.head records one, so the trail's "
            f"{count} entries are not anchored (database or head file deleted, trail "
            "possibly truncated)",
        )
    for where, head in heads:
        if head.n > count:
            return (
                False,
                f"entry {count + 1}: the trail ends at entry {count} but the head in {where} "
                f"records {head.n} entries (entries deleted from the end)",
            )
        if hash_at.get(head.n) != head.hash:
            return (
                False,
                f"entry {head.n}: does not match the head in {where} (the trail up to it "
                "was rewritten, or the head replaced)",
            )
    top = max((h.n for _, h in heads), default=count)
    if top < count and check is None:
        return (
            False,
            f"entry {top + 1}: not recorded in the node's head (appended outside the node)",
        )
    for w in witnesses:
        if w.n > count:
            return (
                False,
                f"entry {count + 1}: {w.source} held {w.n} entries but the trail ends at "
                f"entry {count} (entries deleted or rolled back)",
            )
        if hash_at.get(w.n) != w.hash:
            return (
                False,
                f"entry {w.n}: differs from what {w.source} holds (the trail was rewritten "
                f"at or before entry {w.n})",
            )
    message = f"audit log intact: {count} entries"
    if check is not None:
        message += ", each signed by the node's key"
    if top < count:
        message += f" ({count - top} after the last recorded head: an append was interrupted)"
    if head_file is not None and len(heads) == 1 and count:
        missing = "audit.head" if heads[0][0] == "the database" else "the database"
        message += f"; the head is missing from {missing} (deleted?), the other copy holds"
    if witnesses:
        message += "; matches " + ", ".join(w.source for w in witnesses)
    return True, message


def _check_entry(
    line: str, lineno: int, prev: str, check: Check | None
) -> tuple[dict[str, Any], str]:
    """Line ``lineno`` as an entry, and why it is not a valid next entry ("" when it is)."""
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return {}, f"entry {lineno}: not valid JSON"
    if not isinstance(entry, dict):
        return {}, f"entry {lineno}: not an audit entry"
    return entry, _entry_problem(entry, lineno, prev, check)


def _entry_problem(entry: dict[str, Any], lineno: int, prev: str, check: Check | None) -> str:
    n = entry.get("n")
    if n != lineno:
        if n == 1 and entry.get("action") == UNANCHORED:
            return (
                f"entry {lineno}: the node found no signed head and started a new chain "
                f"here ({entry.get('details', {}).get('reason', '')}): the database or "
                "audit.head was deleted or rewritten"
            )
        return (
            f"entry {lineno}: sequence number {n!r}, expected {lineno} "
            "(an entry was deleted or reordered)"
        )
    if entry.get("prev") != prev:
        return f"entry {lineno}: chain broken (previous entry altered or deleted)"
    digest = entry.get("hash")
    if digest != _digest(entry):
        return f"entry {lineno}: content altered (hash mismatch)"
    sig = entry.get("sig")
    if check is not None and not signed_by(check, lineno, str(digest), sig, entry_statement):
        what = "signature does not verify" if entry.get("sig") else "not signed"
        return (
            f"entry {lineno}: {what} with the node's key (written outside the node, "
            "or by a release before signed trails)"
        )
    return ""


def read_sqlite_meta(db: Path, keys: Sequence[str] = (), prefix: str = "") -> dict[str, str]:
    """Values of ``keys`` (and of keys starting with ``prefix``) in a node's SQLite
    database, opened read-only: nothing is created, migrated or written.

    Raises FileNotFoundError when the database does not exist."""
    if not db.is_file():
        raise FileNotFoundError(f"no database at {db}")
    # A checkpointed database (no -wal file: the node is stopped) opens immutable, which
    # creates no -wal/-shm files; a live one read-only, through the node's own -wal.
    wal = db.with_name(db.name + "-wal")
    mode = "ro" if wal.exists() else "ro&immutable=1"
    uri = f"file:{db.resolve().as_posix()}?mode={mode}"
    out: dict[str, str] = {}
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        try:
            for key in keys:
                row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    out[key] = str(row[0])
            if prefix:
                rows = conn.execute(
                    "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?",
                    (len(prefix), prefix),
                ).fetchall()
                out.update({str(k): str(v) for k, v in rows})
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return out  # a database without metadata: no head recorded
            raise
    return out
