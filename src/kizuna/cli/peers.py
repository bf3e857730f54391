"""`kizuna node …` and `kizuna peer …`: identity and federation set-up."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509

from kizuna.core.labels import COUNTRIES, Classification, LabelError
from kizuna.kernel.config import DEFAULT_TYPES, NodeDir, PeerConfig

node_app = typer.Typer(help="This node's identity.", no_args_is_help=True)
peer_app = typer.Typer(help="Peers and sharing agreements.", no_args_is_help=True)

DirOpt = Annotated[Path, typer.Option("--dir", help="Node directory.")]


def federated_types() -> list[str]:
    """What a sharing agreement may name: every installed plugin's record types and streams."""
    from kizuna.kernel.plugins import load_domains

    return sorted({t for domain in load_domains() for t in domain.federated_types()})


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@node_app.command("cert")
def node_cert(dir: DirOpt) -> None:
    """Print this node's certificate and its CA (PEM), to give to a peer."""
    nd = NodeDir(dir)
    nd.load()
    typer.echo(nd.node_cert.read_text() + nd.ca_cert.read_text(), nl=False)


@node_app.command("info")
def node_info(dir: DirOpt) -> None:
    """Print this node's identity and addresses as JSON."""
    config = NodeDir(dir).load()
    info = {
        "node_id": config.node_id,
        "nation": config.nation,
        "api_url": config.api_url,
        "federation_url": config.federation_url,
        # What this node's own groups mean: peers receive them as these nations (ADR 0007).
        "groups": {name: sorted(members) for name, members in sorted(config.groups.items())},
        "peers": [p.peer_id for p in config.peers],
    }
    typer.echo(json.dumps(info, indent=2))


@peer_app.command("add")
def peer_add(
    dir: DirOpt,
    peer_id: Annotated[str, typer.Option(help="The peer's node id.")],
    nation: Annotated[str, typer.Option(help="The peer's nation (alpha-3).")],
    url: Annotated[str, typer.Option(help="The peer's federation URL (https://…).")],
    cert: Annotated[Path, typer.Option(help="The peer's certificate file (`kizuna node cert`).")],
    types: Annotated[str, typer.Option(help="Record types that flow, comma-separated.")] = (
        ",".join(DEFAULT_TYPES)
    ),
    max_classification: Annotated[str, typer.Option(help="Highest classification.")] = "SECRET",
    relay: Annotated[
        bool, typer.Option(help="Forward records this node did not originate.")
    ] = False,
    transport: Annotated[
        str,
        typer.Option(help="How records travel: https (mutual TLS) or nats (JetStream, ADR 0010)."),
    ] = "https",
) -> None:
    """Add a peer and the sharing agreement with it (restart the node to apply)."""
    nd = NodeDir(dir)
    config = nd.load()
    nation = nation.upper()
    if nation not in COUNTRIES:
        _fail(f"unknown nation {nation!r}")
    try:
        level = Classification.parse(max_classification)
    except LabelError as exc:
        _fail(str(exc))
    kinds = [t.strip() for t in types.split(",") if t.strip()]
    known = federated_types()
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        _fail(f"unknown record types {unknown}; known: {', '.join(known)}")
    from kizuna.kernel.plugins import PluginError, transport_factory

    try:
        transport_factory(transport)
    except PluginError as exc:
        _fail(str(exc))
    schemes = {"https": ("https://",), "nats": ("nats://", "tls://")}.get(transport)
    if schemes and not url.startswith(schemes):
        _fail(f"a {transport} peer's URL starts with {' or '.join(schemes)}")
    try:
        x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError) as exc:
        _fail(f"cannot read certificate {cert}: {exc}")
    if any(p.peer_id == peer_id for p in config.peers):
        _fail(f"peer {peer_id!r} exists")
    nd.peers.mkdir(exist_ok=True)
    shutil.copyfile(cert, nd.peers / f"{peer_id}.pem")
    config.peers.append(
        PeerConfig(
            peer_id=peer_id,
            nation=nation,
            url=url,
            cert=f"peers/{peer_id}.pem",
            types=kinds,
            max_classification=level.name,
            relay=relay,
            transport=transport,
        )
    )
    nd.save(config)
    typer.echo(
        f"peer {peer_id} ({nation}) added: {', '.join(kinds)} up to {level.marking}"
        f"{', relay' if relay else ''}"
    )


@peer_app.command("digest")
def peer_digest(dir: DirOpt, peer: Annotated[str, typer.Option(help="Peer id.")]) -> None:
    """Print the digest of what this node and PEER should share (JSON)."""
    import msgspec

    from kizuna.core.errors import NotFound
    from kizuna.federation import digest
    from kizuna.node.runtime import Node

    try:
        node = Node(dir)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    try:
        typer.echo(json.dumps(msgspec.to_builtins(digest.peer_digest(node, peer))))
    except NotFound as exc:
        _fail(exc.detail)
    finally:
        node.close()
