"""API limits, from outside against a real node process (issue 17, finding 8).

A body nested too deep, a batch over its documented size, a method a resource does not
have: each is a 4xx problem+json that says what was wrong, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import msgspec
import pytest

from kizuna.api.problems import ProblemDetails
from kizuna.kernel.bus import MAX_JSON_DEPTH
from tests.nodes import NodeProcess

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}


@pytest.fixture
def usfj(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("usfj", "USA")


def problem(r: httpx.Response, status: int) -> ProblemDetails:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = msgspec.json.decode(r.content, type=ProblemDetails)  # the declared shape
    assert body.status == status
    return body


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def report_with_body(body: str) -> str:
    return (
        '{"label": "U", "title": {"en": "t", "ja": "t"}, "body": {"en": "b", "ja": "b"},'
        f' "position": {{"lat": 35.0, "lon": 139.0}}, "extra": {body}}}'
    )


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 100_000])
def test_deeply_nested_json_is_a_4xx_problem(usfj: NodeProcess, depth: int) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.post("/api/v1/reports", content=report_with_body(nested(depth)), headers=JSON)
    body = problem(r, 400)
    assert body.type == "/problems/json-too-deep"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in body.detail


def test_every_json_write_refuses_deep_json(usfj: NodeProcess) -> None:
    """Every route that decodes a body, with or without a token, whatever content type the
    request names (the body is decoded as JSON all the same)."""
    alice = usfj.user("alice", "USA", "SECRET")
    anonymous = httpx.Client(base_url=usfj.url, timeout=30)
    deep = nested(3_000)
    for client, method, path in [
        (anonymous, "POST", "/api/v1/login"),
        (alice, "POST", "/api/v1/reports"),
        (alice, "POST", "/api/v1/reports/batch"),
        (alice, "PATCH", "/api/v1/reports/r1"),
        (alice, "POST", "/api/v1/tracks"),
        (alice, "POST", "/api/v1/requests"),
        (alice, "PATCH", "/api/v1/requests/q1"),
        (alice, "POST", "/api/v1/requests/q1/transitions"),
        (alice, "POST", "/api/v1/requests/q1/comments"),
    ]:
        for headers in (
            JSON,
            {"content-type": "text/plain"},
            {"content-type": "multipart/form-data; boundary=x"},
            {"content-type": "application/octet-stream"},
        ):
            r = client.request(method, path, content=deep, headers=headers)
            assert problem(r, 400).type == "/problems/json-too-deep", (method, path)
    # Brackets inside strings are text, not nesting.
    text = "[" * 10_000
    r = alice.post(
        "/api/v1/reports",
        json={
            "label": "U",
            "title": {"en": text, "ja": "t"},
            "body": {"en": "b", "ja": "b"},
            "position": {"lat": 35.0, "lon": 139.0},
        },
    )
    assert r.status_code != 400 or "deeper" not in r.text, r.text
    assert r.status_code < 500, r.text
    counted = [
        line
        for line in alice.get("/metrics").text.splitlines()
        if line.startswith("kizuna_bad_input_total{") and 'reason="json-too-deep"' in line
    ]
    assert counted and float(counted[0].split()[-1]) >= 36, counted


def test_deep_json_under_the_limit_is_decoded_as_usual(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.post("/api/v1/reports", content=report_with_body(nested(MAX_JSON_DEPTH - 1)))
    assert problem(r, 400).type != "/problems/json-too-deep"  # unknown field "extra"


def test_track_batches_hold_their_documented_size(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    item = {"label": "U", "lat": 35.0, "lon": 139.0}
    r = alice.post("/api/v1/tracks", json=[item] * 10_001)
    body = problem(r, 422)
    assert "at most 10000" in body.detail
    r = alice.post("/api/v1/tracks", json=[{**item, "id": f"t{i}"} for i in range(10_000)])
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 10_000


def test_report_batches_hold_their_documented_size(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    one = {
        "label": "U",
        "title": {"en": "t", "ja": "t"},
        "body": {"en": "b", "ja": "b"},
        "position": {"lat": 35.0, "lon": 139.0},
    }
    r = alice.post("/api/v1/reports/batch", json=[one] * 1_001)
    assert 400 <= r.status_code < 500 and r.status_code != 404, r.text
    problem(r, r.status_code)


def test_a_body_over_the_size_limit_is_413(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.post("/api/v1/tracks", content=b"[" + b" " * 2_000_000 + b"]", headers=JSON)
    problem(r, 413)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/api/v1/reports", {"GET", "POST"}),
        ("PUT", "/api/v1/reports", {"GET", "POST"}),
        ("DELETE", "/api/v1/reports/r1", {"GET", "PATCH"}),
        ("TRACE", "/api/v1/meta", {"GET"}),
        ("POST", "/api/v1/me", {"GET"}),
    ],
)
def test_method_not_allowed_names_the_allowed_methods(
    usfj: NodeProcess, method: str, path: str, allowed: set[str]
) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.request(method, path)
    body = problem(r, 405)
    allow = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed <= allow and method not in allow, r.headers["allow"]
    assert body.type == "/problems/method-not-allowed"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/reports", {"GET", "POST", "OPTIONS"}),
        ("/api/v1/reports/r1", {"GET", "PATCH", "OPTIONS"}),
        ("/api/v1/requests", {"GET", "POST", "OPTIONS"}),
        ("/api/v1/tracks", {"GET", "POST", "OPTIONS"}),
    ],
)
def test_options_names_every_method_of_the_path(
    usfj: NodeProcess, path: str, allowed: set[str]
) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.options(path)
    assert r.status_code == 204, r.text
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed
    # ... and a 405 on the same path names the same methods.
    r = alice.request("TRACE", path)
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed
