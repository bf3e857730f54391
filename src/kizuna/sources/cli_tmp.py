"""`kizuna tak …` and `kizuna ingest …`: TAK client certificates and feed imports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kizuna.core.labels import LabelError

tak_app = typer.Typer(help="TAK clients.", no_args_is_help=True)
ingest_app = typer.Typer(help="Import feeds into the picture.", no_args_is_help=True)

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
    from kizuna.sources.cot import write_client_cert

    nd = NodeDir(dir)
    config = nd.load()
    try:
        level = Classification.parse(clearance)
        principal = make_principal(nation, level, group, registry=config.group_registry())
    except LabelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    paths = write_client_cert(
        nd.ca_cert,
        nd.ca_key,
        name,
        principal.nation,
        level.name,
        sorted(g.upper() for g in group),
        out,
    )
    for kind, path in paths.items():
        typer.echo(f"{kind}: {path}")


@ingest_app.command("ais")
def ingest_ais(
    file: Annotated[Path, typer.Argument(help="NMEA file (!AIVDM sentences, tag blocks allowed).")],
    dir: DirOpt,
    label: Annotated[str, typer.Option(help="Label for the tracks.")] = "UNCLASSIFIED",
) -> None:
    """Import an AIS NMEA file into the node's picture, with a progress bar and a summary."""
    from kizuna.node.logging import configure
    from kizuna.node.runtime import Node
    from kizuna.sources.ais import AisIngestor, read_file

    configure("WARNING")
    node = Node(dir)
    try:
        default = node.parse_label(label)
    except LabelError as exc:
        typer.echo(f"error: bad label: {exc}", err=True)
        raise typer.Exit(2) from None
    with file.open("rb") as fh:
        total = sum(1 for _ in fh)
    ingestor = AisIngestor(node.picture.ingest, default, connection=file.name)
    with Progress(
        TextColumn("[bold]AIS"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=total)
        stats = read_file(file, ingestor, progress=lambda n: progress.update(task, completed=n))
    node.close()
    typer.echo(
        f"offered {stats.offered}, accepted {stats.accepted}, "
        f"rejected {stats.rejected_total}, tracks {stats.tracks}"
    )
    for reason, count in sorted(stats.rejected.items()):
        typer.echo(f"  rejected {reason}: {count}")
