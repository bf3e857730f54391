"""`kizuna node …` and `kizuna peer …`: identity and federation set-up."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography import x509

from kizuna.core.labels import COUNTRIES, Classification, LabelError
from kizuna.federation.peerconf import PeerEditError, add_peer
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
    """Add a peer and the sharing agreement with it (a running node applies it at once)."""
    nd = NodeDir(dir)
    try:
        nd.load()
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
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
        pem = cert.read_bytes()
        x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError) as exc:
        _fail(f"cannot read certificate {cert}: {exc}")
    peer = PeerConfig(
        peer_id=peer_id,
        nation=nation,
        url=url,
        cert=f"peers/{peer_id}.pem",
        types=kinds,
        max_classification=level.name,
        relay=relay,
        transport=transport,
    )
    try:
        add_peer(nd, peer, pem)
    except PeerEditError as exc:
        _fail(str(exc))
    _audit(dir, "peer.add", peer=peer_id, **_agreement(peer))
    typer.echo(
        f"peer {peer_id} ({nation}) added: {', '.join(kinds)} up to {level.marking}"
        f"{', relay' if relay else ''} (a running node applies it within a second)"
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


@peer_app.command("status")
def peer_status(
    dir: DirOpt,
    as_json: Annotated[
        bool, typer.Option("--json", help="The status as JSON (GET /api/v1/network's shape).")
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the table: en or ja.")] = "en",
) -> None:
    """The running node's links: state, last contact, round trip, queues by precedence
    with the age of the oldest (against ACP 121 objectives), throughput, refusals, digest
    comparison, and active alerts (ADR 0020). Exit 1 when the node is not running."""
    import msgspec

    from kizuna.federation.table import NotRunning, read_status, render

    nd = NodeDir(dir)
    try:
        config = nd.load()
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if lang not in ("en", "ja"):
        _fail(f"--lang {lang!r}: en or ja")
    try:
        status = read_status(nd.root, config.node_id, lang)
    except NotRunning as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(msgspec.json.format(msgspec.json.encode(status), indent=2).decode())
        return
    for line in render(status, lang):
        typer.echo(line)


# -- onboarding and live changes (ADR 0019) -------------------------------------------------

TypesOpt = Annotated[
    str | None, typer.Option("--types", help="Record types that flow, comma-separated.")
]
ClassOpt = Annotated[
    str | None, typer.Option("--max-classification", help="Highest classification.")
]


def _agreement(peer: PeerConfig) -> dict[str, Any]:
    return {
        "nation": peer.nation,
        "url": peer.url,
        "types": sorted(peer.types),
        "max_classification": peer.max_classification,
        "relay": peer.relay,
    }


def _audit(dir: Path, action: str, outcome: str = "ok", **details: Any) -> None:
    """One entry in the node's audit trail, written by this command."""
    from kizuna.node.runtime import Node

    node = Node(dir, domains=[])
    try:
        node.audit.append(action, "cli", outcome, **details)
    finally:
        node.close()


def _drop_outbox(dir: Path, peer_id: str) -> int:
    """Drop the events queued for a peer (a running node drops what it queues meanwhile)."""
    from kizuna.node.runtime import Node

    node = Node(dir, domains=[])
    try:
        outbox = node.backend.outbox
        dropped = 0
        while rows := outbox.next_batch(peer_id, 5000):
            outbox.ack(peer_id, [pos for pos, _, _ in rows])
            dropped += len(rows)
        return dropped
    finally:
        node.close()


def _types(text: str, known: list[str]) -> list[str]:
    kinds = [t.strip() for t in text.split(",") if t.strip()]
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        _fail(f"unknown record types {unknown}; known: {', '.join(known)}")
    if not kinds:
        _fail("an agreement names at least one record type")
    return kinds


def _level(text: str) -> Classification:
    try:
        return Classification.parse(text)
    except LabelError as exc:
        _fail(str(exc))
        raise


def _when(at: float | None) -> str:
    return "-" if at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


@peer_app.command("invite")
def peer_invite(
    dir: DirOpt,
    peer_id: Annotated[str, typer.Option(help="The node id the partner's node has.")],
    nation: Annotated[str, typer.Option(help="The partner's nation (alpha-3).")],
    types: TypesOpt = None,
    max_classification: ClassOpt = "SECRET",
    expires: Annotated[
        str, typer.Option(help="How long the invitation may be used: 90s, 30m, 1h, 7d at most.")
    ] = "1h",
    url: Annotated[
        str | None,
        typer.Option(help="This node's federation URL as the partner reaches it (default: ours)."),
    ] = None,
) -> None:
    """Print a one-time invitation for a partner node (`kizuna peer join` on its side).

    The token holds this node's certificate fingerprint, its federation URL, the proposed
    agreement and a one-time secret (kept here only as a hash). Used within its expiry it
    is accepted at once; `kizuna peer requests` lists invitations, `kizuna peer refuse`
    refuses one (and the peer, if it already joined). Printed alone on the last line."""
    from kizuna.federation.enrol import check_agreement, invite
    from kizuna.node.users import parse_expiry

    nd = NodeDir(dir)
    try:
        config = nd.load()
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    nation = nation.upper()
    known = federated_types()
    kinds = _types(types, known) if types is not None else list(DEFAULT_TYPES)
    now = time.time()
    try:
        expires_at = parse_expiry(expires, now)
        if expires_at is None:
            raise ValueError("an invitation expires (--expires 1h)")
        level = check_agreement(kinds, max_classification or "SECRET", known)
        token, record = invite(
            nd,
            config,
            peer_id=peer_id,
            nation=nation,
            types=kinds,
            max_classification=level,
            expires_at=expires_at,
            url=url,
            now=now,
        )
    except ValueError as exc:
        _fail(str(exc))
    _audit(
        dir,
        "peer.invite",
        invitation=record.id,
        peer=peer_id,
        nation=nation,
        types=kinds,
        max_classification=level,
        expires_at=expires_at,
    )
    marking = Classification.parse(level).marking
    typer.echo(
        f"invitation {record.id} for {peer_id} ({nation}): {', '.join(kinds)} up to {marking}; "
        f"single use, expires {_when(expires_at)}. On {peer_id}: kizuna peer join --dir DIR TOKEN"
    )
    typer.echo(token)


@peer_app.command("join")
def peer_join(
    dir: DirOpt,
    invitation: Annotated[str, typer.Argument(help="The token `kizuna peer invite` printed.")],
    url: Annotated[
        str | None,
        typer.Option(help="This node's federation URL as the inviter reaches it (default: ours)."),
    ] = None,
    types: TypesOpt = None,
    max_classification: ClassOpt = None,
) -> None:
    """Join the node that invited this one: enrol over TLS (the inviter pinned by the
    invitation's fingerprint), pin it and record the agreement.

    What this node sends the inviter defaults to what the inviter proposed (`--types`,
    `--max-classification` choose otherwise). A running node applies it at once."""
    from kizuna.federation.enrol import EnrolError, join
    from kizuna.federation.invites import InvitationError

    nd = NodeDir(dir)
    try:
        config = nd.load()
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    known = federated_types()
    kinds = _types(types, known) if types is not None else None
    level = _level(max_classification).name if max_classification else None
    try:
        joined = join(
            nd,
            config,
            invitation,
            url=url,
            types=kinds,
            max_classification=level,
            known=known,
        )
    except (EnrolError, InvitationError) as exc:
        _audit(dir, "peer.join", "refused", reason=str(exc)[:300])
        _fail(str(exc))
    peer = joined.inviter
    _audit(dir, "peer.join", peer=peer.peer_id, fingerprint=joined.fingerprint, **_agreement(peer))
    marking = Classification.parse(peer.max_classification).marking
    typer.echo(
        f"joined {peer.peer_id} ({peer.nation}) at {peer.url}, certificate {joined.fingerprint}"
        f" pinned; sending {', '.join(peer.types)} up to {marking}"
    )
    if joined.skipped:
        typer.echo(f"not installed here, left out: {', '.join(joined.skipped)}")


@peer_app.command("requests")
def peer_requests(
    dir: DirOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List this node's invitations: pending, used (by which node certificate), expired,
    refused."""
    import msgspec

    from kizuna.federation.invites import InvitationStore, status

    nd = NodeDir(dir)
    if not nd.exists():
        _fail(f"{dir} is not a Kizuna node directory (no node.toml)")
    records = InvitationStore(nd).all()
    rows = []
    for r in records:
        row = msgspec.to_builtins(r)
        row.pop("secret_hash")
        row["status"] = status(r)
        rows.append(row)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no invitations")
    for row in rows:
        joiner = (
            f" by {row['joiner_fingerprint'][:16]}… from {row['joiner_address']}"
            if row["joiner_fingerprint"]
            else ""
        )
        typer.echo(
            f"{row['id']}  {row['peer_id']} ({row['nation']})  {row['status']}  "
            f"expires {_when(row['expires_at'])}  used {_when(row['used_at'])}{joiner}"
        )


@peer_app.command("refuse")
def peer_refuse(
    dir: DirOpt,
    invitation_id: Annotated[str, typer.Argument(help="The invitation's id (peer requests).")],
) -> None:
    """Refuse an invitation: unused, its secret stops working; used, the peer that joined
    with it is revoked as by `kizuna peer revoke`."""
    from kizuna.federation.invites import InvitationStore

    nd = NodeDir(dir)
    store = InvitationStore(nd)
    record = store.get(invitation_id)
    if record is None:
        _fail(f"no invitation {invitation_id!r}")
        return
    if record.state == "refused":
        _fail(f"invitation {invitation_id} is refused already")
    if not store.move(record.id, record.state, "refused", refused_at=time.time()):
        _fail(f"invitation {invitation_id} changed meanwhile; look again (peer requests)")
    revoked = False
    if record.state == "used":
        config = nd.load()
        if any(p.peer_id == record.peer_id for p in config.peers):
            _revoke(dir, record.peer_id)
            revoked = True
    _audit(dir, "peer.refuse", invitation=record.id, peer=record.peer_id, was=record.state)
    typer.echo(
        f"invitation {record.id} for {record.peer_id} refused"
        + (f"; peer {record.peer_id} revoked" if revoked else "")
    )


@peer_app.command("set")
def peer_set(
    dir: DirOpt,
    peer_id: Annotated[str, typer.Option(help="The peer's node id.")],
    types: TypesOpt = None,
    max_classification: ClassOpt = None,
    relay: Annotated[
        bool | None, typer.Option("--relay/--no-relay", help="Forward others' records.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="The peer's federation URL.")] = None,
) -> None:
    """Change the agreement with a peer; a running node applies it to the next record it
    sends or receives."""
    from kizuna.federation.peerconf import update_peer

    changes: dict[str, Any] = {}
    if types is not None:
        changes["types"] = _types(types, federated_types())
    if max_classification is not None:
        changes["max_classification"] = _level(max_classification).name
    if relay is not None:
        changes["relay"] = relay
    if url is not None:
        changes["url"] = url
    if not changes:
        _fail("nothing to change: give --types, --max-classification, --relay/--no-relay or --url")
    try:
        peer = update_peer(NodeDir(dir), peer_id, **changes)
    except (PeerEditError, FileNotFoundError) as exc:
        _fail(str(exc))
    _audit(dir, "peer.set", peer=peer_id, changed=sorted(changes), **_agreement(peer))
    marking = Classification.parse(peer.max_classification).marking
    typer.echo(
        f"peer {peer_id}: {', '.join(peer.types)} up to {marking}{', relay' if peer.relay else ''}"
    )


def _revoke(dir: Path, peer_id: str) -> tuple[PeerConfig, int]:
    from kizuna.federation.peerconf import remove_peer

    try:
        peer = remove_peer(NodeDir(dir), peer_id)
    except (PeerEditError, FileNotFoundError) as exc:
        _fail(str(exc))
        raise
    dropped = _drop_outbox(dir, peer_id)
    _audit(dir, "peer.revoke", peer=peer_id, outbox_dropped=dropped, **_agreement(peer))
    return peer, dropped


@peer_app.command("revoke")
def peer_revoke(
    dir: DirOpt, peer_id: Annotated[str, typer.Option(help="The peer's node id.")]
) -> None:
    """Revoke a peer: its agreement and pinned certificate go, its queued outbox is dropped
    (audited). A running node refuses the peer's next connection."""
    peer, dropped = _revoke(dir, peer_id)
    typer.echo(f"peer {peer_id} ({peer.nation}) revoked; {dropped} queued event(s) dropped")
