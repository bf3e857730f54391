"""A comment never travels further than its request (property test of `restrict`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.label_math import restrict
from kizuna.core.labels import Classification, GroupRegistry, make_label
from kizuna.core.release import make_principal, may_release

REG = GroupRegistry({"ACM": ["USA", "JPN"]})
CODES = ["USA", "JPN", "AUS", "KOR", "PHL", "GBR", "FVEY", "ACM"]
NATIONS = ["USA", "JPN", "AUS", "KOR", "PHL", "GBR", "FRA"]


@st.composite
def labels(draw: st.DrawFn, originator: str) -> object:
    cls = draw(st.sampled_from(list(Classification)))
    noforn = cls > 0 and draw(st.booleans())
    rel = [] if noforn else draw(st.lists(st.sampled_from(CODES), max_size=4))
    return make_label(cls, rel_to=rel, noforn=noforn, originator=originator, groups=REG)


@settings(max_examples=3_000)
@given(
    st.data(),
    st.sampled_from(NATIONS[:3]),
    st.sampled_from(NATIONS[:3]),
    st.sampled_from(NATIONS),
    st.sampled_from(list(Classification)),
)
def test_restricted_label_releases_only_where_both_do(
    data: st.DataObject, o1: str, o2: str, nation: str, clearance: Classification
) -> None:
    inner = data.draw(labels(o1))
    outer = data.draw(labels(o2))
    combined = restrict(inner, outer, REG)  # type: ignore[arg-type]
    who = make_principal(nation, clearance, registry=REG)
    if may_release(combined, who):
        assert may_release(inner, who) or nation == o1  # type: ignore[arg-type]
        assert may_release(outer, who) or nation == o1  # type: ignore[arg-type]
