"""Hypothesis strategies shared by the label, release and STANAG 4774 tests.

Kept cheap (sampling from fixed lists, no filtering) so 10,000 examples per
property stay within a few seconds.
"""

from __future__ import annotations

from hypothesis import strategies as st

from kizuna.core.labels import COUNTRIES, Classification, GroupRegistry, Label, make_label
from kizuna.core.release import Principal, make_principal

# A node's registry: the standard groups plus two node-defined ones.
REGISTRY = GroupRegistry(
    {
        "ACM": ["USA", "JPN"],  # Alliance Coordination Mechanism: a three-letter group
        "QUAD": ["USA", "JPN", "AUS", "IND"],
    }
)
GROUPS = REGISTRY.names()

# Nations that matter to the alliance come up often, so principals and REL TO
# lists collide; the full list keeps the rest of the world in play.
FOCUS = ["USA", "JPN", "AUS", "KOR", "PHL", "GBR", "CAN", "NZL", "FRA", "IND", "CHN", "FJI"]
ALL_COUNTRIES = sorted(COUNTRIES)

nations = st.one_of(st.sampled_from(FOCUS), st.sampled_from(ALL_COUNTRIES))
classifications = st.sampled_from(list(Classification))
codes = st.one_of(nations, st.sampled_from(GROUPS))


@st.composite
def labels(draw: st.DrawFn) -> Label:
    """Any valid label, built through the public constructor."""
    classification = draw(classifications)
    noforn = classification > Classification.UNCLASSIFIED and draw(st.integers(0, 3)) == 0
    rel_to = frozenset() if noforn else draw(st.frozensets(codes, max_size=6))
    return make_label(
        classification,
        rel_to=rel_to,
        noforn=noforn,
        exercise=draw(st.booleans()),
        originator=draw(nations),
        groups=REGISTRY,
    )


@st.composite
def principals(draw: st.DrawFn, nation: st.SearchStrategy[str] = nations) -> Principal:
    """A principal built the supported way: claimed groups are a subset of its nation's."""
    nat = draw(nation)
    member_of = sorted(REGISTRY.groups_of(nat))
    claimed = draw(st.lists(st.sampled_from(member_of), max_size=2)) if member_of else []
    return make_principal(nat, draw(classifications), claimed, registry=REGISTRY)


def audience(label: Label) -> frozenset[str]:
    """Nations a REL TO list reaches, directly or through its groups (test oracle)."""
    reached: set[str] = set()
    for code in label.rel_to:
        reached |= REGISTRY.members(code) if code in REGISTRY else {code}
    return frozenset(reached)
