"""`kizuna exercise …`: the MSEL from CSV, on the node's own database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kizuna.core.errors import KizunaError
from kizuna.kernel.contract import OpenNode


def exercise_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(help="Exercises and their MSEL.", no_args_is_help=True)

    @app.command("import-msel")
    def import_msel(
        exercise_id: Annotated[str, typer.Argument(help="The exercise's id.")],
        csv_file: Annotated[Path, typer.Argument(help="The MSEL as CSV.", exists=True)],
        dir: Annotated[Path, typer.Option("--dir", help="Node directory.")],
    ) -> None:
        """Import an MSEL as this node's exercise control: every row or none."""
        text = csv_file.read_text(encoding="utf-8-sig")
        handle = open_node(dir)
        try:
            try:
                service = handle.service("exercises")
            except KeyError:
                Console(stderr=True).print("[red]error:[/red] the exercises plugin is not enabled")
                raise typer.Exit(2) from None
            try:
                result = service.import_msel(service.node_caller(), exercise_id, text)
            except KizunaError as exc:
                err = Console(stderr=True)
                err.print(f"[red]error:[/red] {exc.detail}")
                for problem in exc.extra.get("errors", []) or []:
                    err.print(f"  {problem}")
                raise typer.Exit(1) from None
        finally:
            handle.close()
        print(f"imported {result.imported} injects")

    return app
