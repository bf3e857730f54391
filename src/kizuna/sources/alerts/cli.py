"""`kizuna ingest alerts PATH`: import JMA XML / CAP documents (a file or a folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from kizuna.kernel import panels
from kizuna.kernel.contract import OpenNode

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def ingest_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(
        help="Import feeds into the node.", no_args_is_help=True, rich_help_panel=panels.DATA
    )

    @app.command("alerts")
    def ingest_alerts(
        path: Annotated[Path, typer.Argument(help="A JMA XML or CAP 1.2 file, or a folder.")],
        dir: DirOpt,
        label: Annotated[
            str, typer.Option(help="Label of new incidents (default: [incidents] default_label).")
        ] = "",
    ) -> None:
        """Import alert documents into incidents, with a progress bar and a summary."""
        from kizuna.core.labels import LabelError
        from kizuna.kernel.logging import configure
        from kizuna.sources.alerts.service import alert_files

        configure("ERROR")
        if not path.exists():
            typer.echo(f"error: {path} does not exist", err=True)
            raise typer.Exit(2)
        files = alert_files(path)
        handle = open_node(dir)
        try:
            service = handle.service("alerts")
            try:
                chosen = service._label(label) if label else None
            except (LabelError, ValueError) as exc:
                typer.echo(f"error: bad label: {exc}", err=True)
                raise typer.Exit(2) from None
            with Progress(
                TextColumn("[bold]alerts"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                transient=True,
            ) as progress:
                task = progress.add_task("", total=len(files))
                summary = service.ingest_files(
                    files,
                    chosen,
                    progress=lambda o: progress.update(task, advance=1, description=o.outcome),
                )
        finally:
            handle.close()
        console = Console()
        table = Table(title=f"{len(files)} documents from {path}")
        table.add_column("outcome")
        table.add_column("count", justify="right")
        for name in ("new", "updated", "unchanged", "rejected", "test"):
            table.add_row(name, str(summary.counts.get(name, 0)))
        console.print(table)
        if summary.rejected:
            rejects = Table(title="rejected")
            for column in ("file", "reason", "detail"):
                rejects.add_column(column)
            for o in summary.rejected:
                rejects.add_row(o.name, o.reason, o.message)
            console.print(rejects)
        if summary.tests:
            tests = Table(title="test bulletins (logged, not filed)")
            tests.add_column("file")
            tests.add_column("key")
            for o in summary.tests:
                tests.add_row(o.name, o.key)
            console.print(tests)
        if summary.rejected:
            raise typer.Exit(1)

    return app
