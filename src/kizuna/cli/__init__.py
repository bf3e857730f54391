"""The `kizuna` command line."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kizuna.cli.peers import node_app, peer_app
from kizuna.core.labels import LabelError, normalize
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.contract import Domain, InitOption

app = typer.Typer(help="Kizuna (絆): federated C2 coordination node.", no_args_is_help=True)
user_app = typer.Typer(help="Users of this node.", no_args_is_help=True)
label_app = typer.Typer(help="Security labels.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(label_app, name="label")
app.add_typer(audit_app, name="audit")
app.add_typer(node_app, name="node")
app.add_typer(peer_app, name="peer")

err = Console(stderr=True)

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


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

    node = Node(dir, domains=[])
    try:
        user, token = make_user(name, nation, clearance, group, role, node.groups, password)
        if node.backend.users.user_by_name(user.name):
            raise ValueError(f"user {user.name!r} exists")
        node.backend.users.add_user(user)
    except (ValueError, LabelError) as exc:
        node.close()
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
    node.close()
    print(f"user {name} ({user.nation}, {user.clearance}) added; bearer token:")
    print(token)


@app.command()
def serve(dir: DirOpt) -> None:
    """Serve the node's HTTP API (and its configured services) until interrupted."""
    from kizuna.api.serve import serve as run
    from kizuna.kernel.logging import configure
    from kizuna.node.runtime import Node

    configure()
    try:
        node = Node(dir)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    asyncio.run(run(node))


def _open_node(root: Path) -> Any:
    from kizuna.node.runtime import Node

    try:
        return Node(root)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))


def _mount_plugins(domains: list[Domain]) -> None:
    groups: dict[str, typer.Typer] = {}
    for domain in domains:
        for group, sub in domain.cli(_open_node).items():
            if group in groups:
                groups[group].registered_commands += sub.registered_commands
                continue
            groups[group] = sub
            app.add_typer(sub, name=group)


def _init_command(domains: list[Domain]) -> None:
    """`kizuna init`, with the options each plugin adds (a signature built for Typer)."""
    P = inspect.Parameter
    kw = P.KEYWORD_ONLY
    params = [
        P("dir", kw, annotation=DirOpt),
        P(
            "node_id",
            kw,
            annotation=Annotated[str, typer.Option(help="This node's id, e.g. usfj.")],
        ),
        P(
            "nation",
            kw,
            annotation=Annotated[str, typer.Option(help="ISO 3166 alpha-3, e.g. USA.")],
        ),
        P("port", kw, default=8000, annotation=Annotated[int, typer.Option(help="HTTP API port.")]),
        P(
            "federation_port",
            kw,
            default=0,
            annotation=Annotated[int, typer.Option(help="Federation port; 0 = port+1.")],
        ),
        P(
            "store",
            kw,
            default="sqlite",
            annotation=Annotated[str, typer.Option(help="Storage backend name or URL.")],
        ),
        P(
            "group",
            kw,
            default=[],
            annotation=Annotated[
                list[str], typer.Option(help="Define a group: NAME=USA,JPN,AUS (repeatable).")
            ],
        ),
    ]
    owners: dict[str, tuple[Domain, InitOption]] = {}
    for domain in domains:
        for opt in domain.init_options():
            key = opt.flag.lstrip("-").replace("-", "_")
            owners[key] = (domain, opt)
            default = False if opt.type is bool else opt.default
            option = typer.Option(opt.flag, help=opt.help)
            params.append(P(key, kw, default=default, annotation=Annotated[opt.type, option]))

    def run(**values: Any) -> None:
        from kizuna.node.setup import init_node

        groups: dict[str, list[str]] = {} if values["group"] else {"ACM": ["USA", "JPN"]}
        for spec in values["group"]:
            name, _, members = spec.partition("=")
            groups[name.strip().upper()] = [m.strip().upper() for m in members.split(",") if m]
        plugins: dict[str, dict[str, Any]] = {}
        for domain in domains:
            mine = {opt.flag: values[k] for k, (d, opt) in owners.items() if d is domain}
            if any(opt.disables and values[k] for k, (d, opt) in owners.items() if d is domain):
                plugins[domain.name] = {"enabled": False}
                continue
            table = domain.init_settings(mine)
            if table is not None:
                plugins[domain.name] = table
        nation = values["nation"].upper()
        config = NodeConfig(
            node_id=values["node_id"],
            nation=nation,
            port=values["port"],
            federation_port=values["federation_port"],
            store=values["store"],
            groups=groups,
            plugins=plugins,
        )
        try:
            init_node(NodeDir(values["dir"]), config)
        except (ValueError, LabelError, FileExistsError) as exc:
            _fail(str(exc))
        print(f"node {config.node_id} ({nation}) created in {values['dir']}")

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__doc__ = (
        "Create a node directory with its config, certificate authority and node certificate."
    )
    app.command("init")(run)


_built = False


def build() -> typer.Typer:
    """The `kizuna` command: the node's own commands and every installed plugin's."""
    global _built
    from kizuna.kernel.plugins import load_domains

    if not _built:
        domains = load_domains()
        _mount_plugins(domains)
        _init_command(domains)
        _built = True
    return app


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
    from kizuna.kernel.plugins import backend_factory
    from kizuna.node.runtime import AUDIT_ANCHOR
    from kizuna.store.audit import verify

    nd = NodeDir(dir)
    config = nd.load()
    backend = backend_factory(config.store)(config.store, nd.root, config.node_id)
    ok, message = verify(nd.audit, backend.meta.meta_get(AUDIT_ANCHOR))
    backend.close()
    if not ok:
        err.print(f"[red]audit log tampered:[/red] {message}")
        raise typer.Exit(1)
    print(message)


def main() -> None:  # pragma: no cover - console entry
    build()()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
