"""`kizuna access …`: the node operator's view of its access arrangements."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from kizuna.core.errors import KizunaError
from kizuna.kernel.contract import OpenNode


def access_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(help="Access arrangements (SOFA, RAAs).", no_args_is_help=True)
    err = Console(stderr=True)

    def service(dir: Path):  # type: ignore[no-untyped-def]
        handle = open_node(dir)
        try:
            return handle, handle.service("access")
        except KeyError:
            handle.close()
            err.print("[red]error:[/red] the access plugin is not enabled on this node")
            raise typer.Exit(2) from None

    @app.command("list")
    def access_list(
        dir: Annotated[Path, typer.Option("--dir", help="Node directory.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    ) -> None:
        """The arrangements this node decides with (its own records)."""
        handle, svc = service(dir)
        try:
            rows = [msgspec.to_builtins(a) for a in svc.own()]
        finally:
            handle.close()
        if as_json:
            for r in rows:
                print(json.dumps(r, ensure_ascii=False))
            return
        table = Table("key", "nations", "in force", "expires", "activities", "bases")
        for r in sorted(rows, key=lambda r: r["in_force"]):
            table.add_row(
                r["key"],
                ",".join(r["nations"]),
                r["in_force"],
                r.get("expires") or "",
                ",".join(r["activities"]),
                ",".join(r["bases"]),
            )
        Console().print(table)

    @app.command("load")
    def access_load(
        file: Annotated[Path, typer.Argument(help="TOML with [[arrangement]] tables, or JSON.")],
        dir: Annotated[Path, typer.Option("--dir", help="Node directory.")],
    ) -> None:
        """Create or update this node's arrangements (by key) from a file: all or nothing."""
        try:
            text = file.read_text(encoding="utf-8")
            data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            err.print(f"[red]error:[/red] cannot read {file}: {exc}")
            raise typer.Exit(2) from None
        rows = data if isinstance(data, list) else data.get("arrangement", [])
        handle, svc = service(dir)
        try:
            written = svc.load(rows, author="cli")
        except KizunaError as exc:
            err.print(f"[red]error:[/red] {exc.detail}")
            raise typer.Exit(2) from None
        finally:
            handle.close()
        for rid in written:
            print(rid)

    return app
