"""`kizuna tak …`: certificates for TAK clients of this node."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kizuna.core.labels import LabelError
from kizuna.kernel import panels

tak_app = typer.Typer(help="TAK clients.", no_args_is_help=True, rich_help_panel=panels.DATA)

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


@tak_app.command("client-cert")
def client_cert(
    dir: DirOpt,
    name: Annotated[str, typer.Option(help="Callsign (certificate common name).")],
    nation: Annotated[str, typer.Option(help="ISO 3166 alpha-3 code.")],
    clearance: Annotated[str, typer.Option(help="Highest classification the client may see.")],
    out: Annotated[Path, typer.Option(help="Directory to write the files to.")],
    group: Annotated[list[str], typer.Option(help="Group membership (repeatable).")] = [],  # noqa: B006
) -> None:
    """Write a client certificate, key, CA and .p12 bundle for a TAK client (e.g. pytak)."""
    from kizuna.core.labels import Classification
    from kizuna.core.release import make_principal
    from kizuna.kernel.config import NodeDir
    from kizuna.sources.cot.certs import write_client_cert

    nd = NodeDir(dir)
    try:
        registry = nd.load().group_registry()
        level = Classification.parse(clearance)
        principal = make_principal(nation, level, group, registry=registry)
        paths = write_client_cert(
            nd.ca_cert,
            nd.ca_key,
            name,
            principal.nation,
            level.name,
            sorted({g.strip().upper() for g in group}),
            out,
            registry=registry,  # the node's groups, as its TLS listener reads them back
        )
    except (LabelError, ValueError, FileNotFoundError) as exc:  # LabelError is a ValueError
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for kind, path in paths.items():
        typer.echo(f"{kind}: {path}")
