"""Interoperability: labelled exports and imports in the field's formats (issue 16).

An adapter above the domains: it reaches them only through the kernel contract, the
``Exports`` registry of started plugins in its context (``Domain.features`` for exports,
``Domain.imports``/``import_features`` for imports). Exports (KML 2.2, NVG 2.0, GeoJSON,
CSV, TAK data packages) are built per reader, each feature re-checked by the one release
check, marked and bound to a STANAG 4774 label (``binding``); imports (KML, KMZ, GeoJSON,
NVG) refuse hostile files with a reason (``imports``). Routes ``/api/v1/export``,
``/api/v1/export/takpkg``, ``/api/v1/import``; CLI ``kizuna export``, ``kizuna import``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kizuna.kernel.contract import Domain, OpenNode

if TYPE_CHECKING:
    import typer

    from kizuna.kernel.context import NodeContext


class Interop(Domain):
    name = "interop"

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.interop.service import InteropService

        return InteropService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.interop.views import InteropController

        return (InteropController,)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.interop.cli import export_app, import_app

        return {"export": export_app(open_node), "import": import_app(open_node)}


plugin = Interop()
