"""The OpenAPI document says exactly what the API accepts (kizuna.api.document).

Every JSON request body is described by the schema msgspec derives from the type it is
decoded with (unknown fields refused, lengths, items and ranges), and the rules the
services check after decoding are spelt out: each pattern here is checked against the
code that decides (the marking parser, ``parse_iso``, ``b64decode``, ``parse_bbox``).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.api.document import BLANK, NOT_BLANK, marking_pattern
from kizuna.api.openapi import NATION, document
from kizuna.coordination import models as coordination_models
from kizuna.coordination.rules import MAX_COMMENT
from kizuna.core.labels import GroupRegistry, LabelError, parse_label
from kizuna.core.time import DATE_TIME, iso, parse_iso
from kizuna.kernel.params import BBOX_PATTERN
from kizuna.picture.rules import parse_bbox
from tests.nodes import NodeProcess

GROUPS = GroupRegistry({"ACM": ["USA", "JPN"]})
PROBLEM = "application/problem+json"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def full(pattern: str) -> re.Pattern[str]:
    r"""``pattern`` as JSON Schema reads it: its closing ``$`` is the end of the text."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def body_schema(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path][method]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    return schema


def component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][name]
    return schema


# -- what msgspec decodes -------------------------------------------------------------


def test_request_bodies_refuse_unknown_fields(spec: dict[str, Any]) -> None:
    for name in (
        "LoginIn",
        "ReportIn",
        "ReportPatch",
        "RequestIn",
        "RequestPatch",
        "TransitionIn",
        "CommentIn",
        "AttachmentIn",
        "Link",
        "TrackIn",
        "Title",
        "Body",
        "CommentText",
        "PositionIn",
    ):
        assert component(spec, name)["additionalProperties"] is False, name


def test_list_bodies_give_their_bounds(spec: dict[str, Any]) -> None:
    tracks = body_schema(spec, "post", "/api/v1/tracks")
    assert tracks["type"] == "array" and tracks["maxItems"] == 10_000
    batch = body_schema(spec, "post", "/api/v1/reports/batch")
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)


def test_constraints_of_optional_fields_and_list_items_are_kept(spec: dict[str, Any]) -> None:
    track = component(spec, "TrackIn")["properties"]
    course = next(s for s in track["course"]["anyOf"] if s.get("type") == "number")
    assert (course["minimum"], course["maximum"]) == (0.0, 360.0)
    addressees = component(spec, "RequestIn")["properties"]["addressees"]
    assert addressees["items"]["pattern"] and addressees["items"]["maxLength"] == 64
    assert addressees["uniqueItems"] is True


def test_labels_titles_and_positions_name_their_components(spec: dict[str, Any]) -> None:
    report = component(spec, "ReportIn")["properties"]
    assert report["label"] == {"$ref": "#/components/schemas/Marking"}
    assert report["title"] == {"$ref": "#/components/schemas/Title"}
    assert {"$ref": "#/components/schemas/PositionIn"} in report["position"]["anyOf"]
    patch = component(spec, "ReportPatch")["properties"]["label"]["anyOf"]
    assert patch == [{"$ref": "#/components/schemas/Marking"}, {"const": ""}, {"type": "null"}]
    marking = component(spec, "Marking")
    assert marking["pattern"] == marking_pattern(NATION, GroupRegistry())
    assert component(spec, "CommentText")["properties"]["en"]["maxLength"] == MAX_COMMENT
    assert "x-kizuna-rule" not in str(spec), "a rule left unreplaced"


# -- the rules, against the code that decides ----------------------------------------------


def parses(text: str) -> bool:
    try:
        parse_label(text, originator="USA", groups=GROUPS)
    except LabelError:
        return False
    return True


MARKING = full(marking_pattern("USA", GROUPS))
WORDS = [
    *("U", "C", "S", "TS", "TOP SECRET", "TOP_SECRET", "SECRET", "UNCLASSIFIED"),
    *("NOFORN", "NF", "EXERCISE", "REL TO", "REL", "TO", "USA", "JPN", "GBR", "ACM"),
    *("FVEY", "NATO", "XYZ", "ABCD", "TON", "usa", "rel to", "secret", "//", ",", ";", " "),
]


@SETTINGS
@given(st.from_regex(MARKING))
def test_every_marking_of_the_pattern_parses(text: str) -> None:
    assert len(text) > 512 or parses(text), text


@SETTINGS
@given(st.lists(st.sampled_from(WORDS), max_size=10), st.sampled_from(["", " ", "//"]))
def test_the_pattern_and_the_parser_agree(words: list[str], sep: str) -> None:
    text = sep.join(words)
    assert parses(text) == bool(MARKING.match(text)), text


def test_a_named_originator_is_the_nodes_nation() -> None:
    assert MARKING.match("//USA SECRET//REL TO JPN") and MARKING.match("usa s//nf")
    assert not MARKING.match("//JPN SECRET") and not MARKING.match("JPN S")


@pytest.mark.parametrize(
    ("text", "blank"),
    [("", True), (" \t\u3000\x1c", True), ("x", False), (" \u00a0a ", False)],
)
def test_blank_is_what_strip_leaves_empty(text: str, blank: bool) -> None:
    assert (not text.strip()) == blank
    assert bool(full(BLANK).match(text)) == blank
    assert bool(re.search(NOT_BLANK, text)) != blank


def test_times_of_the_pattern_parse() -> None:
    pattern = full(DATE_TIME)  # the one pattern of core.time, used by every domain's times

    @SETTINGS
    @given(st.from_regex(pattern))
    def parse(text: str) -> None:
        parse_iso(text)

    parse()
    for text in ("2026-02-29T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00.1234567Z", "T00"):
        assert not pattern.match(text), text
    for text in ("2024-02-29T23:59:59.5+09:00", "2026-12-01T12:00:00", "2099-01-01T00:00Z"):
        assert pattern.match(text), text


def test_the_base64_pattern_is_what_b64decode_reads(spec: dict[str, Any]) -> None:
    content = component(spec, "AttachmentIn")["properties"]["content"]
    pattern = full(content["pattern"])
    for n in range(13):
        for chars in itertools.product("AB=", repeat=n):
            text = "".join(chars)
            try:
                base64.b64decode(text, validate=True)
                valid = True
            except binascii.Error:
                valid = False
            assert valid == bool(pattern.match(text)), text
    longest = content["maxLength"]
    too_long = re.compile(content["not"]["pattern"])
    for tail in ("AAAA", "AAA=", "AA==", "===="):
        text = "A" * (longest - 4) + tail
        fits = (
            len(base64.b64decode(text, validate=True)) <= coordination_models.MAX_ATTACHMENT_BYTES
        )
        assert fits == (not too_long.search(text)), tail


@SETTINGS
@given(st.from_regex(full(BBOX_PATTERN)))
def test_every_bbox_of_the_pattern_is_in_range(text: str) -> None:
    minlat, maxlat = (float(v) for v in text.split(",")[1::2])
    if minlat <= maxlat:  # what the document cannot say
        parse_bbox(text)


# -- and the node behaves as its document says ---------------------------------------------


def test_the_node_answers_as_its_document_says(node_factory: Callable[..., NodeProcess]) -> None:
    usfj = node_factory("usfj", "USA")
    alice = usfj.user("alice", "USA", "SECRET")
    served = alice.get("/api/docs/openapi.json").json()
    marking = full(served["components"]["schemas"]["Marking"]["pattern"])  # this node's
    assert marking.match("//USA SECRET") and not marking.match("//JPN SECRET")
    item = {"label": "U", "lat": 35.0, "lon": 139.0, "id": "t1"}
    # stale before it was observed: stale when observed, not refused
    now = time.time()
    stale = {**item, "observed_at": iso(now - 10), "stale_at": iso(now - 20)}
    r = alice.post("/api/v1/tracks", json=[stale])
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    held = alice.get("/api/v1/tracks/t1").json()
    assert held["stale"] is True and held["stale_at"] == held["observed_at"]
    assert alice.post("/api/v1/tracks", json=[{**item, "id": "t2"}]).json()["accepted"] == 1
    assert alice.get("/api/v1/tracks", params={"bbox": "138,34,140,36"}).json()
    # a bbox outside the pattern is refused, saying what is wrong with it
    for bad in ("", "1e2,0,1,1", "138,34,140", "0,0,181,1", "138,36,140,34"):
        for path in ("/api/v1/tracks", "/api/v1/tracks.geojson"):
            r = alice.get(path, params={"bbox": bad})
            assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM), bad
            assert "bbox" in r.json()["detail"]
    assert alice.get("/api/v1/tracks", params={"bbox": "1e-7,-90,180,90.0"}).status_code == 200
    # what the document refuses, the node refuses (a 4xx, problem+json)
    for body in (
        [{**item, "colour": "red"}],
        [{**item, "observed_at": "2026-02-29T00:00:00Z"}],
        [{**item, "label": "//JPN SECRET"}],
    ):
        r = alice.post("/api/v1/tracks", json=body)
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith(PROBLEM), body
    r = alice.post("/api/v1/reports/batch", json=[])
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith(PROBLEM)
