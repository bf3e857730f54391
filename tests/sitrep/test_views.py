"""The SITREP routes in-process: JSON and PDF per reader, issuing, HXL, problem+json."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, Response, Router
from litestar.di import Provide
from litestar.testing import TestClient

from kizuna.api.problems import EXCEPTION_HANDLERS, problem_response
from kizuna.core.errors import KizunaError
from kizuna.kernel.context import Caller
from kizuna.sitrep import plugin
from tests.sitrep.pdftext import pdf_text
from tests.sitrep.support import Scenario


def _domain_error(request: Request[Any, Any, Any], exc: KizunaError) -> Response[Any]:
    return problem_response(exc.status, exc.detail, f"/problems/{exc.kind}", **exc.extra)


@pytest.fixture
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture
def client(scenario: Scenario) -> Iterator[TestClient[Litestar]]:
    users = {"alice": scenario.usa, "kenji": scenario.jpn, "ava": scenario.aus}

    async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
        return users[request.headers["x-user"]]

    router = Router(
        path="/",
        route_handlers=list(plugin.routes()),
        dependencies={
            "service": Provide(lambda: scenario.sitrep, use_cache=True, sync_to_thread=False)
        },
    )
    app = Litestar(
        route_handlers=[router],
        dependencies={"caller": Provide(provide_caller)},
        exception_handlers={**EXCEPTION_HANDLERS, KizunaError: _domain_error},
    )
    with TestClient(app) as c:
        yield c


def as_(who: str) -> dict[str, str]:
    return {"x-user": who}


BODY = {
    "authorised_by": {"user": "Col. Sato", "organisation": "JJOC"},
    "confidence": "SomewhatConfident",
    "next_contact": "2024-01-02T09:00:00Z",
}


def test_issue_then_read_per_reader(client: TestClient[Litestar], scenario: Scenario) -> None:
    url = f"/api/v1/incidents/{scenario.incident_id}/sitrep"
    r = client.post(url, json=BODY, headers=as_("alice"))
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["number"], first["version"]) == (1, "Initial")
    assert first["label"] == "SECRET//REL TO USA, JPN"
    assert first["period"].keys() == {"from", "to"}
    assert r.headers["content-disposition"] == (
        f'inline; filename="sitrep-{scenario.incident_id}-1-en.json"'
    )
    r = client.post(url, json={**BODY, "version": "Final"}, headers=as_("alice"))
    assert r.status_code == 201 and r.json()["version"] == "Final"
    again = client.post(url, json=BODY, headers=as_("alice"))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")

    theirs = client.get(url, headers=as_("ava")).json()
    assert (theirs["number"], theirs["version"]) == (2, "Final")
    assert [x["id"] for x in theirs["rfas"]] == ["rfa-water"]
    assert theirs["label"] == "SECRET//REL TO USA, AUS, JPN"

    pdf = client.get(url, params={"format": "pdf", "lang": "ja"}, headers=as_("ava"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="sitrep-{scenario.incident_id}-2-ja.pdf"'
    )
    assert pdf.content.startswith(b"%PDF")
    text = "".join(pdf_text(pdf.content).split())
    assert "状況報告" in text and "最終報" in text and "極秘" in text


def test_bad_requests_are_problems(client: TestClient[Litestar], scenario: Scenario) -> None:
    r = client.get("/api/v1/incidents/jma-unknown/sitrep", headers=as_("alice"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404
    url = f"/api/v1/incidents/{scenario.incident_id}/sitrep"
    assert client.get(url, params={"lang": "fr"}, headers=as_("alice")).status_code == 400
    bad = client.post(url, json={"authorised_by": {"user": ""}}, headers=as_("alice"))
    assert bad.status_code == 400
    assert client.get(url, params={"number": 5}, headers=as_("alice")).status_code == 404


def test_who_does_what_where_csv(client: TestClient[Litestar], scenario: Scenario) -> None:
    r = client.get(
        f"/api/v1/incidents/{scenario.incident_id}/3w.csv",
        params={"lang": "en"},
        headers=as_("ava"),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (
        f'attachment; filename="3w-{scenario.incident_id}-en.csv"'
    )
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[1][:6] == ["#org", "#sector", "#adm1", "#activity", "#reached", "#inneed"]
    assert {row[rows[1].index("#meta+id")] for row in rows[2:]} == {"offer-aus", "task-aus"}
