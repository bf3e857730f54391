"""The OpenAPI document declares the node's error answers: problem+json, one schema.

Every operation declares 400, 401, 403, 404 and 422 as ``application/problem+json`` with
the ``ProblemDetails`` schema (RFC 9457); one that takes a body adds 413, one that writes
adds 429 (rate limits). Litestar's own 400 (a JSON body of another shape, which the node
never sends) is gone.
"""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.api.openapi import document

METHODS = ("get", "put", "post", "delete", "patch")
WRITES = ("put", "post", "delete", "patch")
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def test_the_problem_schema_is_declared(spec: dict[str, Any]) -> None:
    schema = spec["components"]["schemas"]["ProblemDetails"]
    assert set(schema["required"]) == {"title", "status", "detail"}
    assert {"type", "title", "status", "detail", "errors"} <= set(schema["properties"])


def test_every_operation_declares_its_error_answers(spec: dict[str, Any]) -> None:
    missing: list[str] = []
    ops = 0
    for path, item in sorted(spec["paths"].items()):
        for method, op in item.items():
            if method not in METHODS:
                continue
            ops += 1
            wanted = {"400", "401", "403", "404", "422"}
            if "requestBody" in op:
                wanted.add("413")
            if method in WRITES:
                wanted.add("429")
            for status in sorted(wanted):
                answer = op["responses"].get(status)
                if answer is None:
                    missing.append(f"{method.upper()} {path}: no {status}")
                    continue
                content = answer.get("content") or {}
                if set(content) != {PROBLEM}:
                    missing.append(f"{method.upper()} {path} {status}: {sorted(content)}")
                    continue
                ref = content[PROBLEM]["schema"].get("$ref")
                if ref != "#/components/schemas/ProblemDetails":
                    missing.append(f"{method.upper()} {path} {status}: schema {ref}")
    assert ops > 10
    assert not missing, "\n".join(missing)
