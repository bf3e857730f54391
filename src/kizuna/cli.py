"""The `kizuna` command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kizuna.cli_node import node_app, peer_app
from kizuna.cli_request import request_app
from kizuna.cli_sources import ingest_app, tak_app
from kizuna.core.labels import LabelError, normalize
from kizuna.node.config import NodeConfig, NodeDir

app = typer.Typer(help="Kizuna (絆): federated C2 coordination node.", no_args_is_help=True)
user_app = typer.Typer(help="Users of this node.", no_args_is_help=True)
label_app = typer.Typer(help="Security labels.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(label_app, name="label")
app.add_typer(audit_app, name="audit")
app.add_typer(node_app, name="node")
app.add_typer(peer_app, name="peer")
app.add_typer(request_app, name="request")
app.add_typer(tak_app, name="tak")
app.add_typer(ingest_app, name="ingest")

err = Console(stderr=True)

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@app.command()
def init(
    dir: DirOpt,
    node_id: Annotated[str, typer.Option(help="This node's id, e.g. usfj.")],
    nation: Annotated[str, typer.Option(help="ISO 3166 alpha-3 code, e.g. USA.")],
    port: Annotated[int, typer.Option(help="HTTP API port on 127.0.0.1.")] = 8000,
    federation_port: Annotated[int, typer.Option(help="Federation (mTLS) port; 0 = port+1.")] = 0,
    cot_port: Annotated[int, typer.Option(help="CoT TCP port for TAK clients; 0 = off.")] = 0,
    cot_tls_port: Annotated[int, typer.Option(help="CoT TLS port; 0 = off.")] = 0,
    ais_udp_port: Annotated[int, typer.Option(help="AIS NMEA UDP port; 0 = off.")] = 0,
    ais_tcp_port: Annotated[int, typer.Option(help="AIS NMEA TCP listen port; 0 = off.")] = 0,
    group: Annotated[
        list[str], typer.Option(help="Define a group: NAME=USA,JPN,AUS (repeatable).")
    ] = [],  # noqa: B006
) -> None:
    """Create a node directory with its config, certificate authority and node certificate."""
    from kizuna.node.setup import init_node

    # ACM: the Alliance Coordination Mechanism partners, known to every node by default.
    groups: dict[str, list[str]] = {} if group else {"ACM": ["USA", "JPN"]}
    for spec in group:
        name, _, members = spec.partition("=")
        groups[name.strip().upper()] = [m.strip().upper() for m in members.split(",") if m]
    config = NodeConfig(
        node_id=node_id,
        nation=nation.upper(),
        port=port,
        federation_port=federation_port,
        cot_port=cot_port,
        cot_tls_port=cot_tls_port,
        ais_udp_port=ais_udp_port,
        ais_tcp_port=ais_tcp_port,
        groups=groups,
    )
    try:
        init_node(NodeDir(dir), config)
    except (ValueError, LabelError, FileExistsError) as exc:
        _fail(str(exc))
    print(f"node {node_id} ({nation.upper()}) created in {dir}")


@user_app.command("add")
def user_add(
    dir: DirOpt,
    name: Annotated[str, typer.Option(help="Login name.")],
    nation: Annotated[str, typer.Option(help="ISO 3166 alpha-3 code.")],
    clearance: Annotated[str, typer.Option(help="UNCLASSIFIED, CONFIDENTIAL, SECRET, TOP SECRET.")],
    group: Annotated[list[str], typer.Option(help="Group membership (repeatable).")] = [],  # noqa: B006
    role: Annotated[list[str], typer.Option(help="Role (repeatable).")] = [],  # noqa: B006
    password: Annotated[
        str | None, typer.Option(help="Password for the web login (optional).")
    ] = None,
) -> None:
    """Create a user. The bearer token is printed once, alone on the last line."""
    from kizuna.node.runtime import Node
    from kizuna.node.users import make_user

    node = Node(dir)
    try:
        user, token = make_user(name, nation, clearance, group, role, node.groups, password)
        if node.store.user_by_name(user.name):
            raise ValueError(f"user {user.name!r} exists")
        node.store.add_user(user)
    except (ValueError, LabelError) as exc:
        _fail(str(exc))
    node.audit.append(
        "user.add",
        "cli",
        "ok",
        name=name,
        nation=user.nation,
        clearance=user.clearance,
        groups=user.groups,
        roles=user.roles,
    )
    print(f"user {name} ({user.nation}, {user.clearance}) added; bearer token:")
    print(token)


@app.command()
def serve(dir: DirOpt) -> None:
    """Serve the node's HTTP API (and its configured services) until interrupted."""
    from kizuna.node.logging import configure
    from kizuna.node.runtime import Node
    from kizuna.node.serve import serve as run

    configure()
    try:
        node = Node(dir)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    asyncio.run(run(node))


@label_app.command("normalize")
def label_normalize(marking: str) -> None:
    """Print the canonical form of a marking (`S//REL TO JPN, USA` → `SECRET//REL TO USA, JPN`)."""
    try:
        print(normalize(marking))
    except LabelError as exc:
        _fail(str(exc))


@audit_app.command("verify")
def audit_verify(dir: DirOpt) -> None:
    """Check the audit trail's hash chain; non-zero exit names the first bad entry."""
    from kizuna.node.runtime import AUDIT_ANCHOR
    from kizuna.store.audit import verify
    from kizuna.store.sqlite import SqliteStore

    nd = NodeDir(dir)
    config = nd.load()
    store = SqliteStore(nd.db, config.node_id)
    ok, message = verify(nd.audit, store.meta_get(AUDIT_ANCHOR))
    store.close()
    if not ok:
        err.print(f"[red]audit log tampered:[/red] {message}")
        raise typer.Exit(1)
    print(message)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
