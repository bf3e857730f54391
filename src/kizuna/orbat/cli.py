"""`kizuna orbat export|import`: the ORBAT in the kizuna-orbat JSON form, from the node's
own database (an operator's command; the export is released to ``--to``'s nation)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from kizuna.core.labels import Classification
from kizuna.core.release import make_principal
from kizuna.kernel.context import Caller
from kizuna.kernel.contract import OpenNode
from kizuna.orbat.models import OrbatDocument
from kizuna.store.base import User

Dir = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def orbat_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(help="ORBAT / task organisation.", no_args_is_help=True)

    def _service(handle: object) -> object:
        try:
            return handle.service("orbat")  # type: ignore[attr-defined]
        except KeyError:
            typer.echo("error: the orbat plugin is not enabled on this node", err=True)
            raise typer.Exit(2) from None

    @app.command("export")
    def export(
        dir: Dir,
        to: Annotated[
            str | None, typer.Option(help="Release to this nation (default: the node's).")
        ] = None,
        out: Annotated[Path | None, typer.Option("--out", help="File (default stdout).")] = None,
    ) -> None:
        """Write every unit and relationship releasable to ``--to``."""
        handle = open_node(dir)
        try:
            service = _service(handle)
            ctx = service.ctx  # type: ignore[attr-defined]
            reader = make_principal(
                to or ctx.nation, Classification.TOP_SECRET, registry=ctx.groups, name="cli"
            )
            doc = service.export(reader)  # type: ignore[attr-defined]
        finally:
            handle.close()
        body = msgspec.json.format(msgspec.json.encode(doc), indent=2)
        if out is None:
            sys.stdout.write(body.decode() + "\n")
        else:
            out.write_bytes(body + b"\n")

    @app.command("import")
    def import_(
        dir: Dir,
        file: Annotated[Path, typer.Argument(help="A kizuna-orbat JSON document.")],
        author: Annotated[str, typer.Option(help="Recorded as the author.")] = "cli",
    ) -> None:
        """Import a document as this node's units and relationships (all or nothing)."""
        from kizuna.core.errors import KizunaError

        try:
            doc = msgspec.json.decode(file.read_bytes(), type=OrbatDocument)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            typer.echo(f"error: {file}: {exc}", err=True)
            raise typer.Exit(2) from None
        handle = open_node(dir)
        try:
            service = _service(handle)
            ctx = service.ctx  # type: ignore[attr-defined]
            user = User(name=author, nation=ctx.nation, clearance="TOP SECRET", roles=["operator"])
            principal = make_principal(
                ctx.nation, Classification.TOP_SECRET, registry=ctx.groups, name=author
            )
            try:
                result = service.import_document(Caller(user, principal), doc)  # type: ignore[attr-defined]
            except KizunaError as exc:
                typer.echo(f"error: {exc.detail}", err=True)
                raise typer.Exit(1) from None
        finally:
            handle.close()
        typer.echo(msgspec.json.encode(result).decode())

    return app
