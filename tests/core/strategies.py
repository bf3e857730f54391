"""Hypothesis strategies shared by the label, release and STANAG 4774 tests.

Kept cheap so that 10,000 examples per property (the ``ci`` profile) stay
within seconds: every choice is one ``sampled_from`` over a fixed list (no
``one_of``, no uniqueness filters), and labels are built straight through
the public constructor.
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

# Nations that matter to the alliance come up often (repeated in the pool), so
# principals and REL TO lists collide; the full list keeps the world in play.
FOCUS = ["USA", "JPN", "AUS", "KOR", "PHL", "GBR", "CAN", "NZL", "FRA", "IND", "CHN", "FJI"]
NATION_POOL = FOCUS * 8 + sorted(COUNTRIES)
CODE_POOL = NATION_POOL + GROUPS * 16

nations = st.sampled_from(NATION_POOL)
classifications = st.sampled_from(list(Classification))
codes = st.sampled_from(CODE_POOL)


@st.composite
def labels(draw: st.DrawFn) -> Label:
    """Any valid label: about a quarter of classified ones NOFORN, the rest a REL TO list."""
    classification = draw(classifications)
    flags = draw(st.integers(0, 7))
    noforn = classification > Classification.UNCLASSIFIED and flags < 2
    rel_to = () if noforn else draw(st.lists(codes, max_size=6))
    return make_label(
        classification,
        rel_to=rel_to,
        noforn=noforn,
        exercise=bool(flags & 1),
        originator=draw(nations),
        groups=REGISTRY,
    )


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    """A principal built the supported way: its groups are its nation's memberships.

    (Claiming a subset of them changes nothing, since ``make_principal`` adds
    the rest, so no draw is spent on it.)
    """
    return make_principal(draw(nations), draw(classifications), registry=REGISTRY)


def audience(label: Label) -> frozenset[str]:
    """Nations a REL TO list reaches, directly or through its groups (test oracle)."""
    reached: set[str] = set()
    for code in label.rel_to:
        reached |= REGISTRY.members(code) if code in REGISTRY else {code}
    return frozenset(reached)
