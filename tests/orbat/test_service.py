"""The ORBAT service on in-process nodes: sovereignty, release, the chain rule, history,
export and import."""

from __future__ import annotations

import time
from collections.abc import Sequence

import msgspec
import pytest

from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.time import parse_iso
from kizuna.orbat import plugin
from kizuna.orbat.models import (
    Name,
    OrbatDocument,
    RelationOut,
    RelationPatch,
    Resubordinate,
    UnitOut,
    UnitPatch,
)
from kizuna.store.base import Draft
from tests.orbat.nodes import Node, edge, start, sync, unit

REL_BI = "SECRET//REL TO USA, JPN"
CDR = {"person_id": "cdr-usfj", "name": {"en": "Commander, USFJ", "ja": "在日米軍司令官"}}


@pytest.fixture
def nodes() -> tuple[Node, Node, Node]:
    jp, us, au = start("jjoc", "JPN"), start("usfj", "USA"), start("aus", "AUS")
    j, u, a = jp.user(), us.user(), au.user()
    jp.service.create_unit(j, unit("jjoc", "Joint Operations Command", "統合作戦司令部"))
    jp.service.create_unit(j, unit("gcc", "Ground Component Command", "陸上総隊"))
    jp.service.create_relation(j, edge("r-gcc", "gcc", "jjoc", "OPCON"))
    loc = {"location": {"lat": 35.7486, "lon": 139.3486}, "home_facility": "yokota"}
    us.service.create_unit(
        u, unit("usfj", "U.S. Forces Japan", "在日米軍", commanders=[CDR], **loc)
    )
    us.service.create_unit(u, unit("5af", "Fifth Air Force", "第5空軍", commanders=[CDR]))
    us.service.create_unit(u, unit("mef", "III MEF"))
    us.service.create_unit(u, unit("cnfj", "U.S. Naval Forces Japan"))
    us.service.create_unit(u, unit("jtf-cell", "Bilateral planning cell", label=REL_BI))
    for rid, sub in (("r-5af", "5af"), ("r-mef", "mef"), ("r-cnfj", "cnfj")):
        us.service.create_relation(u, edge(rid, sub, "usfj", "ORGANIC"))
    us.service.create_relation(u, edge("r-cell", "jtf-cell", "usfj", "ORGANIC", label=REL_BI))
    au.service.create_unit(a, unit("adf", "ADF contingent"))
    sync(jp, us, au)
    jp.service.create_relation(j, edge("coord", "jjoc", "usfj", "COORDINATION"))
    sync(jp, us, au)
    return jp, us, au


def ids(items: Sequence[UnitOut | RelationOut]) -> set[str]:
    return {i.id for i in items}


def test_each_node_owns_its_units_and_partners_see_what_labels_allow(
    nodes: tuple[Node, Node, Node],
) -> None:
    jp, us, au = nodes
    j, a = jp.user(), au.user()
    held = {x.id: x.origin for x in jp.service.units(j)}
    assert held["usfj"] == "usfj" and held["jjoc"] == "jjoc" and held["jtf-cell"] == "usfj"
    with pytest.raises(Forbidden, match="sovereignty"):
        jp.service.update_unit(j, "usfj", UnitPatch(name=None, hq=False))
    # AUS holds and shows only what is releasable to AUS: no bilateral cell, no edge to it.
    assert "jtf-cell" not in ids(au.service.units(a))
    assert "r-cell" not in ids(au.service.relations(a))
    assert {x.unit.id for x in au.service.tree(a).units} == {
        "jjoc",
        "gcc",
        "usfj",
        "5af",
        "mef",
        "cnfj",
        "adf",
    }
    assert "jtf-cell" not in {x.id for x in au.service.export(a).units}
    # An AUS reader on the US node sees the same through the release check on read.
    aus_on_us = us.foreign("mate", "AUS")
    assert "jtf-cell" not in ids(us.service.units(aus_on_us))
    with pytest.raises(NotFound):
        us.service.unit(aus_on_us, "jtf-cell")
    tree = jp.service.tree(j)
    assert [c.id for c in tree.coordination] == ["coord"]
    # Dual-hatted: one person on two units.
    holders = [
        x.id for x in jp.service.units(j) if any(c.person_id == "cdr-usfj" for c in x.commanders)
    ]
    assert sorted(holders) == ["5af", "usfj"]
    assert jp.service.features(j) == jp.service.features(j.principal)
    feats = {f.id: f for f in jp.service.features(j)}
    # Through the kernel contract, as the exports (KML, GeoJSON, TAK) ask for them.
    assert "usfj" in {f.id for f in plugin.features(au.service, a)}
    assert feats["usfj"].geometry == {"type": "Point", "coordinates": [139.3486, 35.7486]}
    assert feats["usfj"].sidc and len(feats["usfj"].sidc) == 20


def test_a_command_edge_between_chains_is_refused_on_the_api_and_at_receipt(
    nodes: tuple[Node, Node, Node],
) -> None:
    jp, us, au = nodes
    j, u = jp.user(), us.user()
    for kind in ("ORGANIC", "OPCON", "TACON", "ADCON", "ATTACHED"):
        with pytest.raises(Invalid) as err:
            us.service.create_relation(u, edge(f"x-{kind}", "mef", "jjoc", kind))
        assert err.value.extra["code"] == "command_across_chains"
        assert "COORDINATION" in err.value.extra["reason"]["en"]
        assert "調整" in err.value.extra["reason"]["ja"]
    with pytest.raises(Invalid, match="owns the subordinate"):
        jp.service.create_relation(j, edge("x", "5af", "usfj", "OPCON"))
    # A node writing the edge into its own log (no API) cannot make a partner hold it.
    payload = {
        "from_unit": "mef",
        "to_unit": "jjoc",
        "kind": "OPCON",
        "valid_from": 0.0,
        "valid_to": None,
        "from_nation": "USA",
        "to_nation": "JPN",
        "from_node": "usfj",
        "to_node": "jjoc",
    }
    label = us.ctx.parse_label("UNCLASSIFIED")
    us.ctx.events.append([Draft("unit_relation", "forged", "create", label, payload)])
    # ... nor turn the COORDINATION edge (JJOC's) into a command edge.
    coord = jp.ctx.events.get("unit_relation", "coord")
    assert coord is not None
    jp.ctx.events.append([Draft("unit_relation", "coord", "patch", coord.label, {"kind": "OPCON"})])
    sync(jp, us, au)
    assert jp.ctx.events.get("unit_relation", "forged") is None
    assert au.ctx.events.get("unit_relation", "forged") is None
    assert ("unit_relation", "usfj", "command_across_chains") in jp.refused
    assert ("unit_relation", "usfj", "command_across_chains") in au.refused
    assert us.service.relation(u, "coord").kind == "COORDINATION"
    # An edge that lies about a unit's nation gets past the pure owner rule, but the
    # receiving node's tree places edges by the units it holds: JJOC stays out of it.
    lie = {**payload, "to_nation": "USA", "valid_from": 1.0}
    us.ctx.events.append([Draft("unit_relation", "lie", "create", label, lie)])
    sync(jp, us)
    placed = {x.unit.id: x for x in jp.service.tree(j).units}
    assert placed["mef"].parent == "usfj" and placed["jjoc"].children == ["gcc"]
    assert "lie" not in {r.id for x in placed.values() for r in x.other}
    assert ("unit_relation", "jjoc", "command_across_chains") in us.refused


def test_task_organisation_as_of_a_past_date_after_resubordination(
    nodes: tuple[Node, Node, Node],
) -> None:
    jp, us, _ = nodes
    j, u = jp.user(), us.user()
    us.service.create_unit(u, unit("meu", "31st MEU"))
    us.service.create_relation(u, edge("r-meu", "meu", "mef", "ORGANIC"))
    out = us.service.resubordinate(
        u, "meu", Resubordinate(to_unit="cnfj", kind="OPCON", label="U", at="2026-06-01T00:00:00Z")
    )
    assert out[0].valid_to == "2026-06-01T00:00:00.000Z" and out[1].kind == "OPCON"
    sync(jp, us)
    for node, caller in ((us, u), (jp, j)):
        before = {
            x.unit.id: x for x in node.service.tree(caller, parse_iso("2026-03-01T00:00:00Z")).units
        }
        after = {
            x.unit.id: x for x in node.service.tree(caller, parse_iso("2026-07-01T00:00:00Z")).units
        }
        assert before["meu"].parent == "mef" and before["meu"].relation.kind == "ORGANIC"  # type: ignore[union-attr]
        assert after["meu"].parent == "cnfj" and after["meu"].relation.kind == "OPCON"  # type: ignore[union-attr]
        assert "meu" in before["mef"].children and "meu" in after["cnfj"].children
        # Before the organisation began nothing is subordinate.
        early = node.service.tree(caller, parse_iso("2025-01-01T00:00:00Z"))
        assert all(x.parent is None for x in early.units)
    # Ending an edge before it began, and a bad kind to re-subordinate to: refused.
    with pytest.raises(Invalid):
        us.service.update_relation(u, "r-meu", RelationPatch(valid_to="2025-01-01T00:00:00Z"))
    with pytest.raises(Invalid):
        us.service.resubordinate(
            u, "meu", Resubordinate(to_unit="cnfj", kind="COORDINATION", label="U")
        )
    # A loop is refused.
    with pytest.raises(Invalid) as err:
        us.service.create_relation(u, edge("loop", "usfj", "meu", "ADCON"))
    assert err.value.extra["code"] == "cycle"


def test_units_are_shown_as_they_were(nodes: tuple[Node, Node, Node]) -> None:
    jp, _, _ = nodes
    j = jp.user()
    mid = time.time()
    time.sleep(0.01)
    jp.service.update_unit(
        j,
        "gcc",
        UnitPatch(name=Name(en="GCC renamed")),
    )
    past = {x.unit.id: x.unit for x in jp.service.tree(j, mid).units}
    now = {x.unit.id: x.unit for x in jp.service.tree(j).units}
    assert past["gcc"].name.en == "Ground Component Command"
    assert now["gcc"].name.en == "GCC renamed"


def test_export_import_round_trip_into_a_fresh_node(nodes: tuple[Node, Node, Node]) -> None:
    jp, _, _ = nodes
    j = jp.user()
    doc = jp.service.export(j)
    wire = msgspec.json.decode(msgspec.json.encode(doc), type=OrbatDocument)
    fresh = start("jjoc2", "JPN")
    f = fresh.user()
    result = fresh.service.import_document(f, wire)
    assert (result.units_created, result.relations_created) == (len(doc.units), len(doc.relations))
    again = fresh.service.export(f)

    def shape(d: OrbatDocument) -> tuple[object, object]:
        units = sorted((msgspec.structs.replace(x, origin="") for x in d.units), key=lambda x: x.id)
        rels = sorted(
            (msgspec.structs.replace(x, origin="") for x in d.relations), key=lambda x: x.id
        )
        return units, rels

    assert shape(again) == shape(doc)
    assert {r.kind for r in again.relations} >= {"OPCON", "ORGANIC", "COORDINATION"}
    # Re-importing updates in place; a document with a bad edge applies nothing.
    assert fresh.service.import_document(f, wire).units_updated == len(doc.units)
    bad = msgspec.structs.replace(
        wire,
        units=[*wire.units, msgspec.structs.replace(wire.units[0], id="new-unit")],
        relations=[
            *wire.relations,
            msgspec.structs.replace(
                wire.relations[0], id="bad", from_unit="gcc", to_unit="usfj", kind="OPCON"
            ),
        ],
    )
    with pytest.raises(Invalid) as err:
        fresh.service.import_document(f, bad)
    assert err.value.extra["reason"]["ja"]
    with pytest.raises(NotFound):
        fresh.service.unit(f, "new-unit")
    with pytest.raises(Conflict):  # an id another node owns is not taken over
        jp.service.import_document(j, msgspec.structs.replace(wire, relations=[]))
