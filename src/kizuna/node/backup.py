"""Backups of a node: one archive holding its directory and a consistent copy of its store.

``backup`` writes a gzipped tar: every file of the node directory (configuration, keys,
certificates, peers, the audit trail), the store (SQLite: the online backup API, so a
serving node is copied consistently; PostgreSQL: ``pg_dump`` of the node's schema) and
``MANIFEST.json`` — each member's SHA-256 and the node's **content digest** (below).
``restore`` unpacks into a new directory (refusing a used one, and any member that is not
a plain file inside it), checks every member against the manifest, loads the store and
compares the restored node's content digest with the manifest's: a restore that does
not give the same node fails.

The content digest is a SHA-256 over the event log in log order (each event's origin,
seq, record type, id, operation, label and payload) and the users (name, nation,
clearance, roles, groups, token hash): what the node holds, whatever the store's files
look like.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from kizuna.kernel.config import NodeDir

MANIFEST = "MANIFEST.json"
FORMAT = "kizuna-backup/1"
SQLITE_MEMBER = "store/kizuna.db"
PG_MEMBER = "store/schema.pgdump"
_SKIP = {"kizuna.db", "kizuna.db-wal", "kizuna.db-shm", "node.log"}
_PAGE = 5000

Progress = Callable[[str, int, int], None]  # (step, done, total)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


def _quiet(_step: str, _done: int, _total: int) -> None:
    return None


# -- the content digest ---------------------------------------------------------------


def content_digest(node: Any) -> str:
    """SHA-256 over what an opened node holds: its events in log order and its users."""
    h = hashlib.sha256()
    enc = msgspec.json.Encoder(order="sorted")
    position = 0
    while True:
        page = node.events.events_after(position, _PAGE)
        if not page:
            break
        for position, event in page:  # noqa: B007 - the last one is the next page's start
            h.update(
                enc.encode(
                    [
                        event.origin,
                        event.seq,
                        event.record_type,
                        event.record_id,
                        event.op,
                        event.label,
                        event.payload,
                    ]
                )
            )
    users = sorted(node.backend.users.all_users(), key=lambda u: u.name)
    for user in users:
        h.update(
            enc.encode(
                [
                    user.name,
                    user.nation,
                    user.clearance,
                    sorted(user.roles),
                    sorted(user.groups),
                    user.token_hash,
                ]
            )
        )
    return h.hexdigest()


# -- backup ---------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy_sqlite(source: Path, target: Path, progress: Progress) -> None:
    """SQLite's online backup: a consistent copy while the node keeps writing."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(
            dst,
            pages=1024,
            progress=lambda _status, remaining, total: progress("store", total - remaining, total),
        )
    finally:
        dst.close()
        src.close()


def _pg_dump(url: str, target: Path) -> None:
    from kizuna.store.postgres_backend import parse_url

    settings = parse_url(url)
    out = subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--schema={settings.schema}",
            f"--file={target}",
            f"--dbname={settings.conninfo}",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if out.returncode != 0:
        raise BackupError(f"pg_dump failed: {' '.join(out.stderr.split())}")


def backup(root: Path, out: Path, node: Any, progress: Progress = _quiet) -> dict[str, Any]:
    """Write the archive ``out`` of the node in ``root`` (opened as ``node``, which may be
    serving in another process) and return its manifest."""
    nd = NodeDir(root)
    config = nd.load()
    store = config.store or "sqlite"
    with tempfile.TemporaryDirectory(prefix="kizuna-backup-") as tmp:
        staged = Path(tmp)
        members: dict[str, Path] = {}
        files = sorted(
            p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in _SKIP
        )
        for path in files:
            members[path.relative_to(root).as_posix()] = path
        if store.startswith(("postgresql://", "postgres://")):
            progress("store", 0, 1)
            _pg_dump(store, staged / "schema.pgdump")
            members[PG_MEMBER] = staged / "schema.pgdump"
            progress("store", 1, 1)
        else:
            _copy_sqlite(nd.db, staged / "kizuna.db", progress)
            members[SQLITE_MEMBER] = staged / "kizuna.db"
        digest = content_digest(node)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "node_id": config.node_id,
            "nation": config.nation,
            "store": "postgresql" if PG_MEMBER in members else "sqlite",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "content_digest": digest,
            "files": {},
        }
        total = len(members)
        for i, (name, path) in enumerate(sorted(members.items()), 1):
            manifest["files"][name] = {"sha256": _sha256(path), "size": path.stat().st_size}
            progress("hash", i, total)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for i, (name, path) in enumerate(sorted(members.items()), 1):
                tar.add(path, arcname=name, recursive=False)
                progress("write", i, total)
        os.chmod(partial, 0o600)  # it holds the node's private keys
        partial.replace(out)
    return manifest


# -- restore --------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise BackupError(f"{archive}: no {MANIFEST}")
            manifest: dict[str, Any] = json.loads(member.read())
    except (tarfile.TarError, OSError, KeyError, ValueError) as exc:
        raise BackupError(f"{archive} is not a Kizuna backup: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
    return manifest


def _unpack(archive: Path, target: Path, manifest: dict[str, Any], progress: Progress) -> None:
    expected: dict[str, dict[str, Any]] = manifest["files"]
    seen: set[str] = set()
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name != MANIFEST]
        for i, member in enumerate(members, 1):
            name = member.name
            parts = Path(name).parts
            if not member.isfile() or name.startswith("/") or ".." in parts:
                raise BackupError(f"refusing archive member {name!r}: not a plain file inside")
            if name not in expected:
                raise BackupError(f"archive member {name!r} is not in the manifest")
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            with dest.open("wb") as fh:
                shutil.copyfileobj(source, fh)
            os.chmod(dest, 0o600)
            if _sha256(dest) != expected[name]["sha256"]:
                raise BackupError(f"{name}: content differs from the manifest (damaged backup)")
            seen.add(name)
            progress("unpack", i, len(members))
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"the archive lacks {', '.join(missing)}")


def _pg_restore(dump: Path, url: str) -> None:
    from kizuna.store.postgres_backend import parse_url

    settings = parse_url(url)
    import psycopg

    try:  # the dump's tables use PostGIS types, which live outside the node's schema
        with psycopg.connect(settings.conninfo, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        raise BackupError(f"cannot prepare {settings.conninfo}: {exc}") from None
    out = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={settings.conninfo}",
            str(dump),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if out.returncode != 0:
        raise BackupError(f"pg_restore failed: {' '.join(out.stderr.split())}")


def restore(
    archive: Path,
    target: Path,
    *,
    store: str | None = None,
    open_node: Callable[[Path], Any],
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Restore ``archive`` into the new directory ``target`` and check the result's content
    digest against the manifest. A PostgreSQL backup is loaded into ``store`` (a database
    without the node's schema; its URL is written to the restored ``node.toml``)."""
    manifest = read_manifest(archive)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: restore into a new directory")
    if manifest["store"] == "postgresql" and not store:
        raise BackupError("a PostgreSQL backup needs --store postgresql://… to load into")
    target.mkdir(parents=True, exist_ok=True)
    try:
        _unpack(archive, target, manifest, progress)
        nd = NodeDir(target)
        if manifest["store"] == "postgresql":
            assert store is not None
            dump = target / PG_MEMBER
            _pg_restore(dump, store)
            dump.unlink()
            config = nd.load()
            from kizuna.store.postgres_backend import parse_url

            if parse_url(store).schema != parse_url(config.store).schema:
                raise BackupError("--store must name the backed-up node's schema")
            nd.save(msgspec.structs.replace(config, store=store))
        else:
            (target / SQLITE_MEMBER).replace(nd.db)
        (target / "store").rmdir()
        node = open_node(target)
        try:
            digest = content_digest(node)
        finally:
            node.close()
        if digest != manifest["content_digest"]:
            raise BackupError(
                f"the restored node differs from the backup (digest {digest[:12]}…, "
                f"expected {manifest['content_digest'][:12]}…)"
            )
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return manifest
