"""`kizuna export …` and `kizuna import …`: labelled exports and overlay imports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from kizuna.kernel import panels
from kizuna.kernel.contract import OpenNode

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="The user the export is built for.")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def export_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(
        help="Export what a user may see, labelled.",
        invoke_without_command=True,
        rich_help_panel=panels.DATA,
    )

    @app.callback()
    def export(
        dir: DirOpt,
        user: AsOpt,
        format: Annotated[str, typer.Option("--format", help="kml, nvg, geojson, csv or takpkg.")],
        out: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
        types: Annotated[str, typer.Option(help="Record types, comma-separated.")] = "",
        bbox: Annotated[str, typer.Option(help="minlon,minlat,maxlon,maxlat.")] = "",
        record: Annotated[str, typer.Option(help="Only this record's features.")] = "",
        lang: Annotated[str, typer.Option(help="en or ja.")] = "en",
    ) -> None:
        """Write USER's export: every feature USER may see, marked, with its STANAG 4774
        label bound to it (STANAG 4778 manner)."""
        from kizuna.core.errors import KizunaError
        from kizuna.kernel.logging import configure

        configure("ERROR")
        handle = open_node(dir)
        try:
            service = handle.service("interop")
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
                task = bar.add_task(f"collecting what {user} may see", total=2)
                try:
                    caller = service.caller_for(user)
                    from kizuna.interop.service import parse_bbox, parse_types

                    done = service.export(
                        caller,
                        format,
                        types=parse_types(types),
                        bbox=parse_bbox(bbox),
                        record=record or None,
                        lang=lang,
                    )
                except KizunaError as exc:
                    _fail(exc.detail)
                bar.update(task, advance=1, description=f"writing {format}")
                target = out or Path(done.filename)
                target.write_bytes(done.data)
                bar.update(task, advance=1)
        finally:
            handle.close()
        Console().print(
            f"{done.marking}\n{done.count} features for {user} written to {target} "
            f"({len(done.data)} bytes)"
        )

    return app


def import_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(
        help="Import an overlay (KML, KMZ, GeoJSON, NVG).",
        invoke_without_command=True,
        rich_help_panel=panels.DATA,
    )

    @app.callback()
    def import_(
        path: Annotated[Path, typer.Argument(help="The file to import.")],
        dir: DirOpt,
        user: AsOpt,
        kind: Annotated[str, typer.Option(help="zone, training_area, …")],
        label: Annotated[str, typer.Option(help="The label of what is imported.")],
    ) -> None:
        """Import PATH's features as KIND records under LABEL, as USER; all or nothing.

        Options come before PATH: ``kizuna import --dir D --as U --kind zone --label L PATH``."""
        from kizuna.core.errors import KizunaError
        from kizuna.kernel.logging import configure

        configure("ERROR")
        if not path.is_file():
            _fail(f"{path} is not a file")
        handle = open_node(dir)
        try:
            service = handle.service("interop")
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
                bar.add_task(f"importing {path.name}", total=None)
                try:
                    result = service.import_file(
                        service.caller_for(user),
                        kind,
                        label,
                        path.read_bytes(),
                        filename=path.name,
                    )
                except KizunaError as exc:
                    _fail(f"{path.name} refused: {exc.detail}", 1)
        finally:
            handle.close()
        Console().print(
            f"{result.imported} {kind} imported from {path} ({result.format}) as {result.label}"
        )

    return app
