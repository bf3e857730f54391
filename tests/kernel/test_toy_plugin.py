"""A domain shipped as its own package joins nodes through its entry point alone.

The toy package under ``toy_plugin/`` (code plus a dist-info with its entry point) is put
on ``PYTHONPATH``; no file of Kizuna names it. Its routes appear in OpenAPI, its records
(an event-log record type with its own merge rule, and a stream outside the log) federate
between two real nodes under the release check, and its CLI command runs.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster
from tests.nodes import kizuna

TOY = Path(__file__).parent / "toy_plugin"
TYPES = "report,track,request,toy_note,toy_beacon"


@pytest.fixture
def toy_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TOY))


def _wait(probe, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.e2e
def test_toy_domain_joins_by_entry_point_alone(toy_on_path: None, cluster: Cluster) -> None:
    usfj = cluster.node("usfj", "USA")
    aus = cluster.node("aus", "AUS")
    cluster.link("usfj", "aus", types=TYPES)
    cluster.start()
    us = usfj.user("alice", "USA", "SECRET")
    au = aus.user("bruce", "AUS", "SECRET")

    # Its routes are in the node's OpenAPI document, with a response schema.
    doc = httpx.get(f"{usfj.url}/api/docs/openapi.json").json()
    assert "/api/v1/toy/notes" in doc["paths"]
    ok = doc["paths"]["/api/v1/toy/notes"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]

    # Event-log records: the secret one stays home, the releasable one reaches AUS.
    secret = us.post(
        "/api/v1/toy/notes", json={"label": "SECRET//NOFORN", "text": "home", "count": 1}
    )
    assert secret.status_code == 201, secret.text
    shared = us.post(
        "/api/v1/toy/notes",
        json={"label": "SECRET//REL TO USA, AUS", "text": "shared", "count": 7},
    )
    assert shared.status_code == 201, shared.text
    notes = _wait(lambda: au.get("/api/v1/toy/notes").json())
    assert [(n["text"], n["count"], n["origin"]) for n in notes] == [("shared", 7, "usfj")]

    # The stream outside the log: the same rule, applied by federation to its envelope.
    us.post("/api/v1/toy/beacons", json={"label": "SECRET//NOFORN", "text": "no"})
    us.post("/api/v1/toy/beacons", json={"label": "UNCLASSIFIED", "text": "yes"})
    beacons = _wait(lambda: au.get("/api/v1/toy/beacons").json())
    time.sleep(1.5)  # one more link round: nothing else may arrive
    beacons = au.get("/api/v1/toy/beacons").json()
    assert [(b["text"], b["via"]) for b in beacons] == [("yes", "usfj")]

    # AUS's node holds nothing it may not see: its own database is the proof.
    cluster.stop()
    out = kizuna("toy", "count", "--dir", str(aus.dir)).stdout
    assert out.strip() == "toy notes: 1"
    out = kizuna("toy", "count", "--dir", str(usfj.dir)).stdout
    assert out.strip() == "toy notes: 2"


def test_toy_merge_rule_is_registered_for_its_record_type(toy_on_path: None) -> None:
    import sys

    sys.path.insert(0, str(TOY))
    try:
        import kizuna_toy

        from kizuna.core.labels import parse_label
        from kizuna.kernel.testing import memory_context
        from kizuna.store.base import Draft

        ctx = memory_context()
        for rt in kizuna_toy.plugin.record_types():
            ctx.events.register_merge(rt.name, rt.merge)
        label = parse_label("UNCLASSIFIED", originator="USA")
        ctx.events.append([Draft("toy_note", "n1", "create", label, {"text": "a", "count": 5})])
        ctx.events.append([Draft("toy_note", "n1", "patch", label, {"count": 3})])
        state = ctx.events.get("toy_note", "n1")
        assert state is not None and state.fields["count"] == 5
    finally:
        sys.path.remove(str(TOY))
        sys.modules.pop("kizuna_toy", None)
