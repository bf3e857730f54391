"""`kizuna backup` / `kizuna restore`: a node restored into a fresh directory holds exactly
what the backed-up node held (equal content digests), on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx

from kizuna.node.backup import content_digest, read_manifest
from kizuna.node.runtime import Node
from tests.nodes import NodeProcess, add_user, kizuna, make_node_dir
from tests.store import pgtest

REPORT = {
    "title": {"en": "Typhoon 24 track shifts toward Okinawa", "ja": "台風24号、沖縄方面へ進路変更"},
    "label": "S//REL TO USA, JPN",
    "precedence": "PRIORITY",
}


def _digest(root: Path) -> str:
    node = Node(root)
    try:
        return content_digest(node)
    finally:
        node.close()


def _seed(root: Path) -> tuple[str, str]:
    """A served node with a user and a report; returns (token, report id)."""
    token = add_user(root, "us.watch", "USA", "SECRET", "--role", "watch")
    proc = NodeProcess(root)
    proc.start()
    try:
        r = httpx.post(
            f"{proc.url}/api/v1/reports",
            json=REPORT,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        # the backup is taken while the node serves
        out = kizuna("backup", "--dir", str(root), "--out", str(root.parent / "usfj.tar.gz"))
        assert "content digest" in out.stdout
    finally:
        proc.stop()
    return token, rid


def test_sqlite_round_trip(tmp_path: Path) -> None:
    root = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    token, rid = _seed(root)
    archive = tmp_path / "usfj.tar.gz"
    manifest = read_manifest(archive)
    assert manifest["store"] == "sqlite" and manifest["content_digest"] == _digest(root)
    assert {"node.toml", "node.key", "audit.log", "store/kizuna.db"} <= set(manifest["files"])

    restored = tmp_path / "restored"
    out = kizuna("restore", "--from", str(archive), "--dir", str(restored))
    assert "(verified)" in out.stdout
    assert _digest(restored) == manifest["content_digest"]
    assert kizuna("audit", "verify", "--dir", str(restored)).returncode == 0
    # the restored node serves the same record to the same user
    proc = NodeProcess(restored)
    proc.start()
    try:
        r = httpx.get(
            f"{proc.url}/api/v1/reports/{rid}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 200 and r.json()["title"] == REPORT["title"]
    finally:
        proc.stop()

    # a used directory is refused, and nothing is written into it
    again = kizuna("restore", "--from", str(archive), "--dir", str(restored), check=False)
    assert again.returncode != 0 and "is not empty" in again.stderr


def test_a_damaged_archive_is_refused(tmp_path: Path) -> None:
    root = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    add_user(root, "us.watch", "USA", "SECRET")
    archive = tmp_path / "usfj.tar.gz"
    kizuna("backup", "--dir", str(root), "--out", str(archive))
    # rewrite the archive with node.toml altered
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name == "node.toml":
                body += b"\n# edited\n"
                member.size = len(body)
            dst.addfile(member, io.BytesIO(body))
    proc = kizuna("restore", "--from", str(damaged), "--dir", str(tmp_path / "r"), check=False)
    assert proc.returncode != 0
    assert "node.toml: content differs from the manifest" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_postgresql_round_trip(tmp_path: Path) -> None:
    with pgtest.fresh_database() as source_db, pgtest.fresh_database() as target_db:
        root = tmp_path / "usfj"
        store = pgtest.store_url(source_db, root)
        make_node_dir(root, "usfj", "USA", store=store)
        _token, _rid = _seed(root)
        archive = tmp_path / "usfj.tar.gz"
        manifest = read_manifest(archive)
        assert manifest["store"] == "postgresql" and "store/schema.pgdump" in manifest["files"]
        restored = tmp_path / "restored"
        missing = kizuna("restore", "--from", str(archive), "--dir", str(restored), check=False)
        assert missing.returncode != 0 and "--store" in missing.stderr
        # the same schema name, in a fresh database
        target = pgtest.store_url(target_db, root)
        kizuna("restore", "--from", str(archive), "--dir", str(restored), "--store", target)
        assert _digest(restored) == manifest["content_digest"] == _digest(root)
