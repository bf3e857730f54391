"""HTTP routes: an incident's SITREP (JSON or PDF, English or Japanese) and its HXL 3W."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, TypeAlias

import anyio.to_thread
import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from kizuna.kernel.context import CallerDep
from kizuna.sitrep.models import Format, Language, SitrepIn, SitrepOut
from kizuna.sitrep.service import SitrepService

SitrepServiceDep: TypeAlias = NamedDependency[SitrepService]

PDF = "application/pdf"
JSON = "application/json"
CSV = "text/csv; charset=utf-8"

_SITREP_RESPONSE = ResponseSpec(
    data_container=SitrepOut,
    description=(
        "The SITREP as the caller may see it: JSON (this schema) or, with format=pdf, "
        "an application/pdf document; the label fields are its classification banner"
    ),
    generate_examples=False,
)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:80] or "incident"


def _filename(sitrep: SitrepOut, language: str, ext: str) -> str:
    which = str(sitrep.number) if sitrep.number is not None else "preview"
    return f"sitrep-{_safe(sitrep.incident_id)}-{which}-{language}.{ext}"


async def _answer(
    service: SitrepService, sitrep: SitrepOut, lang: str, fmt: str, status: int
) -> Response[bytes]:
    headers = {"X-Content-Type-Options": "nosniff", "X-Kizuna-Classification": sitrep.label}
    if fmt == "pdf":
        # typst compiles off the event loop (about a second for a thousand lines).
        body = await anyio.to_thread.run_sync(service.pdf, sitrep, lang)
        headers["Content-Disposition"] = f'attachment; filename="{_filename(sitrep, lang, "pdf")}"'
        return Response(body, media_type=PDF, status_code=status, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{_filename(sitrep, lang, "json")}"'
    return Response(
        msgspec.json.encode(sitrep), media_type=JSON, status_code=status, headers=headers
    )


class SitrepController(Controller):
    path = "/api/v1/incidents"
    tags: ClassVar[list[str]] = ["sitreps"]

    @get(
        "/{incident_id:str}/sitrep",
        summary="The incident's latest SITREP as the caller may see it (a preview if none was issued)",
        responses={200: _SITREP_RESPONSE},
    )
    async def get_sitrep(
        self,
        incident_id: FromPath[str],
        caller: CallerDep,
        service: SitrepServiceDep,
        lang: FromQuery[Language] = "en",
        format: FromQuery[Format] = "json",
        number: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Response[bytes]:
        sitrep = service.current(caller, incident_id, number)
        return await _answer(service, sitrep, lang, format, 200)

    @post(
        "/{incident_id:str}/sitrep",
        status_code=201,
        summary="Issue the incident's next numbered SITREP (Initial, then Update; Final closes)",
        responses={201: _SITREP_RESPONSE},
        opt={"problems": (409,)},
    )
    async def issue_sitrep(
        self,
        incident_id: FromPath[str],
        data: JSONBody[SitrepIn],
        caller: CallerDep,
        service: SitrepServiceDep,
        lang: FromQuery[Language] = "en",
        format: FromQuery[Format] = "json",
    ) -> Response[bytes]:
        sitrep = service.issue(caller, incident_id, data)
        return await _answer(service, sitrep, lang, format, 201)

    @get(
        "/{incident_id:str}/3w.csv",
        summary="Who does what where: HXL-tagged CSV of the commitments and tasks the caller may see",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                description="CSV: a header row, the HXL hashtag row, one row per commitment line and task",
                media_type=CSV,
                generate_examples=False,
            )
        },
    )
    async def who_does_what_where(
        self,
        incident_id: FromPath[str],
        caller: CallerDep,
        service: SitrepServiceDep,
        lang: FromQuery[Language] = "en",
    ) -> Response[bytes]:
        text, sitrep = service.who_does_what_where(caller, incident_id, lang)
        name = f"3w-{_safe(incident_id)}-{lang}.csv"
        return Response(
            text.encode("utf-8"),
            media_type=CSV,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-Content-Type-Options": "nosniff",
                "X-Kizuna-Classification": sitrep.label,
            },
        )
