"""A node with incidents, relief, assistance and the SITREP, and a scenario in three nations.

Incidents and relief are the real services on a memory context. Assistance is the real
service when its module is importable and has the agreed reads; until then a fake with
the agreed method names (``FakeAssistance``) stands in, filtering by the release check as
the service does (the SITREP checks every item again itself)."""

from __future__ import annotations

import time
from typing import Any

from kizuna.core.label_view import label_fields
from kizuna.core.labels import parse_label
from kizuna.core.records import Text
from kizuna.core.release import may_release
from kizuna.incidents import plugin as incidents_plugin
from kizuna.incidents.models import (
    Bulletin,
    Hypocentre,
    IntensityArea,
    Magnitude,
    TsunamiArea,
)
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.users import make_user, principal_of
from kizuna.relief import plugin as relief_plugin
from kizuna.relief.models import ShelterIn, Where
from kizuna.sitrep import plugin as sitrep_plugin
from kizuna.sitrep.service import SitrepService

EVENT = "20240101161010"
EVERYONE = "SECRET//REL TO USA, JPN, AUS"
BILATERAL = "SECRET//REL TO USA, JPN"


def caller(ctx: NodeContext, name: str, nation: str, clearance: str = "SECRET") -> Caller:
    user, _ = make_user(name, nation, clearance, [], [], ctx.groups)
    return Caller(user, principal_of(user, ctx.groups))


class FakeAssistance:
    """The assistance service's three reads (agreed names), over dicts shaped as its
    RfaOut / OfferOut / TaskOut, each filtered for the caller by the release check."""

    def __init__(self, ctx: NodeContext, *, leaky: bool = False) -> None:
        self.ctx = ctx
        self.leaky = leaky  # a broken service that forgets the release check
        self.items: dict[str, list[dict[str, Any]]] = {"rfa": [], "offer": [], "task": []}

    def add(self, kind: str, marking: str, **fields: Any) -> dict[str, Any]:
        label = parse_label(marking, originator=self.ctx.nation, groups=self.ctx.groups)
        item = {**fields, **label_fields(label)}
        self.items[kind].append(item)
        return item

    def _visible(self, caller: Caller, kind: str) -> list[dict[str, Any]]:
        out = []
        for item in self.items[kind]:
            label = parse_label(item["label_fgi"], groups=self.ctx.groups)
            if self.leaky or may_release(label, caller.principal):
                out.append(item)
        return out

    def rfas(self, caller: Caller, incident_id: str | None = None) -> list[dict[str, Any]]:
        return [
            r for r in self._visible(caller, "rfa") if incident_id in (None, r.get("incident_id"))
        ]

    def offers(self, caller: Caller, rfa_id: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self._visible(caller, "offer") if rfa_id in (None, o.get("rfa_id"))]

    def tasks(self, caller: Caller, incident_id: str | None = None) -> list[dict[str, Any]]:
        return [
            t for t in self._visible(caller, "task") if incident_id in (None, t.get("incident_id"))
        ]


def line(
    item: str, unit: str, requested: float, committed: float = 0, delivered: float = 0, **kw: Any
) -> dict[str, Any]:
    return {
        "item": item,
        "kind": kw.pop("kind", "item"),
        "description": kw.pop("description", {"en": item.replace("_", " "), "ja": item}),
        "unit": unit,
        "pack_size": None,
        "packs": None,
        "requested": requested,
        "offered": kw.pop("offered", committed),
        "committed": committed,
        "in_transit": kw.pop("in_transit", 0.0),
        "delivered": delivered,
        "gap": max(0.0, requested - committed),
        "coverage": "COMPLETE" if committed >= requested else "PARTIAL" if committed else "NONE",
    }


def bulletin(title: str = "震源・震度に関する情報") -> Bulletin:
    return Bulletin(
        source="jma",
        key=["通常", EVENT, "VXSE53", "1", "発表"],
        status="actual",
        kind="issue",
        event=EVENT,
        type="VXSE53",
        issued_at=time.time() - 3600,
        serial=1,
        title=title,
        headline="１日１６時１０分ころ、地震がありました。",
        origin_time=time.time() - 3700,
        hypocentre=Hypocentre(lat=37.5, lon=137.2, depth_km=10, name="石川県能登地方"),
        magnitude=Magnitude(value=7.6, type="Mj"),
        max_intensity="7",
        intensity_areas=[
            IntensityArea(level="pref", code="17", name="石川県", intensity="7"),
            IntensityArea(level="pref", code="15", name="新潟県", intensity="6+"),
        ],
        tsunami_areas=[
            TsunamiArea(code="191", name="能登", kind_code="52", kind_name="大津波警報")
        ],
    )


class Scenario:
    """USFJ's node: an incident, RFAs, offers, a task and shelters labelled for different
    sets of nations, and readers from the USA, Japan and Australia."""

    def __init__(self, *, leaky: bool = False, real_assistance: bool = False) -> None:
        ctx = memory_context("usfj", "USA")
        self.ctx = ctx
        for plugin in (incidents_plugin, relief_plugin, sitrep_plugin):
            for rt in plugin.record_types():
                ctx.events.register_merge(rt.name, rt.merge)
        self.incidents = incidents_plugin.start(ctx)
        self.relief = relief_plugin.start(ctx)
        self.assistance = FakeAssistance(ctx, leaky=leaky)
        ctx._services.update(
            incidents=self.incidents, relief=self.relief, assistance=self.assistance
        )
        self.sitrep: SitrepService = sitrep_plugin.start(ctx)
        self.usa = caller(ctx, "alice", "USA")
        self.jpn = caller(ctx, "kenji", "JPN")
        self.aus = caller(ctx, "ava", "AUS")
        result = self.incidents.apply_bulletin(
            bulletin(), label=parse_label("UNCLASSIFIED"), raw=b"<Report>VXSE53</Report>"
        )
        assert result.incident_id is not None
        self.incident_id = result.incident_id
        self.populate()

    def populate(self) -> None:
        a, iid = self.assistance, self.incident_id
        a.add(
            "rfa",
            EVERYONE,
            id="rfa-water",
            incident_id=iid,
            affected_state="JPN",
            requesting_org={"en": "Ishikawa Prefecture", "ja": "石川県"},
            site={"id": "sh-1", "name": {"en": "Wajima Gymnasium", "ja": "輪島市立体育館"}},
            title={"en": "Water for Wajima", "ja": "輪島への給水"},
            status="COMMITTED",
            status_name={"en": "Committed", "ja": "確約済み"},
            priority="critical",
            lines=[line("water", "L", 900_000, committed=400_000, delivered=100_000)],
            coverage="PARTIAL",
        )
        a.add(
            "rfa",
            BILATERAL,
            id="rfa-fuel",
            incident_id=iid,
            affected_state="JPN",
            requesting_org={"en": "Ishikawa Prefecture", "ja": "石川県"},
            site={"id": "misawa", "name": {"en": "Komatsu Air Base", "ja": "小松基地"}},
            title={"en": "Bilateral fuel plan", "ja": "日米燃料計画"},
            status="OPEN",
            priority="high",
            lines=[line("airlift_sortie", "sortie", 12, kind="capability")],
            coverage="NONE",
        )
        a.add(
            "offer",
            EVERYONE,
            id="offer-aus",
            rfa_id="rfa-water",
            nation="AUS",
            status="ACCEPTED",
            committed=True,
            unit="RAAF No. 36 Squadron",
            asset="C-17A",
            lines=[{"item": "water", "unit": "L", "quantity": 400_000, "delivered": 100_000}],
        )
        a.add(
            "offer",
            BILATERAL,
            id="offer-usa",
            rfa_id="rfa-fuel",
            nation="USA",
            status="OFFERED",
            committed=False,
            lines=[{"item": "airlift_sortie", "unit": "sortie", "quantity": 6}],
        )
        a.add(
            "task",
            EVERYONE,
            id="task-aus",
            offer_id="offer-aus",
            rfa_id="rfa-water",
            incident_id=iid,
            nation="AUS",
            unit="RAAF No. 36 Squadron",
            description={"en": "Airlift water to Noto", "ja": "能登へ水を空輸"},
            due="2024-01-03T00:00:00.000Z",
            status="IN_PROGRESS",
        )
        a.add(
            "task",
            BILATERAL,
            id="task-usa",
            offer_id="offer-usa",
            rfa_id="rfa-fuel",
            incident_id=iid,
            nation="USA",
            unit="374th Airlift Wing",
            description={"en": "Stage fuel bladders", "ja": "燃料袋の準備"},
            status="PLANNED",
        )
        self.relief.create_shelter(
            self.usa, shelter(iid, "UNCLASSIFIED", "輪島市立体育館", "Wajima Gymnasium")
        )
        self.relief.create_shelter(
            self.usa, shelter(iid, BILATERAL, "小松基地体育館", "Komatsu Base Gym")
        )


def shelter(incident_id: str, label: str, ja: str, en: str) -> ShelterIn:
    return ShelterIn(
        label=label,
        name=Text(en=en, ja=ja),
        municipality=Text(en="Wajima", ja="輪島市"),
        municipality_code="172049",
        position=Where(lat=37.39, lon=136.90),
        capacity_day=800,
        capacity_night=600,
        population_day=350,
        population_night=580,
        incident_id=incident_id,
    )
