"""`kizuna backup` and `kizuna restore`: a node's directory and store in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from kizuna.kernel import panels

STEPS = {
    "store": "copying the store",
    "hash": "hashing",
    "write": "writing the archive",
    "unpack": "unpacking and checking",
}


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _reporter(bar: Progress) -> object:
    tasks: dict[str, object] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(STEPS.get(step, step), total=max(total, 1))
        bar.update(tasks[step], completed=done, total=max(total, 1))  # type: ignore[arg-type]

    return report


def register(app: typer.Typer) -> None:
    """Mount ``backup`` and ``restore`` on the root command."""

    @app.command("backup", rich_help_panel=panels.DATA)
    def backup_cmd(
        dir: Annotated[Path, typer.Option("--dir", help="Node directory.")],
        out: Annotated[Path, typer.Option("--out", help="The archive to write (.tar.gz).")],
    ) -> None:
        """Back the node up into one archive, safe while the node serves.

        The archive holds the node's directory, keys included (keep it as safe as the
        node), and its store (SQLite online backup; pg_dump for PostgreSQL), with a
        manifest of digests."""
        from kizuna.node.backup import backup
        from kizuna.node.runtime import Node

        node = Node(dir)
        try:
            with _progress() as bar:
                manifest = backup(dir, out, node, _reporter(bar))  # type: ignore[arg-type]
        finally:
            node.close()
        print(f"backed up node {manifest['node_id']} to {out}")
        print(f"content digest {manifest['content_digest']}")

    @app.command("restore", rich_help_panel=panels.DATA)
    def restore_cmd(
        archive: Annotated[Path, typer.Option("--from", help="A `kizuna backup` archive.")],
        dir: Annotated[Path, typer.Option("--dir", help="A new node directory.")],
        store: Annotated[
            str | None,
            typer.Option(help="PostgreSQL backups: the database to load the schema into."),
        ] = None,
    ) -> None:
        """Restore an archive into a new node directory, checking every file.

        The restored node's content digest must equal the backed-up one."""
        from kizuna.node.backup import restore
        from kizuna.node.runtime import Node

        with _progress() as bar:
            manifest = restore(
                archive,
                dir,
                store=store,
                open_node=Node,
                progress=_reporter(bar),  # type: ignore[arg-type]
            )
        print(f"restored node {manifest['node_id']} into {dir}")
        print(f"content digest {manifest['content_digest']} (verified)")
