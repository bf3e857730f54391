"""The one ingress rule (ADR 0006): the host node's nation originates; the writer must keep access.

Issue 17, finding 1: the API and CoT decided differently. Both now ask ``kernel/ingress.py``.
"""

from __future__ import annotations

import json

import pytest

from kizuna.core.errors import BadLabel, Forbidden
from kizuna.core.labels import Classification, GroupRegistry, LabelError, make_label
from kizuna.core.release import make_principal
from kizuna.kernel.access import label_for_write
from kizuna.kernel.context import Caller
from kizuna.kernel.ingress import IngressRefused, rule
from kizuna.kernel.testing import memory_context
from kizuna.store.base import User

ACM = GroupRegistry({"ACM": ["USA", "JPN"]})
JPN_NODE = rule("JPN", ACM)


def writer(nation: str, clearance: str = "SECRET", *groups: str):  # type: ignore[no-untyped-def]
    return JPN_NODE.principal(nation, Classification.parse(clearance), groups, name=nation.lower())


@pytest.mark.parametrize(
    ("nation", "marking", "verdict"),
    [
        ("PHL", "SECRET//NOFORN", "not_releasable_to_writer"),  # JPN only: locks PHL out
        ("PHL", "SECRET//REL TO USA", "not_releasable_to_writer"),  # never becomes USA, PHL
        ("PHL", "SECRET", "not_releasable_to_writer"),  # classified, no REL TO: JPN only
        ("PHL", "SECRET//REL TO USA, PHL", None),
        ("PHL", "UNCLASSIFIED", None),
        ("PHL", "TOP SECRET//REL TO PHL", "clearance"),
        ("PHL", "SECRET//REL TO ACM", "not_releasable_to_writer"),
        ("USA", "SECRET//REL TO ACM", None),  # the node's groups: USA is in ACM
        ("JPN", "SECRET//NOFORN", None),
        ("KOR", "S//REL TO KOR", None),
    ],
)
def test_the_rule(nation: str, marking: str, verdict: str | None) -> None:
    label = JPN_NODE.parse(marking)
    assert label.originator == "JPN"  # whoever writes, the host node's nation originates
    refusal = JPN_NODE.refusal(label, writer(nation))
    assert (refusal.reason if refusal else None) == verdict
    if refusal is None:
        assert JPN_NODE.check(label, writer(nation)) is label
    else:
        with pytest.raises(IngressRefused) as caught:
            JPN_NODE.check(label, writer(nation))
        assert caught.value.reason == verdict and label.render() in str(caught.value)


def test_a_label_originated_elsewhere_is_not_written_here() -> None:
    usa = make_label(Classification.SECRET, rel_to={"PHL"}, originator="USA")
    refusal = JPN_NODE.refusal(usa, writer("USA"))
    assert refusal is not None and refusal.reason == "originator"
    with pytest.raises(LabelError):
        JPN_NODE.parse("//USA SECRET//REL TO PHL")  # a marking naming another originator
    built = JPN_NODE.label(Classification.SECRET, rel_to=["PHL"])
    assert built.render() == "//JPN SECRET//REL TO JPN, PHL"
    with pytest.raises(LabelError):
        JPN_NODE.label(Classification.SECRET, rel_to=["XYZ"])  # unknown on this node


def test_principals_know_the_node_groups() -> None:
    assert "ACM" in writer("USA").groups
    with pytest.raises(LabelError):
        writer("KOR", "SECRET", "ACM")  # not a member
    with pytest.raises(LabelError):
        writer("USA", "SECRET", "XYZ")  # not defined here
    assert rule("JPN", ACM) is JPN_NODE  # one rule per node, built once


def test_the_api_path_refuses_through_the_rule() -> None:
    ctx = memory_context("jjoc", "JPN", groups={"ACM": ["USA", "JPN"]})
    user = User(name="juan", nation="PHL", clearance="SECRET")
    caller = Caller(user, make_principal("PHL", Classification.SECRET, registry=ctx.groups))
    for marking in ("SECRET//NOFORN", "SECRET//REL TO USA"):
        with pytest.raises(Forbidden, match="not releasable to you"):
            label_for_write(ctx, caller, marking)
    label = label_for_write(ctx, caller, "S//REL TO PHL")
    assert label.render() == "//JPN SECRET//REL TO JPN, PHL"
    with pytest.raises(BadLabel):
        label_for_write(ctx, caller, "SECRET//REL TO XYZ")
    assert ctx.metrics.refused.labels("write_label")._value.get() == 2
    entries = [json.loads(ln) for ln in ctx.audit.path.read_text().splitlines()]
    assert [(e["actor"], e["details"]["why"]) for e in entries] == [
        ("juan", "not_releasable_to_writer")
    ] * 2
    ctx.backend.close()
