"""`kizuna request …`: coordination requests from the node's own database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

request_app = typer.Typer(help="Coordination requests.", no_args_is_help=True)


@request_app.command("list")
def request_list(
    dir: Annotated[Path, typer.Option("--dir", help="Node directory.")],
    status: Annotated[str | None, typer.Option(help="Only this status, e.g. SUBMITTED.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue requests.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List every request held by this node (an operator's view of the node's own database)."""
    from kizuna.coordination.models import REQUEST
    from kizuna.coordination.rules import is_complete
    from kizuna.coordination.service import request_summary
    from kizuna.node.runtime import Node

    try:
        node = Node(dir)
    except (FileNotFoundError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    try:
        rows = [request_summary(s) for s in node.store.scan(REQUEST) if is_complete(s)]
    finally:
        node.close()
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
