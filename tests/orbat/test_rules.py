"""Pure ORBAT rules: SIDCs, which edges may exist, the owner rule at receipt, the tree."""

from __future__ import annotations

import json
from importlib import resources

import msgspec
import pytest

from kizuna.core.catalog import missing_keys
from kizuna.core.hlc import pack
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, Precedence
from kizuna.orbat import rules
from kizuna.orbat.models import OrbatDocument


def ev(payload: dict[str, object], origin: str = "usfj", op: str = "create") -> Event:
    return Event(
        origin=origin,
        seq=1,
        hlc=pack(1_800_000_000_000, 0),
        record_type="unit_relation",
        record_id="r",
        op=op,  # type: ignore[arg-type]
        label=parse_label("UNCLASSIFIED", originator="USA"),
        precedence=Precedence.ROUTINE,
        payload=payload,
        author="x",
    )


def edge(
    kind: str, fn: str, tn: str, fnode: str = "usfj", tnode: str = "jjoc"
) -> dict[str, object]:
    return {
        "from_unit": "a",
        "to_unit": "b",
        "kind": kind,
        "from_nation": fn,
        "to_nation": tn,
        "from_node": fnode,
        "to_node": tnode,
        "valid_from": 0.0,
        "valid_to": None,
    }


def test_sidc_checks_and_amplifiers() -> None:
    assert rules.sidc_problem("10031000001100000000") is None
    assert rules.sidc_problem("1003100000110000000") is not None  # 19 digits
    assert rules.sidc_problem("20031000001100000000") is not None  # not 2525D
    assert rules.sidc_problem("10039900001100000000") is not None  # no such symbol set
    out = rules.sidc_with("10031000001100000000", hq=True, task_force=True, echelon="division")
    assert (out[7], out[8:10]) == ("6", "21")
    sea = rules.sidc_with("10033000001200000000", hq=True, task_force=False, echelon="division")
    assert (sea[7], sea[8:10]) == ("2", "00")  # echelon amplifiers are land units'


@pytest.mark.parametrize("kind", ["ORGANIC", "ATTACHED", "OPCON", "TACON", "ADCON"])
def test_receipt_refuses_a_command_edge_across_chains(kind: str) -> None:
    assert rules.relation_owner(None, ev(edge(kind, "USA", "JPN"))) == "command_across_chains"
    assert rules.relation_owner(None, ev(edge(kind, "USA", "USA", tnode="usfj"))) is None
    # A command edge over a unit another node owns, and one without nations: refused.
    forged = ev(edge(kind, "USA", "USA", fnode="jjoc"))
    assert rules.relation_owner(None, forged) == "command_not_subordinate_owner"
    assert rules.relation_owner(None, ev(edge(kind, "", ""))) == "command_unknown_nation"


def test_receipt_refuses_turning_coordination_into_command() -> None:
    coord = ev(edge("COORDINATION", "USA", "JPN"))
    assert rules.relation_owner(None, coord) is None
    from kizuna.core.merge import lww_merge

    state = lww_merge(None, coord)
    assert rules.relation_owner(state, ev({"kind": "OPCON"}, op="patch")) == "command_across_chains"
    assert rules.relation_owner(state, ev({"valid_to": 5.0}, op="patch")) is None
    assert rules.relation_owner(state, ev({"valid_to": 5.0}, origin="aus", op="patch")) == (
        "not_owner"
    )
    # A third node may not record a coordination between two others.
    assert rules.relation_owner(None, ev(edge("COORDINATION", "USA", "JPN"), origin="aus")) == (
        "coordination_not_party"
    )


def test_tree_picks_the_operational_parent_and_cuts_loops() -> None:
    edges = [
        ("e1", {"from_unit": "meu", "to_unit": "mef", "kind": "ORGANIC"}),
        ("e2", {"from_unit": "meu", "to_unit": "cnfj", "kind": "OPCON"}),
        ("e3", {"from_unit": "mef", "to_unit": "usfj", "kind": "ORGANIC"}),
        ("e4", {"from_unit": "cnfj", "to_unit": "usfj", "kind": "ORGANIC"}),
        ("c", {"from_unit": "usfj", "to_unit": "jjoc", "kind": "COORDINATION"}),
        ("x", {"from_unit": "a", "to_unit": "b", "kind": "ORGANIC"}),
        ("y", {"from_unit": "b", "to_unit": "a", "kind": "ORGANIC"}),
    ]
    names = {"usfj": "USFJ", "mef": "III MEF", "cnfj": "CNFJ", "meu": "31 MEU", "jjoc": "JJOC"}
    placed, coord = rules.tree(["usfj", "mef", "cnfj", "meu", "jjoc", "a", "b"], edges, names)
    by = {p.unit_id: p for p in placed}
    assert (by["meu"].parent, by["meu"].relation, by["meu"].other) == ("cnfj", "e2", ["e1"])
    assert by["meu"].depth == 2 and by["usfj"].depth == 0 and by["jjoc"].parent is None
    assert coord == ["c"]
    assert {p.unit_id for p in placed} == set(names) | {"a", "b"}  # a loop drops no unit
    order = [p.unit_id for p in placed]
    assert order.index("usfj") < order.index("cnfj") < order.index("meu")


def test_valid_at_and_cycles() -> None:
    e = {"valid_from": 10.0, "valid_to": 20.0}
    assert [rules.valid_at(e, t) for t in (9.9, 10.0, 19.9, 20.0)] == [False, True, True, False]
    edges = [{"from_unit": "b", "to_unit": "a", "kind": "ORGANIC", "valid_from": 0.0}]
    assert rules.would_cycle(edges, "a", "b", 5.0, None)
    assert not rules.would_cycle(edges, "a", "b", -10.0, -5.0)  # before the edge began


def test_schema_file_is_the_models_schema_and_catalogs_complete() -> None:
    text = resources.files("kizuna.orbat").joinpath("orbat.schema.json").read_text()
    doc = json.loads(text)
    assert doc["$ref"] == "#/$defs/OrbatDocument"
    assert doc["$defs"] == msgspec.json.schema(OrbatDocument)["$defs"]
    assert missing_keys("kizuna.orbat") == {"en": [], "ja": []}
