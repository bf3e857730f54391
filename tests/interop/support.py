"""An in-process JPN node with tracks, an incident, MDA zones and a stand-in plugin that
offers features of another record type (``reservation``), and readers of three nations."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kizuna.core.labels import parse_label
from kizuna.incidents import plugin as incidents
from kizuna.interop import plugin as interop
from kizuna.interop.service import InteropService
from kizuna.kernel.context import Caller
from kizuna.kernel.contract import Domain, Feature
from kizuna.mda import plugin as mda
from kizuna.mda.models import Name, ZoneIn
from kizuna.node.runtime import Node
from kizuna.node.users import make_user, principal_of
from kizuna.picture import plugin as picture
from kizuna.sources.alerts import plugin as alerts
from tests.picture.support import track

CAP = Path(__file__).resolve().parents[1] / "sources" / "alerts" / "cap"


class Reservations(Domain):
    """A stand-in plugin: its features reach every export through the contract alone."""

    name = "standin"

    def start(self, ctx: Any) -> Any:
        return ctx

    def federated_types(self) -> Sequence[str]:
        return ["reservation"]

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        ring = [[139.1, 35.1], [139.3, 35.1], [139.3, 35.3], [139.1, 35.3], [139.1, 35.1]]
        return [
            Feature(
                id="rsv-1",
                record_type="reservation",
                name={"en": "Range 3 reserved", "ja": "第3射場予約"},
                geometry={"type": "Polygon", "coordinates": [ring]},
                label="//JPN CONFIDENTIAL//REL TO JPN, AUS",
                # Hostile text from a partner's tool: not a formula, not markup, downstream.
                description={"en": '=HYPERLINK("http://x") <script>alert(1)</script>'},
                time="2030-01-01T00:00:00Z",
                end="2030-01-02T00:00:00Z",
            ),
            # A plugin that gets release wrong: the exporter's own check stops it.
            Feature(
                id="leak-1",
                record_type="reservation",
                name={"en": "NOFORN leak"},
                geometry={"type": "Point", "coordinates": [139.0, 35.0]},
                label="//JPN SECRET//NOFORN",
            ),
        ]


@dataclass
class World:
    node: Node
    jp: Caller
    us: Caller
    au: Caller

    @property
    def interop(self) -> InteropService:
        svc: InteropService = self.node.service("interop")
        return svc

    def caller(self, name: str, nation: str, clearance: str, *roles: str) -> Caller:
        user, _ = make_user(name, nation, clearance, [], list(roles), self.node.groups)
        self.node.backend.users.add_user(user)
        return Caller(user, principal_of(user, self.node.groups))


def world(root: Path) -> World:
    """The JPN node ``jjoc`` and its content:

    * tracks ``jp-s`` (S//REL TO USA, JPN), ``all-u`` (U), ``jp-nf`` (S//NOFORN);
    * an incident from CAP ``01_alert.xml`` labelled C//REL TO JPN, USA (point and areas);
    * MDA zone "Kii Channel watch" (S//REL TO JPN, AUS);
    * the stand-in's reservation (C//REL TO JPN, AUS) and its mislabelled NOFORN feature.
    """
    from kizuna.kernel.config import NodeConfig, NodeDir
    from kizuna.node.setup import init_node

    init_node(
        NodeDir(root),
        NodeConfig(
            node_id="jjoc",
            nation="JPN",
            plugins={"incidents": {"default_label": "CONFIDENTIAL//REL TO JPN, USA"}},
        ),
    )
    node = Node(root, domains=[picture, incidents, alerts, mda, Reservations(), interop])
    w = World(node, *(None,) * 3)  # type: ignore[arg-type]
    w.jp = w.caller("sato", "JPN", "SECRET", "watch")
    w.us = w.caller("smith", "USA", "SECRET")
    w.au = w.caller("jones", "AUS", "SECRET")
    now = time.time()

    def label(text: str) -> Any:
        return parse_label(text, originator="JPN", groups=node.groups)

    node.service("picture").apply(
        [
            track("jp-s", t=now, lat=35.2, lon=139.2, label=label("S//REL TO USA, JPN")),
            track("all-u", t=now, lat=35.4, lon=139.6, label=label("U")),
            track("jp-nf", t=now, lat=35.6, lon=139.8, label=label("S//NOFORN")),
        ]
    )
    outcome = node.service("alerts").ingest_file(CAP / "01_alert.xml")
    assert outcome.incident_id, outcome
    node.service("mda").create_zone(
        w.jp,
        ZoneIn(
            label="S//REL TO JPN, AUS",
            name=Name(en="Kii Channel watch", ja="紀伊水道監視"),
            polygon=[[33.9, 134.9], [33.9, 135.3], [34.3, 135.3], [34.3, 134.9]],
        ),
    )
    return w
