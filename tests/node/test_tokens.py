"""Bearer tokens and browser sessions as an operator and a user see them, on real node processes:
sessions outlive a restart, tokens and sessions expire, `kizuna user revoke` ends them on a
running node within seconds, and every refusal is a 401 problem+json in the audit trail."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec

from kizuna.kernel.config import Limits, NodeDir
from tests.nodes import NodeProcess, add_user, kizuna, make_node_dir

PROBLEM = "application/problem+json"


def login(node: NodeProcess, name: str, password: str) -> str:
    r = httpx.post(f"{node.url}/api/v1/login", json={"name": name, "password": password})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def me(node: NodeProcess, token: str) -> httpx.Response:
    return httpx.get(f"{node.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def audit_entries(directory: Path) -> list[dict[str, object]]:
    lines = (directory / "audit.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def refusals(directory: Path) -> list[str]:
    return [
        str(e["details"]["reason"])  # type: ignore[index]
        for e in audit_entries(directory)
        if e.get("action") == "access" and e.get("outcome") == "refused"
    ]


def until_refused(node: NodeProcess, token: str, seconds: float = 5.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        r = me(node, token)
        if r.status_code != 200 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def test_a_browser_session_survives_a_node_restart(
    node_factory: Callable[..., NodeProcess],
) -> None:
    node = node_factory("usfj", "USA")
    add_user(node.dir, "hana", "JPN", "SECRET", "--password", "correct horse")
    token = login(node, "hana", "correct horse")
    assert me(node, token).status_code == 200
    node.stop()
    node.start()
    r = me(node, token)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "hana"
    # The session is stored hashed, never in clear.
    assert token.encode() not in (node.dir / "kizuna.db").read_bytes()


def test_revoke_ends_tokens_and_sessions_on_a_running_node(
    node_factory: Callable[..., NodeProcess],
) -> None:
    node = node_factory("usfj", "USA")
    token = add_user(node.dir, "hana", "JPN", "SECRET", "--password", "correct horse")
    session = login(node, "hana", "correct horse")
    other = add_user(node.dir, "kenji", "JPN", "SECRET")
    for t in (token, session, other):
        assert me(node, t).status_code == 200  # cached by the node from here on

    out = kizuna("user", "revoke", "--dir", str(node.dir), "--name", "hana")
    assert "revoked" in out.stdout
    for t in (token, session):
        r = until_refused(node, t)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 401
    assert me(node, other).status_code == 200  # nobody else is touched
    # The password is revoked too: logging in again gets a 401, not a new session.
    bad = httpx.post(f"{node.url}/api/v1/login", json={"name": "hana", "password": "correct horse"})
    assert bad.status_code == 401

    actions = [(e["action"], e["outcome"]) for e in audit_entries(node.dir)]
    assert ("user.revoke", "ok") in actions
    assert refusals(node.dir).count("bad_token") >= 2

    # The operator issues a new token: it works, the old ones stay dead.
    fresh = kizuna("user", "token", "--dir", str(node.dir), "--name", "hana")
    new = fresh.stdout.strip().splitlines()[-1]
    assert new.startswith("kz_") and new != token
    assert me(node, new).status_code == 200
    assert me(node, token).status_code == 401

    unknown = kizuna("user", "revoke", "--dir", str(node.dir), "--name", "nobody", check=False)
    assert unknown.returncode != 0 and "nobody" in unknown.stderr


def test_revoke_keep_password_lets_the_user_log_in_again(
    node_factory: Callable[..., NodeProcess],
) -> None:
    node = node_factory("usfj", "USA")
    add_user(node.dir, "hana", "JPN", "SECRET", "--password", "correct horse")
    session = login(node, "hana", "correct horse")
    kizuna("user", "revoke", "--dir", str(node.dir), "--name", "hana", "--keep-password")
    assert until_refused(node, session).status_code == 401
    assert me(node, login(node, "hana", "correct horse")).status_code == 200


def test_tokens_and_sessions_expire(tmp_path: Path) -> None:
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    nd = NodeDir(directory)
    config = nd.load()
    nd.save(msgspec.structs.replace(config, limits=Limits(session_ttl=4)))
    node = NodeProcess(directory)
    node.start()
    try:
        forever = add_user(directory, "kenji", "JPN", "SECRET")
        token = add_user(directory, "hana", "JPN", "SECRET", "--password", "pw", "--expires", "4s")
        token_gone = time.time() + 4
        session = login(node, "hana", "pw")
        session_gone = time.time() + 4
        assert me(node, token).status_code == 200
        assert me(node, session).status_code == 200
        time.sleep(max(token_gone, session_gone) - time.time() + 0.3)
        for t in (token, session):
            r = me(node, t)
            assert r.status_code == 401, r.text
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.json()["type"] == "/problems/expired-token"
        assert me(node, forever).status_code == 200
        assert refusals(directory).count("expired_token") >= 2
        metrics = httpx.get(f"{node.url}/metrics").text
        assert 'kizuna_access_refused_total{reason="expired_token"} 2.0' in metrics
    finally:
        node.stop()


def test_user_add_rejects_a_bad_expiry(tmp_path: Path) -> None:
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    for bad in ("soon", "-5m", "0s", "2000-01-01T00:00:00Z"):
        res = kizuna(
            "user",
            "add",
            "--dir",
            str(directory),
            "--name",
            "hana",
            "--nation",
            "JPN",
            "--clearance",
            "SECRET",
            "--expires",
            bad,
            check=False,
        )
        assert res.returncode != 0 and "expires" in res.stderr, bad
    # ISO dates in the future and durations are accepted.
    add_user(directory, "a", "JPN", "SECRET", "--expires", "2999-01-01T00:00:00Z")
    add_user(directory, "b", "JPN", "SECRET", "--expires", "30d")


def test_a_database_from_before_sessions_is_migrated(
    node_factory: Callable[..., NodeProcess],
) -> None:
    """A node directory written by a version without the sessions table or token expiry."""
    import sqlite3

    import msgspec

    node = node_factory("usfj", "USA")
    token = add_user(node.dir, "hana", "JPN", "SECRET", "--password", "pw")
    node.stop()
    db = sqlite3.connect(node.dir / "kizuna.db")
    with db:
        db.execute("DROP TABLE IF EXISTS sessions")
        (body,) = db.execute("SELECT body FROM users WHERE name = 'hana'").fetchone()
        old = msgspec.msgpack.decode(body)
        old.pop("token_expires_at", None)  # the user as the old version wrote it
        db.execute("UPDATE users SET body = ? WHERE name = 'hana'", (msgspec.msgpack.encode(old),))
    db.close()
    node.start()
    assert me(node, token).status_code == 200
    session = login(node, "hana", "pw")
    node.stop()
    node.start()
    assert me(node, session).status_code == 200


def test_logout_ends_the_session_and_only_that_one(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from kizuna.api.app import create_app
    from kizuna.node.users import make_user
    from tests.picture.support import in_process_node

    node = in_process_node(tmp_path / "usfj", [])
    try:
        user, token = make_user("hana", "JPN", "SECRET", [], [], node.groups, "pw")
        node.backend.users.add_user(user)
        with TestClient(create_app(node)) as client:
            sessions = [
                client.post("/api/v1/login", json={"name": "hana", "password": "pw"}).json()[
                    "token"
                ]
                for _ in range(2)
            ]
            first, second = ({"Authorization": f"Bearer {s}"} for s in sessions)
            assert client.get("/api/v1/me", headers=first).status_code == 200
            assert client.post("/api/v1/logout", headers=first).status_code == 204
            r = client.get("/api/v1/me", headers=first)
            assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
            assert client.post("/api/v1/logout", headers=first).status_code == 401
            assert client.get("/api/v1/me", headers=second).status_code == 200
            # Logging out with the user's own token leaves the token alone.
            own = {"Authorization": f"Bearer {token}"}
            assert client.post("/api/v1/logout", headers=own).status_code == 204
            assert client.get("/api/v1/me", headers=own).status_code == 200
    finally:
        node.close()
    assert ("logout", "ok") in [(e["action"], e["outcome"]) for e in audit_entries(node.dir.root)]
