"""The request routes in-process: typed answers with today's JSON shape, described by OpenAPI."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, Response, Router
from litestar.di import Provide
from litestar.testing import TestClient

from kizuna.api.problems import EXCEPTION_HANDLERS, problem_response
from kizuna.coordination import plugin
from kizuna.core.errors import KizunaError
from kizuna.kernel.context import Caller
from kizuna.kernel.testing import memory_context
from tests.coordination.inproc import caller, start

SUMMARY = {
    "id",
    "requester",
    "addressees",
    "kind",
    "precedence",
    "status",
    "due",
    "overdue",
    "title",
    "body",
    "original_language",
    "links",
    "response",
    "decline_reason",
    "label",
    "label_fgi",
    "label_ja",
    "classification",
    "rel_to",
    "noforn",
    "exercise",
    "originator",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
}
LABEL = {
    "label",
    "label_fgi",
    "label_ja",
    "classification",
    "rel_to",
    "noforn",
    "exercise",
    "originator",
}


def _domain_error(request: Request[Any, Any, Any], exc: KizunaError) -> Response[Any]:
    return problem_response(exc.status, exc.detail, f"/problems/{exc.kind}", **exc.extra)


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    ctx = memory_context()
    service = start(ctx)
    users = {
        "asker": caller(ctx, "asker", "USA", "SECRET", "requester"),
        "helper": caller(ctx, "helper", "JPN", "SECRET", "responder"),
        "jack": caller(ctx, "jack", "AUS", "SECRET"),
    }

    async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
        return users[request.headers["x-user"]]

    # As the node mounts a plugin: its handlers get its service as `service`.
    router = Router(
        path="/",
        route_handlers=list(plugin.routes()),
        dependencies={"service": Provide(lambda: service, use_cache=True, sync_to_thread=False)},
    )
    app = Litestar(
        route_handlers=[router],
        dependencies={"caller": Provide(provide_caller)},
        exception_handlers={**EXCEPTION_HANDLERS, KizunaError: _domain_error},
    )
    with TestClient(app) as c:
        yield c
    ctx.backend.close()


def as_(who: str) -> dict[str, str]:
    return {"x-user": who}


def test_lifecycle_answers_keep_their_shape(client: TestClient[Litestar]) -> None:
    plan = "燃料計画".encode()
    body = {
        "addressees": ["usfj"],
        "kind": "support",
        "precedence": "IMMEDIATE",
        "label": "SECRET//REL TO USA, JPN",
        "title": {"en": "Fuel support at Misawa", "ja": "三沢での燃料支援"},
        "links": [{"type": "report", "id": "r-1"}],
        "attachments": [
            {
                "name": "plan.txt",
                "media_type": "text/plain",
                "label": "S//REL TO USA, JPN",
                "content": base64.b64encode(plan).decode(),
            },
            {
                "name": "us.txt",
                "media_type": "text/plain",
                "label": "S//NOFORN",
                "content": base64.b64encode(b"us only").decode(),
            },
        ],
    }
    r = client.post("/api/v1/requests", json=body, headers=as_("asker"))
    assert r.status_code == 201, r.text
    req = r.json()
    rid = req["id"]
    assert set(req) == SUMMARY | {"attachments", "comments", "timeline", "allowed_transitions"}
    assert req["status"] == "DRAFT" and req["allowed_transitions"] == ["SUBMITTED", "CANCELLED"]
    assert req["label"] == "SECRET//REL TO USA, JPN" and req["label_ja"].startswith("極秘")
    assert req["links"] == [{"type": "report", "id": "r-1"}]
    assert req["response"] is None and req["decline_reason"] == ""
    assert [set(a) for a in req["attachments"]] == [
        LABEL | {"id", "node", "at", "name", "media_type", "size", "author"}
    ] * 2
    assert [(a["name"], a["size"]) for a in req["attachments"]] == [
        ("plan.txt", len(plan)),
        ("us.txt", 7),
    ]
    assert req["timeline"] == [
        {
            "at": req["timeline"][0]["at"],
            "actor": "asker",
            "node": "usfj",
            "action": "create",
            "from": None,
            "to": "DRAFT",
            "reason": "",
        },
        *req["timeline"][1:],
    ]

    seen = client.get(f"/api/v1/requests/{rid}", headers=as_("helper")).json()
    assert [a["name"] for a in seen["attachments"]] == ["plan.txt"]
    got = client.get(
        f"/api/v1/requests/{rid}/attachments/{seen['attachments'][0]['id']}",
        headers=as_("helper"),
    )
    assert got.status_code == 200 and got.content == plan
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''plan.txt"
    hidden = req["attachments"][1]["id"]
    url = f"/api/v1/requests/{rid}/attachments/{hidden}"
    assert client.get(url, headers=as_("helper")).status_code == 404
    assert client.get(url, headers=as_("asker")).content == b"us only"

    def move(who: str, to: str, **extra: object) -> Any:
        return client.post(
            f"/api/v1/requests/{rid}/transitions", json={"to": to, **extra}, headers=as_(who)
        )

    r = move("helper", "SUBMITTED")
    assert r.status_code == 403 and r.json()["allowed_transitions"] == []
    assert move("asker", "SUBMITTED").status_code == 200
    assert move("helper", "ACKNOWLEDGED").json()["status"] == "ACKNOWLEDGED"
    accepted = move("helper", "ACCEPTED", response={"en": "Two tankers", "ja": "2台"})
    assert accepted.status_code == 200
    assert accepted.json()["response"] == {"en": "Two tankers", "ja": "2台"}

    r = client.post(
        f"/api/v1/requests/{rid}/comments",
        json={"label": "SECRET//NOFORN", "text": {"en": "US-only note"}},
        headers=as_("asker"),
    )
    assert r.status_code == 201, r.text
    assert [set(c) for c in r.json()["comments"]] == [
        LABEL | {"id", "node", "at", "author", "text"}
    ]
    theirs = client.get(f"/api/v1/requests/{rid}", headers=as_("helper")).json()
    assert theirs["comments"] == []
    assert [t["action"] for t in theirs["timeline"]] == [
        "create",
        "attach",
        "transition",
        "transition",
        "transition",
    ]

    r = client.patch(
        f"/api/v1/requests/{rid}",
        json={"title": {"en": "Fuel", "ja": "燃料"}},
        headers=as_("asker"),
    )
    assert r.status_code == 200 and r.json()["title"] == {"en": "Fuel", "ja": "燃料"}

    listed = client.get("/api/v1/requests", params={"status": "ACCEPTED"}, headers=as_("asker"))
    assert [x["id"] for x in listed.json()] == [rid]
    assert client.get("/api/v1/requests", headers=as_("jack")).json() == []
    assert client.get(f"/api/v1/requests/{rid}", headers=as_("jack")).status_code == 404


def test_openapi_describes_every_answer(client: TestClient[Litestar]) -> None:
    doc = client.get("/schema/openapi.json").json()
    paths = doc["paths"]
    for path, method, status in (
        ("/api/v1/requests", "post", "201"),
        ("/api/v1/requests", "get", "200"),
        ("/api/v1/requests/{request_id}", "get", "200"),
        ("/api/v1/requests/{request_id}", "patch", "200"),
        ("/api/v1/requests/{request_id}/transitions", "post", "200"),
        ("/api/v1/requests/{request_id}/comments", "post", "201"),
    ):
        schema = paths[path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert "RequestOut" in str(schema), (path, method, schema)
    components = doc["components"]["schemas"]
    out = next(v for k, v in components.items() if k.endswith("RequestOut"))
    assert SUMMARY | {"attachments", "comments", "timeline"} <= set(out["properties"])
    change = next(v for k, v in components.items() if k.endswith("ChangeOut"))
    assert "from" in change["properties"]
