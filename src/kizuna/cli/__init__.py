"""The `kizuna` command line."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from kizuna.cli.backup import register as register_backup
from kizuna.cli.peers import node_app, peer_app
from kizuna.core.labels import LabelError, normalize
from kizuna.kernel import panels
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.contract import Domain, InitOption


class _ByTask(TyperGroup):
    """``kizuna --help`` lists its panels in the order of a node's life (kernel/panels.py)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)

        def rank(name: str) -> int:
            panel = getattr(self.commands[name], "rich_help_panel", None)
            return panels.ORDER.index(panel) if panel in panels.ORDER else len(panels.ORDER)

        return sorted(names, key=rank)


app = typer.Typer(
    cls=_ByTask,
    help="Kizuna (絆): federated C2 coordination node.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # cli/errors.py turns what escapes into one line
)
user_app = typer.Typer(help="Users of this node.", no_args_is_help=True)
label_app = typer.Typer(help="Security labels.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(node_app, name="node", rich_help_panel=panels.SET_UP)
app.add_typer(user_app, name="user", rich_help_panel=panels.SET_UP)
app.add_typer(peer_app, name="peer", rich_help_panel=panels.SET_UP)
app.add_typer(label_app, name="label", rich_help_panel=panels.CHECK)
app.add_typer(audit_app, name="audit", rich_help_panel=panels.CHECK)
register_backup(app)

err = Console(stderr=True, soft_wrap=True)  # an error stays on one line, however long

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {escape(message)}")  # "[cot] …" is text, not markup
    raise typer.Exit(code)


ExpiresOpt = Annotated[
    str | None,
    typer.Option(
        "--expires",
        help="When the bearer token stops working: a duration (90m, 12h, 30d), an ISO 8601 "
        "time (UTC unless it names a zone), or 'never' (the default).",
    ),
]


def _expiry_text(at: float | None) -> str:
    import time

    if at is None:
        return "never expires"
    return "expires " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


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
    expires: ExpiresOpt = None,
) -> None:
    """Create a user. The bearer token is printed once, alone on the last line.

    Login sessions (the web login) last `[limits] session_ttl` seconds of node.toml (12 h)."""
    import time

    from kizuna.node.runtime import Node
    from kizuna.node.users import make_user, parse_expiry

    try:
        expires_at = parse_expiry(expires, time.time())
    except ValueError as exc:
        _fail(str(exc))
    node = Node(dir, domains=[])
    try:
        user, token = make_user(
            name, nation, clearance, group, role, node.groups, password, expires_at
        )
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
        token_expires_at=expires_at,
    )
    node.close()
    expiry = _expiry_text(expires_at)
    print(f"user {name} ({user.nation}, {user.clearance}) added; token {expiry}; bearer token:")
    print(token)


@user_app.command("revoke")
def user_revoke(
    dir: DirOpt,
    name: Annotated[str, typer.Option(help="Login name.")],
    keep_password: Annotated[
        bool, typer.Option(help="Keep the password, so the user may log in again.")
    ] = False,
) -> None:
    """Revoke a user's bearer token and every login session (and the password, unless
    --keep-password). A running node refuses them within a second or two; `kizuna user
    token` issues a new token."""
    from kizuna.node.runtime import Node
    from kizuna.node.users import revoke_user

    node = Node(dir, domains=[])
    try:
        revoked = revoke_user(node.backend.users, name, keep_password=keep_password)
    except KeyError:
        node.close()
        _fail(f"no user {name!r}")
    node.audit.append("user.revoke", "cli", "ok", name=name, **revoked)
    node.close()
    parts = [
        "bearer token" if revoked["token"] else "no bearer token",
        f"{revoked['sessions']} session(s)",
    ]
    if revoked["password"]:
        parts.append("password")
    print(f"user {name}: revoked {', '.join(parts)}")


@user_app.command("token")
def user_token(
    dir: DirOpt,
    name: Annotated[str, typer.Option(help="Login name.")],
    expires: ExpiresOpt = None,
    password: Annotated[
        str | None, typer.Option(help="Also set a new password for the web login.")
    ] = None,
) -> None:
    """Issue a new bearer token for a user (the old one stops working). Printed once, alone
    on the last line."""
    import time

    from kizuna.node.runtime import Node
    from kizuna.node.users import parse_expiry, reissue_token

    try:
        expires_at = parse_expiry(expires, time.time())
    except ValueError as exc:
        _fail(str(exc))
    node = Node(dir, domains=[])
    try:
        user, token = reissue_token(node.backend.users, name, expires_at, password)
    except KeyError:
        node.close()
        _fail(f"no user {name!r}")
    node.audit.append(
        "user.token",
        "cli",
        "ok",
        name=name,
        token_expires_at=expires_at,
        password=bool(password),
    )
    node.close()
    print(f"user {user.name}: new token, {_expiry_text(expires_at)}; bearer token:")
    print(token)


@app.command(rich_help_panel=panels.RUN)
def serve(
    dir: DirOpt,
    port: Annotated[
        int | None,
        typer.Option(help="HTTP API port for this process, instead of node.toml's."),
    ] = None,
    federation_port: Annotated[
        int | None,
        typer.Option(help="Federation port for this process, instead of node.toml's."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A plugin setting for this process, TABLE.KEY=VALUE (e.g. cot.tcp_port=9087).",
        ),
    ] = None,
) -> None:
    """Serve the node's HTTP API (and its configured services) until interrupted.

    Workers: several processes may serve one node on PostgreSQL, each on its own ports
    (``--port``, ``--federation-port``, and ``--set`` for the CoT and AIS listeners).
    """
    from kizuna.api.serve import serve as run
    from kizuna.kernel.logging import configure
    from kizuna.node.runtime import Node

    configure()
    try:
        settings = _setting_overrides(set_ or [])
        node = Node(dir, port=port, federation_port=federation_port, settings=settings)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    _refuse_ports_in_use(node)
    asyncio.run(run(node))


def _refuse_ports_in_use(node: Any) -> None:
    """Stop before serving, in one line, when a port the node listens on is taken."""
    from kizuna.cli.errors import listening_ports, port_in_use

    config = node.config
    started = {d.name for d in node.started}
    plugins = {k: v for k, v in config.plugins.items() if k in started}
    for what, kind, number in listening_ports(config.host, config.port, config.fed_port, plugins):
        if port_in_use(config.host, kind, number):
            node.close()
            _fail(f"{what} {number}/{kind} on {config.host} is already in use")


def _setting_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["cot.tcp_port=9087"]`` as ``{"cot": {"tcp_port": 9087}}``: each value read as a
    TOML value (``9087``, ``false``, ``"text"``), bare words as strings."""
    import tomllib

    tables: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, raw = item.partition("=")
        table, dot, key = target.strip().partition(".")
        if not (sep and dot and table and key):
            raise ValueError(f"--set {item!r}: expected TABLE.KEY=VALUE (cot.tcp_port=9087)")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        tables.setdefault(table, {})[key] = value
    return tables


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
            # A plugin's group names its panel (``typer.Typer(rich_help_panel=…)``);
            # the others are the domains' own work.
            app.add_typer(sub, name=group, rich_help_panel=sub.rich_help_panel or panels.WORK)


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
    app.command("init", rich_help_panel=panels.SET_UP)(run)


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
def audit_verify(
    dir: DirOpt,
    with_peers: Annotated[
        bool,
        typer.Option(
            "--with-peers", help="Also check the trail against the heads peers witnessed."
        ),
    ] = False,
) -> None:
    """Check the audit trail: hash chain, the node's signatures, the signed heads in the
    database and in audit.head (and what peers witnessed). Writes nothing.

    Exit 0: intact; 1: tampered (names the first bad entry); 2: not verifiable (no
    database, no certificate, a peer that cannot confirm)."""
    from kizuna.kernel import pki
    from kizuna.node.runtime import AUDIT_ANCHOR
    from kizuna.store.audit import head_path, verify

    nd = NodeDir(dir)
    try:
        config = nd.load()
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if not nd.node_cert.is_file():
        _fail(f"no node certificate at {nd.node_cert}: the node's signatures cannot be checked")
    stored = _read_meta_readonly(nd, config, with_peers)
    check = pki.signature_check(pki.load_cert(nd.node_cert))
    witnesses: list[Any] = []
    forged: list[str] = []
    unconfirmed: list[str] = []
    if with_peers:
        from kizuna.witness.verify import peer_evidence

        if not config.peers:
            _fail("--with-peers: no peers are configured, so none witnessed this trail")

        evidence = peer_evidence(nd, config, stored, _https_fetch(nd))
        witnesses, forged, unconfirmed = evidence.witnesses, evidence.forged, evidence.unconfirmed
        for note in evidence.notes:
            _say("[yellow]note:[/yellow]", note)
    ok, message = verify(
        nd.audit,
        stored.get(AUDIT_ANCHOR),
        head_file=head_path(nd.audit),
        check=check,
        witnesses=witnesses,
    )
    if not ok or forged:
        for line in ([] if ok else [message]) + forged:
            _say("[red]audit log tampered:[/red]", line)
        raise typer.Exit(1)
    if unconfirmed:
        for line in unconfirmed:
            _say("[red]not confirmed:[/red]", line)
        _say("locally:", message)
        raise typer.Exit(2)
    print(message)


def _say(prefix: str, text: str) -> None:
    """One line on stderr, unwrapped (scripts grep it) and never read as markup."""

    err.print(f"{prefix} {escape(text)}", soft_wrap=True)


def _read_meta_readonly(nd: NodeDir, config: NodeConfig, with_peers: bool) -> dict[str, str]:
    """The heads (and receipts) in the node's database, never creating or changing it."""
    from kizuna.node.runtime import AUDIT_ANCHOR
    from kizuna.store.audit import read_sqlite_meta
    from kizuna.store.sqlite_backend import db_path
    from kizuna.witness.models import RECEIPT_KEY

    prefix = RECEIPT_KEY if with_peers else ""
    scheme = config.store.split(":", 1)[0]
    if scheme != "sqlite":
        # A database server: opening it creates no file here; the backend reads the head.
        from kizuna.kernel.plugins import backend_factory

        backend = backend_factory(config.store)(config.store, nd.root, config.node_id)
        try:
            out = {}
            head = backend.meta.meta_get(AUDIT_ANCHOR)
            if head is not None:
                out[AUDIT_ANCHOR] = head
            for peer in config.peers if with_peers else []:
                value = backend.meta.meta_get(prefix + peer.peer_id)
                if value is not None:
                    out[prefix + peer.peer_id] = value
            return out
        finally:
            backend.close()
    db = db_path(config.store, nd.root)
    try:
        return read_sqlite_meta(db, [AUDIT_ANCHOR], prefix=prefix)
    except FileNotFoundError:
        message = (
            f"no database at {db}: the node never ran here, or its database was deleted; "
            "the trail cannot be checked against the head it records"
        )
    except sqlite3.DatabaseError as exc:
        message = f"cannot read the database {db}: {exc}"
    _fail(message)
    return {}


def _https_fetch(nd: NodeDir) -> Any:
    """Ask a peer, over the federation link's mutual TLS, for its receipt of our head
    (``GET /federation/v1/audit_head``: the receipt, or ``null`` when it holds none); a
    peer without that route answers 404."""
    import httpx

    from kizuna.federation.tls import client_context
    from kizuna.witness.models import AUDIT_HEAD, decode

    def fetch(peer: Any) -> Any:
        ctx = client_context(nd, nd.peers / f"{peer.peer_id}.pem")
        url = peer.url.rstrip("/") + f"/federation/v1/{AUDIT_HEAD}"
        try:
            response = httpx.get(url, verify=ctx, timeout=5.0)
        except httpx.HTTPError as exc:
            raise OSError(str(exc) or type(exc).__name__) from exc
        if response.status_code == 404:
            raise ValueError(f"{url} answered 404 (no witness route)")
        if response.status_code != 200:
            raise ValueError(f"{url} answered {response.status_code}")
        if response.content.strip() == b"null":
            return None  # the peer holds no head of ours
        return decode(response.content)

    return fetch


@app.command(rich_help_panel=panels.CHECK)
def doctor(dir: DirOpt) -> None:
    """Check the node's configuration, keys, store and peers; say plainly what is wrong.

    Exit 0: nothing failed (warnings, such as an unreachable peer, allowed); 1: a check
    failed."""

    from kizuna.cli.doctor import diagnose

    report = diagnose(dir)
    marks = {
        "ok": "[green]ok[/green]  ",
        "warn": "[yellow]warn[/yellow]",
        "fail": "[red]FAIL[/red]",
    }
    out = Console()
    for kind, text in report.lines:
        out.print(f"{marks[kind]} {escape(text)}", soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)


def main() -> int:  # pragma: no cover - console entry
    from kizuna.cli.errors import run

    return run(build())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
