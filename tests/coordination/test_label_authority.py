"""Label authority on requests (issue 17, finding 2 for the coordination domain)."""

from __future__ import annotations

import json

import pytest

from kizuna.coordination.models import RequestPatch
from kizuna.core.errors import Forbidden
from kizuna.kernel.testing import memory_context
from tests.coordination.inproc import ask, caller, start


def audit(ctx: object, action: str) -> list[dict[str, object]]:
    path = ctx.root / "audit.log"  # type: ignore[attr-defined]
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["action"] == action]


def test_only_the_originators_classifier_widens_a_request() -> None:
    ctx = memory_context("usfj", "USA")
    service = start(ctx)
    alice = caller(ctx, "alice", "USA", "SECRET", "requester")
    grace = caller(ctx, "grace", "USA", "SECRET", "admin")
    hana = caller(ctx, "hana", "JPN", "SECRET", "admin")  # JPN, on the requester node
    state = service.create(alice, ask(label="SECRET//REL TO USA, JPN", title="Fuel"))
    rid = state.record_id
    before = len(ctx.events.record_events("request", rid))

    for who, marking in (
        (alice, "UNCLASSIFIED"),
        (alice, "SECRET//REL TO USA, AUS, JPN"),
        (hana, "SECRET//REL TO USA, AUS, JPN"),
        (hana, "CONFIDENTIAL//REL TO USA, JPN"),
    ):
        with pytest.raises(Forbidden):
            service.edit(who, rid, RequestPatch(label=marking, title=None))
    assert len(ctx.events.record_events("request", rid)) == before  # nothing written
    assert service.get(alice, rid).label.render() == "SECRET//REL TO USA, JPN"
    refused = [e for e in audit(ctx, "access") if e["details"]["reason"] == "relabel"]  # type: ignore[index]
    assert len(refused) == 4

    # Restricting is for anyone who may edit; widening for the originator's classifier.
    service.edit(alice, rid, RequestPatch(label="SECRET//NOFORN"))
    service.edit(grace, rid, RequestPatch(label="SECRET//REL TO USA, AUS, JPN"))
    changes = [
        (e["actor"], e["details"]["before"], e["details"]["after"])  # type: ignore[index]
        for e in audit(ctx, "label.change")
    ]
    assert changes == [
        ("alice", "SECRET//REL TO USA, JPN", "SECRET//NOFORN"),
        ("grace", "SECRET//NOFORN", "SECRET//REL TO USA, AUS, JPN"),
    ]
    # The widening edit carries the whole content: a peer it now reaches can hold it all.
    widening = ctx.events.record_events("request", rid)[-1]
    assert widening.payload["set"]["title"] == {"en": "Fuel", "ja": ""}
    assert widening.payload["set"]["addressees"] == ["usfj"]
    assert widening.payload["whole"] is True
    narrowing = ctx.events.record_events("request", rid)[-2]
    assert "title" not in narrowing.payload["set"]
