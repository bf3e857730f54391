"""The node API's OpenAPI document: every JSON answer is typed, and the web app's generated
types (web/src/generated/api.ts) are what the document produces now."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kizuna.api.openapi import document, dumps

WEB = Path(__file__).resolve().parents[2] / "web"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Routes whose success answer is not a JSON document, so has no JSON schema to check.
NOT_JSON = {
    ("GET", "/api/v1/requests/{request_id}/attachments/{attachment_id}"),  # the file's own bytes
    ("GET", "/api/v1/incidents/{incident_id}/3w.csv"),  # HXL who-does-what-where (CSV)
    ("GET", "/api/v1/reservations/schedule.csv"),  # the weekly schedule notice (CSV)
    ("GET", "/api/v1/export"),  # KML, NVG, GeoJSON or CSV, as asked (interop)
    ("GET", "/api/v1/export/takpkg"),  # a TAK data package (zip)
}
# Routes left out of the document altogether (include_in_schema=False).
UNDOCUMENTED = {("GET", "/healthz"), ("GET", "/metrics")}

# Keys that describe a schema without saying what it holds.
ANNOTATIONS = {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in sorted(spec["paths"].items())
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/components/schemas/"), ref
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def untyped(spec: dict[str, Any], schema: Any, where: str, seen: set[str]) -> list[str]:
    """Places in a schema that say nothing about what they hold ({} or a free-form object)."""
    if not isinstance(schema, dict):
        return [] if schema is not True else [f"{where}: true"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        seen.add(name)
        return untyped(spec, resolve(spec, schema), name, seen)
    if not set(schema) - ANNOTATIONS:
        return [f"{where}: {{}}"]
    found: list[str] = []
    for key in ("oneOf", "anyOf", "allOf", "prefixItems"):
        for i, sub in enumerate(schema.get(key, [])):
            found += untyped(spec, sub, f"{where}.{key}[{i}]", seen)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types:
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not props and (extra is None or extra is True or extra == {}):
            found.append(f"{where}: a free-form object")
        for name, sub in sorted(props.items()):
            found += untyped(spec, sub, f"{where}.{name}", seen)
        if isinstance(extra, dict) and extra:
            found += untyped(spec, extra, f"{where}[*]", seen)
    if "array" in types:
        found += untyped(spec, schema.get("items", {}), f"{where}[]", seen)
    return found


def success_schemas(op: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [
        (status, media, body.get("schema"))
        for status, response in op.get("responses", {}).items()
        if status.startswith("2")
        for media, body in (response.get("content") or {}).items()
    ]


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def test_document_is_stable() -> None:
    assert dumps(document()) == dumps(document())


def test_every_json_route_has_a_typed_success_answer(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert ops, "the document lists no routes"
    documented = {(method, path) for method, path, _ in ops}
    assert not documented & UNDOCUMENTED, "health and metrics are not part of the API document"
    assert documented >= NOT_JSON, f"exceptions that no longer exist: {NOT_JSON - documented}"
    problems: list[str] = []
    for method, path, op in ops:
        if (method, path) in NOT_JSON:
            continue
        answers = success_schemas(op)
        statuses = {status for status, _ in op.get("responses", {}).items() if status[0] == "2"}
        if not answers:
            if statuses != {"204"}:
                problems.append(
                    f"{method} {path}: no 2xx JSON answer (responses {sorted(statuses)})"
                )
            continue
        for status, media, schema in answers:
            name = f"{method} {path} {status} {media}"
            if not is_json(media):
                problems.append(f"{name}: not JSON (add it to NOT_JSON if that is meant)")
            elif not schema or not set(schema) - ANNOTATIONS:
                problems.append(f"{name}: empty schema")
            else:
                problems += [f"{name}: {spot}" for spot in untyped(spec, schema, "answer", set())]
    assert not problems, "untyped answers (return a msgspec Struct):\n" + "\n".join(problems)


def test_generated_web_types_match_the_document(spec: dict[str, Any], tmp_path: Path) -> None:
    ci = bool(os.environ.get("CI"))
    node = shutil.which("node")
    missing = None
    if node is None or shutil.which("npm") is None:
        missing = "node and npm are not installed"
    elif not (WEB / "tools" / "api-types" / "node_modules" / "openapi-typescript").is_dir():
        missing = "web dependencies are not installed (run `make web`)"
    if missing:
        if ci:
            pytest.fail(f"{missing}: CI must check the generated web types")
        pytest.skip(missing)
    assert node is not None
    doc = tmp_path / "openapi.json"
    doc.write_text(dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, "scripts/api-types.mjs", "--check", "--openapi", str(doc)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
