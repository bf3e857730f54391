"""The audit trail against an attacker who can write the node's files but lacks its key.

Each test runs `kizuna audit verify` on a real node directory, as an operator would,
after tampering with the files as an attacker would (the trail, ``audit.head``, the
database). Entries are written in-process through the node's own audit log.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kizuna.store.audit import GENESIS
from tests.nodes import kizuna, make_node_dir

if TYPE_CHECKING:
    from kizuna.store.audit import AuditLog, NodeKey

ANCHOR = "audit_head"


def head_file(d: Path) -> Path:
    """The copy of the signed head beside the trail."""
    return d / "audit.head"


# -- what the attacker can do without the key -------------------------------------------------


def digest(entry: dict[str, Any]) -> str:
    """The trail's hash, as anyone reading the format can compute it."""
    body = {k: v for k, v in entry.items() if k not in ("hash", "sig")}
    canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def read(d: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (d / "audit.log").read_text().splitlines()]


def write(d: Path, entries: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries)
    (d / "audit.log").write_text(text)


def rechain(entries: list[dict[str, Any]], start: int) -> None:
    """Recompute prev and hash from index ``start`` on (signatures cannot be made)."""
    prev = entries[start - 1]["hash"] if start else GENESIS
    for entry in entries[start:]:
        entry["prev"] = prev
        entry["hash"] = prev = digest(entry)


def db_head(d: Path) -> str | None:
    with sqlite3.connect(d / "kizuna.db") as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (ANCHOR,)).fetchone()
    return None if row is None else str(row[0])


def set_db_head(d: Path, value: str | None) -> None:
    conn = sqlite3.connect(d / "kizuna.db")
    with conn:
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (ANCHOR,))
        else:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (ANCHOR, value))
    conn.close()


def delete_db(d: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (d / f"kizuna.db{suffix}").unlink(missing_ok=True)


def audit_verify(d: Path) -> tuple[int, str]:
    res = kizuna("audit", "verify", "--dir", str(d), check=False)
    return res.returncode, res.stdout + res.stderr


def append(d: Path, count: int, start: int = 0) -> None:
    """``count`` entries through the node's own audit log, as its services write them."""
    from kizuna.node.runtime import Node

    node = Node(d, domains=[])
    try:
        for i in range(start, start + count):
            node.audit.append("test.entry", "tester", "ok", i=i)
    finally:
        node.close()


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return make_node_dir(tmp_path / "n", "usfj", "USA")


@pytest.fixture
def trail(node_dir: Path) -> Path:
    """A node directory whose trail holds 24 entries."""
    append(node_dir, 24)
    return node_dir


def snapshot(d: Path) -> dict[str, tuple[int, int, str]]:
    return {
        str(p.relative_to(d)): (p.stat().st_size, p.stat().st_mtime_ns, _sha(p))
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# -- finding 9, as the issue states it ---------------------------------------------------------


def test_verify_writes_nothing_and_fails_clearly_without_a_database(node_dir: Path) -> None:
    before = snapshot(node_dir)
    code, out = audit_verify(node_dir)
    assert code != 0 and "no database" in out, out
    assert not (node_dir / "kizuna.db").exists()
    assert snapshot(node_dir) == before

    append(node_dir, 3)
    before = snapshot(node_dir)
    code, out = audit_verify(node_dir)
    assert code == 0 and "3 entries" in out, out
    assert snapshot(node_dir) == before  # no -wal/-shm left behind, no byte changed


def test_a_forged_append_is_named_by_its_own_number(trail: Path) -> None:
    entries = read(trail)
    forged = {
        "n": 25,
        "at": entries[-1]["at"],
        "action": "user.add",
        "actor": "cli",
        "outcome": "ok",
        "details": {"name": "mallory", "clearance": "TOP SECRET"},
        "prev": entries[-1]["hash"],
    }
    forged["hash"] = digest(forged)
    write(trail, [*entries, forged])
    code, out = audit_verify(trail)
    assert code == 1, out
    assert "entry 25" in out and "entry 26" not in out, out


def test_a_head_rewritten_in_the_database_without_the_key_is_detected(trail: Path) -> None:
    entries = read(trail)
    entries[9]["details"] = {"i": 9, "note": "nothing happened here"}
    for entry in entries[9:]:
        entry.pop("sig", None)  # the attacker cannot sign: leave none rather than stale ones
    rechain(entries, 9)
    write(trail, entries)
    head = f"24:{entries[-1]['hash']}"
    set_db_head(trail, head)
    head_file(trail).write_text(head + "\n")
    code, out = audit_verify(trail)
    assert code == 1, out
    assert "entry 10: not signed" in out, out


def test_a_head_taken_from_an_entry_does_not_anchor_a_cut_trail(trail: Path) -> None:
    """Each entry carries a signature, but not one that says "the trail ends here"."""
    entries = read(trail)[:20]
    write(trail, entries)
    head = f"20:{entries[-1]['hash']}:{entries[-1]['sig']}"
    set_db_head(trail, head)
    head_file(trail).write_text(head + "\n")
    code, out = audit_verify(trail)
    assert code == 1 and "not signed" in out, out


def test_deleting_the_database_and_truncating_the_trail_does_not_verify(trail: Path) -> None:
    write(trail, read(trail)[:20])
    delete_db(trail)
    code, out = audit_verify(trail)
    assert code != 0, out
    assert not (trail / "kizuna.db").exists()

    # The node starts again (a fresh database): it continues from the head in audit.head,
    # so the cut stays visible.
    append(trail, 1, start=100)
    code, out = audit_verify(trail)
    assert code == 1 and "entry 21" in out, out


def test_deleting_both_heads_and_truncating_does_not_verify(trail: Path) -> None:
    write(trail, read(trail)[:20])
    set_db_head(trail, None)
    head_file(trail).unlink()
    code, out = audit_verify(trail)
    assert code == 1 and "no chain head" in out, out

    delete_db(trail)
    append(trail, 1, start=100)  # the node finds no signed head: it does not adopt the cut
    code, out = audit_verify(trail)
    assert code == 1 and "entry 21" in out and "no signed head" in out, out


def test_one_deleted_copy_of_the_head_is_named(trail: Path) -> None:
    head_file(trail).unlink()
    code, out = audit_verify(trail)
    assert code == 0 and "missing from audit.head" in out, out


def test_one_rewritten_copy_of_the_head_is_caught(trail: Path) -> None:
    good = head_file(trail).read_text()
    head_file(trail).write_text("24:" + "f" * 64 + "\n")
    code, out = audit_verify(trail)
    assert code == 1 and "audit.head" in out, out
    head_file(trail).write_text(good)
    set_db_head(trail, "3:" + "e" * 64)
    code, out = audit_verify(trail)
    assert code == 1 and "database" in out, out


# -- the trail stays one chain when it is written as nodes write it --------------------------


def test_two_processes_appending_keep_one_chain(node_dir: Path) -> None:
    """`kizuna user add` appends while the node serves: two audit logs on one trail."""
    from kizuna.node.runtime import Node

    serving = Node(node_dir, domains=[])
    try:
        serving.audit.append("serve.a", "node", "ok")
        append(node_dir, 2)  # another process
        serving.audit.append("serve.b", "node", "ok")
        append(node_dir, 1, start=2)
        serving.audit.append("serve.c", "node", "ok")
    finally:
        serving.close()
    code, out = audit_verify(node_dir)
    assert code == 0 and "6 entries" in out, out
    assert [e["n"] for e in read(node_dir)] == [1, 2, 3, 4, 5, 6]


def test_an_append_cut_short_before_its_head_is_continued(trail: Path) -> None:
    """A crash between writing the entry and its heads: the entry is the node's (signed)."""
    log_head = head_file(trail)
    saved_file, saved_db = log_head.read_text(), db_head(trail)
    append(trail, 1, start=24)
    log_head.write_text(saved_file)
    set_db_head(trail, saved_db)
    code, out = audit_verify(trail)
    assert code == 0 and "25 entries" in out and "interrupted" in out, out
    append(trail, 1, start=25)
    code, out = audit_verify(trail)
    assert code == 0 and "26 entries" in out, out


def test_verify_needs_the_node_certificate(trail: Path) -> None:
    (trail / "node.pem").unlink()
    code, out = audit_verify(trail)
    assert code == 2 and "certificate" in out, out


# -- the audit log itself ----------------------------------------------------------------------


def _key() -> NodeKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    from kizuna.store.audit import NodeKey

    return NodeKey(ec.generate_private_key(ec.SECP256R1()))


def _log(tmp_path: Path, store: dict[str, str], key: NodeKey | None) -> AuditLog:
    from kizuna.store.audit import AuditLog

    return AuditLog(
        tmp_path / "audit.log",
        lambda: store.get("head"),
        lambda h: store.__setitem__("head", h),
        signer=key,
    )


def test_heads_parse_and_render() -> None:
    from kizuna.store.audit import Head

    head = Head(3, "a" * 64, "c2ln")
    assert Head.parse(head.render()) == head
    assert Head.parse(f"3:{'a' * 64}") == Head(3, "a" * 64)
    for bad in ("", "3", "x:" + "a" * 64, "3:abc", f"-1:{'a' * 64}", "1:2:3:4"):
        with pytest.raises(ValueError):
            Head.parse(bad)


def test_unsigned_logs_verify_against_their_anchor_as_before(tmp_path: Path) -> None:
    from kizuna.store.audit import head_path, verify

    store: dict[str, str] = {}
    log = _log(tmp_path, store, None)
    for i in range(5):
        log.append("x", "y", "ok", i=i)
    path = tmp_path / "audit.log"
    assert "sig" not in path.read_text()
    assert verify(path, store["head"]) == (True, "audit log intact: 5 entries")
    assert verify(path, store["head"], head_file=head_path(path))[0]
    ok, message = verify(path, "4:" + json.loads(path.read_text().splitlines()[3])["hash"])
    assert not ok and message.startswith("entry 5:"), message


def test_a_signed_log_never_continues_over_an_unsigned_head(tmp_path: Path) -> None:
    from kizuna.store.audit import head_path, verify

    key = _key()
    store: dict[str, str] = {}
    log = _log(tmp_path, store, key)
    for i in range(10):
        log.append("x", "y", "ok", i=i)
    path = tmp_path / "audit.log"
    lines = path.read_text().splitlines()[:6]
    path.write_text("\n".join(lines) + "\n")
    cut = json.loads(lines[-1])
    store["head"] = f"6:{cut['hash']}"  # the attacker's head: right numbers, no signature
    head_path(path).unlink()
    again = _log(tmp_path, store, key)
    again.append("x", "y", "ok", after="cut")
    ok, message = verify(path, store["head"], head_file=head_path(path), check=key.check)
    assert not ok and message.startswith("entry 7:") and "no signed head" in message, message


def test_witnessed_heads_must_match_the_trail(tmp_path: Path) -> None:
    from kizuna.store.audit import Witness, head_path, verify

    key = _key()
    store: dict[str, str] = {}
    log = _log(tmp_path, store, key)
    for i in range(8):
        log.append("x", "y", "ok", i=i)
    path = tmp_path / "audit.log"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    good = Witness("peer aus", 5, entries[4]["hash"])
    args: dict[str, Any] = {"head_file": head_path(path), "check": key.check}
    ok, message = verify(path, store["head"], witnesses=[good], **args)
    assert ok and "matches peer aus" in message, message
    ok, message = verify(path, store["head"], witnesses=[Witness("peer aus", 5, "0" * 64)], **args)
    assert not ok and message.startswith("entry 5:") and "peer aus" in message, message
    ok, message = verify(path, store["head"], witnesses=[Witness("peer aus", 9, "0" * 64)], **args)
    assert not ok and message.startswith("entry 9:") and "rolled back" in message, message


def test_a_copied_node_directory_keeps_verifying(trail: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(trail, copy)
    code, out = audit_verify(copy)
    assert code == 0 and "24 entries" in out, out
