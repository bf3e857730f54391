"""`kizuna request …`: coordination requests from the node's own database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kizuna.kernel.contract import OpenNode


def request_app(open_node: OpenNode) -> typer.Typer:
    """The ``request`` command group, opening nodes with ``open_node``."""
    app = typer.Typer(help="Coordination requests.", no_args_is_help=True)

    @app.command("list")
    def request_list(
        dir: Annotated[Path, typer.Option("--dir", help="Node directory.")],
        status: Annotated[
            str | None, typer.Option(help="Only this status, e.g. SUBMITTED.")
        ] = None,
        overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue requests.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    ) -> None:
        """List every request held by this node (an operator's view of the node's own database)."""
        handle = open_node(dir)
        try:
            try:
                service = handle.service("coordination")
            except KeyError:
                Console(stderr=True).print(
                    "[red]error:[/red] the coordination plugin is not enabled on this node"
                )
                raise typer.Exit(2) from None
            rows = service.summaries()
        finally:
            handle.close()
        rows = [
            r
            for r in rows
            if (status is None or r["status"] == status.upper()) and (not overdue or r["overdue"])
        ]
        if as_json:
            for r in rows:
                print(json.dumps(r, ensure_ascii=False))
            return
        table = Table("id", "status", "prec", "kind", "from → to", "due", "label", "title")
        for r in rows:
            title = r["title"]["en"] or r["title"]["ja"]
            due = (r["due"] or "") + (" OVERDUE" if r["overdue"] else "")
            route = f"{r['requester']} → {', '.join(r['addressees'])}"
            table.add_row(
                r["id"], r["status"], r["precedence"], r["kind"], route, due, r["label"], title
            )
        Console().print(table)

    return app
