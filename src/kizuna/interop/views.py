"""Routes: exports per reader (KML, NVG, GeoJSON, CSV, TAK data package) and imports."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, TypeAlias

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, QueryParameter

from kizuna.interop.models import ImportResult, InteropStatus
from kizuna.interop.service import Exported, InteropService, parse_bbox, parse_types
from kizuna.kernel.context import CallerDep
from kizuna.kernel.params import BBoxQuery

InteropDep: TypeAlias = NamedDependency[InteropService]
Format = Literal["kml", "nvg", "geojson", "csv"]
Lang = Annotated[Literal["en", "ja"], QueryParameter(description="Language of names")]
TypesQuery = Annotated[
    str | None,
    QueryParameter(
        description="Record types to export, comma-separated (track, incident, mda_event, …)",
        max_length=500,
    ),
]
RecordQuery = Annotated[
    str | None,
    QueryParameter(
        description="Only the features of this record (an incident id, …)", max_length=200
    ),
]
Marking = Annotated[
    str, QueryParameter(description="The importer's label for what is imported", max_length=512)
]


def _answer(out: Exported) -> Response[bytes]:
    return Response(
        content=out.data,
        media_type=out.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{out.filename}"',
            "X-Kizuna-Marking": out.marking,
            "X-Kizuna-Features": str(out.count),
        },
    )


class InteropController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["interop"]  # type: ignore[misc]

    @get(
        "/export",
        summary="The caller's labelled export: KML, NVG 2.0, GeoJSON or CSV, marked and "
        "bound to its STANAG 4774 label (STANAG 4778 manner)",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                description="The document: application/vnd.google-earth.kml+xml (kml), "
                "application/xml (nvg), application/geo+json (geojson) or text/csv (csv); "
                "X-Kizuna-Marking names its marking",
                media_type="application/octet-stream",
                generate_examples=False,
            )
        },
    )
    async def export(
        self,
        caller: CallerDep,
        service: InteropDep,
        format: Annotated[Format, QueryParameter(description="kml, nvg, geojson or csv")],
        types: TypesQuery = None,
        bbox: BBoxQuery = None,
        record: RecordQuery = None,
        lang: Lang = "en",
    ) -> Response[bytes]:
        return _answer(
            service.export(
                caller,
                format,
                types=parse_types(types),
                bbox=parse_bbox(bbox),
                record=record,
                lang=lang,
            )
        )

    @get(
        "/export/takpkg",
        summary="The caller's export as a TAK data package (zip with MANIFEST/manifest.xml)",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                description="A zip: MANIFEST/manifest.xml, the KML overlay, one CoT event per "
                "feature and the package's STANAG 4774 label",
                media_type="application/zip",
                generate_examples=False,
            )
        },
    )
    async def takpkg(
        self,
        caller: CallerDep,
        service: InteropDep,
        types: TypesQuery = None,
        bbox: BBoxQuery = None,
        record: RecordQuery = None,
        lang: Lang = "en",
    ) -> Response[bytes]:
        return _answer(
            service.export(
                caller,
                "takpkg",
                types=parse_types(types),
                bbox=parse_bbox(bbox),
                record=record,
                lang=lang,
            )
        )

    @post(
        "/import",
        status_code=201,
        sync_to_thread=True,
        summary="Import a KML, KMZ, GeoJSON or NVG overlay (multipart field 'file') as "
        "zones, training areas or drawings under the importer's label; all or nothing",
    )
    def import_overlay(
        self,
        caller: CallerDep,
        service: InteropDep,
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
        kind: Annotated[str, QueryParameter(description="zone, training_area, …", max_length=64)],
        label: Marking,
        format: Annotated[
            Literal["kml", "kmz", "geojson", "nvg"] | None,
            QueryParameter(description="The file's format (default: from its name or content)"),
        ] = None,
    ) -> ImportResult:
        from kizuna.interop.imports import MAX_FILE_BYTES

        body = data.file.read(MAX_FILE_BYTES + 1)
        return service.import_file(
            caller, kind, label, body, filename=data.filename or "", fmt=format
        )

    @get("/interop", summary="Export formats, import formats and kinds this node offers")
    async def interop_status(self, service: InteropDep, caller: CallerDep) -> InteropStatus:
        return service.status()
