"""`kizuna ingest ais FILE`: import an AIS NMEA file into a node's picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kizuna.core.labels import LabelError
from kizuna.kernel import panels
from kizuna.kernel.contract import OpenNode
from kizuna.kernel.ingress import IngressRefused, rule

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def ingest_app(open_node: OpenNode) -> typer.Typer:
    app = typer.Typer(
        help="Import feeds into the picture.", no_args_is_help=True, rich_help_panel=panels.DATA
    )

    @app.command("ais")
    def ingest_ais(
        file: Annotated[
            Path, typer.Argument(help="NMEA file (!AIVDM sentences, tag blocks allowed).")
        ],
        dir: DirOpt,
        label: Annotated[str, typer.Option(help="Label for the tracks.")] = "UNCLASSIFIED",
    ) -> None:
        """Import an AIS NMEA file into the node's picture, with a progress bar and a summary."""
        from kizuna.kernel.config import NodeDir
        from kizuna.kernel.logging import configure
        from kizuna.sources.ais.feeds import read_file
        from kizuna.sources.ais.ingest import AisIngestor

        configure("WARNING")
        handle = open_node(dir)
        try:
            config = NodeDir(dir).load()
            ingress = rule(config.nation, config.group_registry())
            try:  # the node's ingress rule: its nation originates; its operator writes
                default = ingress.check(ingress.parse(label), ingress.host)
            except (LabelError, IngressRefused) as exc:
                typer.echo(f"error: bad label: {exc}", err=True)
                raise typer.Exit(2) from None
            with file.open("rb") as fh:
                total = sum(1 for _ in fh)
            ingestor = AisIngestor(handle.service("picture").ingest, default, connection=file.name)
            with Progress(
                TextColumn("[bold]AIS"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                transient=True,
            ) as progress:
                task = progress.add_task("ingest", total=total)
                stats = read_file(
                    file, ingestor, progress=lambda n: progress.update(task, completed=n)
                )
        finally:
            handle.close()
        typer.echo(
            f"offered {stats.offered}, accepted {stats.accepted}, "
            f"rejected {stats.rejected_total}, tracks {stats.tracks}"
        )
        for reason, count in sorted(stats.rejected.items()):
            typer.echo(f"  rejected {reason}: {count}")

    return app
