"""Helpers for picture tests: tracks, labels, principals, in-process nodes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kizuna.core.labels import Classification, Label, parse_label
from kizuna.core.release import Principal, make_principal
from kizuna.picture.models import Provenance, Track

if TYPE_CHECKING:
    from kizuna.kernel.contract import Domain
    from kizuna.node.runtime import Node

U = parse_label("U")
S_REL_JPN = parse_label("S//REL TO USA, JPN")
S_NOFORN = parse_label("SECRET//NOFORN")
LABELS = [U, S_REL_JPN, S_NOFORN, parse_label("C//REL TO USA, AUS")]

US_TS = make_principal("USA", Classification.TOP_SECRET)
JPN_S = make_principal("JPN", Classification.SECRET)
AUS_C = make_principal("AUS", Classification.CONFIDENTIAL)
PRINCIPALS: list[Principal] = [US_TS, JPN_S, AUS_C]


class Clock:
    """A settable clock for a PictureService (``clock.now = …``)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def track(
    tid: str,
    *,
    source: str = "ais",
    source_id: str | None = None,
    lat: float = 35.0,
    lon: float = 139.0,
    t: float = 1000.0,
    stale: float = 600.0,
    label: Label = U,
    **extra: Any,
) -> Track:
    sid = source_id if source_id is not None else tid
    return Track(
        id=tid,
        source=source,
        source_id=sid,
        lat=lat,
        lon=lon,
        observed_at=t,
        stale_at=t + stale,
        label=label,
        sidc="10030000000000000000",
        sources=[Provenance(source=source, source_id=sid, observed_at=t, connection="test")],
        **extra,
    )


def report(label: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    """A manual report for POST /api/v1/tracks."""
    return {"label": label, "lat": lat, "lon": lon, **extra}


def in_process_node(
    root: Path, domains: Sequence[Domain] | None = None, **tables: dict[str, Any]
) -> Node:
    """A node of just ``domains`` (default: the picture) without `kizuna init` processes;
    ``tables`` are plugin settings tables (``picture={"grace": 60}``)."""
    from kizuna.kernel.config import NodeConfig, NodeDir
    from kizuna.node.runtime import Node
    from kizuna.node.setup import init_node
    from kizuna.picture import plugin

    init_node(NodeDir(root), NodeConfig(node_id="usfj", nation="USA", plugins=dict(tables)))
    return Node(root, domains=list(domains) if domains is not None else [plugin])


def user_token(node: Node, name: str, nation: str, clearance: str) -> str:
    """Add a user to an in-process node; returns its bearer token."""
    from kizuna.node.users import make_user

    user, token = make_user(name, nation, clearance, [], [], node.groups)
    node.backend.users.add_user(user)
    return token
