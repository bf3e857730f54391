"""Per-user rate limits on writes, per-name and per-address limits on login attempts: 429
problem+json with Retry-After, counted as kizuna_access_refused_total{reason="rate_limit"}."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kizuna.api.app import create_app
from kizuna.node.runtime import Node
from kizuna.node.users import make_user
from tests.picture.support import in_process_node

PROBLEM = "application/problem+json"


def report(i: int) -> dict[str, object]:
    return {"label": "U", "title": {"en": f"r{i}", "ja": f"r{i}"}, "body": {"en": "", "ja": ""}}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    from kizuna.reports import plugin as reports

    n = in_process_node(
        tmp_path / "usfj",
        [reports],
        limits={
            "write_burst": 5,
            "write_rate": 2.0,
            "login_burst": 3,
            "login_rate": 0.01,
            "login_address_burst": 8,
            "login_address_rate": 0.01,
        },
    )
    yield n
    n.close()


def add(node: Node, name: str, password: str | None = None) -> dict[str, str]:
    user, token = make_user(name, "USA", "SECRET", [], [], node.groups, password)
    node.backend.users.add_user(user)
    return {"Authorization": f"Bearer {token}"}


def refused(client: TestClient[Litestar], reason: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'kizuna_access_refused_total{{reason="{reason}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def assert_429(r: Any) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert int(r.headers["retry-after"]) >= 1
    body = r.json()
    assert body["status"] == 429 and body["type"] == "/problems/rate-limited"


def test_writes_are_limited_per_user(node: Node) -> None:
    alice, bob = add(node, "alice"), add(node, "bob")
    with TestClient(create_app(node)) as client:
        codes = [client.post("/api/v1/reports", json=report(i), headers=alice) for i in range(7)]
        assert [r.status_code for r in codes[:5]] == [201] * 5
        assert_429(codes[5])
        assert_429(codes[6])
        # Reads are not limited; another user is not slowed by alice.
        assert client.get("/api/v1/reports", headers=alice).status_code == 200
        assert client.post("/api/v1/reports", json=report(9), headers=bob).status_code == 201
        assert refused(client, "rate_limit") == 2
        # The bucket refills at write_rate per second.
        time.sleep(0.6)
        assert client.post("/api/v1/reports", json=report(10), headers=alice).status_code == 201
        assert len(client.get("/api/v1/reports", headers=alice).json()) == 7
    trail = node.dir.audit.read_text()
    assert '"rate_limit"' in trail and '"alice"' in trail


def test_a_write_without_a_valid_token_is_a_401_not_a_429(node: Node) -> None:
    with TestClient(create_app(node)) as client:
        for i in range(8):
            r = client.post(
                "/api/v1/reports", json=report(i), headers={"Authorization": "Bearer kz_nope"}
            )
            assert r.status_code == 401


def test_failed_logins_are_limited_per_name(node: Node) -> None:
    add(node, "hana", "correct horse")
    add(node, "kenji", "other pw")
    with TestClient(create_app(node)) as client:
        wrong = {"name": "hana", "password": "guess"}
        codes = [client.post("/api/v1/login", json=wrong).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        r = client.post("/api/v1/login", json=wrong)
        assert_429(r)
        # Even the right password waits now: guessing has stopped for this name.
        assert_429(client.post("/api/v1/login", json={"name": "hana", "password": "correct horse"}))
        # Another name from the same address is still answered.
        r = client.post("/api/v1/login", json={"name": "kenji", "password": "other pw"})
        assert r.status_code == 201
        assert refused(client, "rate_limit") == 2


def test_successful_logins_do_not_use_up_the_name_limit(node: Node) -> None:
    add(node, "hana", "correct horse")
    with TestClient(create_app(node)) as client:
        ok = {"name": "hana", "password": "correct horse"}
        assert [client.post("/api/v1/login", json=ok).status_code for _ in range(5)] == [201] * 5


def test_login_attempts_are_limited_per_address(node: Node) -> None:
    with TestClient(create_app(node)) as client:
        codes = [
            client.post("/api/v1/login", json={"name": f"u{i}", "password": "x"}).status_code
            for i in range(8)
        ]
        assert codes == [401] * 8
        assert_429(client.post("/api/v1/login", json={"name": "u99", "password": "x"}))
        # A malformed body still counts against the address.
        assert_429(client.post("/api/v1/login", content=b"{not json"))


def test_default_limits_let_a_benchmark_burst_through(tmp_path: Path) -> None:
    from kizuna.reports import plugin as reports

    node = in_process_node(tmp_path / "n", [reports])
    try:
        alice = add(node, "alice")
        with TestClient(create_app(node)) as client:
            for i in range(0, 300, 100):
                batch = [report(j) for j in range(i, i + 100)]
                r = client.post("/api/v1/reports/batch", json=batch, headers=alice)
                assert r.status_code == 201, r.text
            for i in range(50):
                r = client.post("/api/v1/reports", json=report(i), headers=alice)
                assert r.status_code == 201
    finally:
        node.close()


@pytest.mark.parametrize(
    "table", [{"write_burst": -1}, {"session_ttl": 0}, {"login_rate": "fast"}, {"bogus": 1}]
)
def test_a_bad_limits_table_is_refused_at_start(tmp_path: Path, table: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\[limits\]"):
        in_process_node(tmp_path / "n", [], limits=table)
