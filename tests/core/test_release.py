"""The one release decision, property-tested.

The properties are the rules of ``kizuna.core.release`` stated from the
outside: never above clearance, never beyond REL TO (directly or through a
group the nation belongs to) except to the originator's nation, NOFORN only
to the originator's nation, and the positive cases that must release.
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given

from kizuna.core.labels import (
    COUNTRIES,
    DEFAULT_GROUPS,
    Classification,
    Label,
    LabelError,
    parse_label,
)
from kizuna.core.release import Principal, make_principal, may_release, may_write

from .strategies import REGISTRY, audience, labels, principals

U = Classification.UNCLASSIFIED
C = Classification.CONFIDENTIAL
S = Classification.SECRET
TS = Classification.TOP_SECRET


def principal(nation: str, clearance: Classification = TS) -> Principal:
    return make_principal(nation, clearance, registry=REGISTRY)


# --- examples --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marking", "nation", "clearance", "released"),
    [
        ("S//REL TO USA, JPN", "JPN", S, True),
        ("S//REL TO USA, JPN", "JPN", C, False),  # above clearance
        ("S//REL TO USA, JPN", "KOR", TS, False),  # not in REL TO
        ("S//REL TO USA, JPN", "USA", S, True),
        ("S//REL TO FVEY", "AUS", S, True),  # through a group
        ("S//REL TO FVEY", "JPN", TS, False),
        ("S//REL TO NATO", "GBR", S, True),
        ("S//REL TO NATO", "AUS", TS, False),
        ("S//REL TO ACM", "JPN", S, True),  # node-defined group
        ("S//REL TO ACM", "KOR", TS, False),
        ("S//NOFORN", "USA", S, True),  # originator's own nation
        ("S//NOFORN", "GBR", TS, False),
        ("TS//NOFORN", "USA", S, False),  # originator, but above clearance
        ("S", "USA", S, True),  # classified, no REL TO: originator only
        ("S", "GBR", TS, False),
        ("U", "CHN", U, True),  # unclassified, no REL TO: everyone
        ("U//REL TO JPN", "CHN", TS, False),  # unclassified but REL TO limits it
        ("U//REL TO JPN", "JPN", U, True),
        ("SECRET//REL TO USA, JPN//EXERCISE", "JPN", S, True),
    ],
)
def test_examples(marking: str, nation: str, clearance: Classification, released: bool) -> None:
    label = parse_label(marking, groups=REGISTRY)
    assert may_release(label, principal(nation, clearance)) is released


def test_foreign_originator_keeps_access_to_its_own_label() -> None:
    label = parse_label("//JPN S//NOFORN")
    assert may_release(label, principal("JPN", S))
    assert not may_release(label, principal("USA", TS))
    assert may_write(label, principal("JPN", S))
    assert not may_write(label, principal("USA", TS))


def test_standard_groups_need_no_claim() -> None:
    # A bare Principal (not from make_principal) still reaches FVEY/NATO data through
    # its nation's fixed membership, but node-defined groups need the claim.
    label = parse_label("S//REL TO FVEY, ACM", groups=REGISTRY)
    assert may_release(label, Principal(nation="AUS", clearance=S))
    assert not may_release(label, Principal(nation="JPN", clearance=S))
    assert may_release(label, Principal(nation="JPN", clearance=S, groups=frozenset({"ACM"})))


def test_unknown_group_in_a_decoded_label_fails_closed() -> None:
    label = Label(classification=S, rel_to=frozenset({"XYZW"}))
    assert not any(may_release(label, principal(n)) for n in sorted(COUNTRIES) if n != "USA")


# --- properties ------------------------------------------------------------------------


def expected(label: Label, p: Principal) -> bool:
    """The release rules, restated independently as a test oracle."""
    if label.classification > p.clearance:
        return False
    if p.nation == label.originator:
        return True
    if label.noforn:
        return False
    if not label.rel_to:
        return label.classification == U
    return p.nation in audience(label)


@given(labels(), principals())
def test_release_follows_the_rules(label: Label, p: Principal) -> None:
    released = may_release(label, p)
    assert released == expected(label, p)
    # Never above the principal's clearance.
    if released:
        assert label.classification <= p.clearance
    # Never to a nation outside REL TO (directly or through a group in REL TO that
    # the nation belongs to), other than the originator's.
    if released and p.nation != label.originator:
        assert not label.noforn
        if label.rel_to:
            assert p.nation in label.rel_to or any(
                code in REGISTRY and p.nation in REGISTRY.members(code) for code in label.rel_to
            )
        else:
            assert label.classification == U
    # NOFORN only to the originator's nation.
    if label.noforn and released:
        assert p.nation == label.originator
    # Writing follows release; the exercise marking never changes the decision.
    assert may_write(label, p) == released
    flipped = msgspec.structs.replace(label, exercise=not label.exercise)
    assert may_release(flipped, p) == released
    # More clearance, or a wider REL TO list, never revokes a release.
    if released:
        assert may_release(label, make_principal(p.nation, TS, registry=REGISTRY))
        if label.rel_to:
            wider = msgspec.structs.replace(label, rel_to=label.rel_to | {"PHL", "FVEY"})
            assert may_release(wider, p)


@given(labels())
def test_positive_releases(label: Label) -> None:
    """Who must be released to, with just enough clearance."""
    enough = label.classification
    # Every nation in REL TO, directly or through a group in it, is released to.
    for nation in audience(label) & COUNTRIES:
        assert may_release(label, make_principal(nation, enough, registry=REGISTRY)), nation
    # The originator's nation always sees its own information, up to clearance.
    assert may_release(label, make_principal(label.originator, enough, registry=REGISTRY))
    if enough > U:
        lower = Classification(enough - 1)
        assert not may_release(label, make_principal(label.originator, lower, registry=REGISTRY))
    # UNCLASSIFIED without REL TO releases to all.
    open_label = Label(classification=U, exercise=label.exercise, originator=label.originator)
    assert all(may_release(open_label, p) for p in EVERYONE_UNCLEARED)


EVERYONE_UNCLEARED = [make_principal(n, U, registry=REGISTRY) for n in sorted(COUNTRIES)]


# --- principals ------------------------------------------------------------------------


def test_make_principal_refuses_groups_the_nation_is_not_in() -> None:
    """Exhaustively: every nation, every group of the registry."""
    for nation in sorted(COUNTRIES):
        for group in REGISTRY.names():
            if nation in REGISTRY.members(group):
                p = make_principal(nation, S, [group], registry=REGISTRY)
                assert group in p.groups
            else:
                with pytest.raises(LabelError, match=f"not a member of group {group}"):
                    make_principal(nation, S, [group], registry=REGISTRY)
                with pytest.raises(LabelError, match=f"not a member of group {group}"):
                    make_principal(
                        nation, S, [*REGISTRY.groups_of(nation), group], registry=REGISTRY
                    )


def test_make_principal_completes_groups_from_the_nation() -> None:
    for nation in sorted(COUNTRIES):
        p = make_principal(nation, U, registry=REGISTRY)
        assert p.groups == REGISTRY.groups_of(nation)
        assert all(nation in REGISTRY.members(g) for g in p.groups)
        assert all(nation not in REGISTRY.members(g) for g in set(REGISTRY.names()) - p.groups)


def test_make_principal_examples() -> None:
    aus = make_principal("aus", S)
    assert aus.nation == "AUS" and aus.groups == {"FVEY"}
    jpn = make_principal("JPN", S, ["ACM"], registry=REGISTRY)
    assert jpn.groups == {"ACM", "QUAD"}
    with pytest.raises(LabelError, match="nation JPN is not a member of group FVEY"):
        make_principal("JPN", S, ["FVEY"])
    with pytest.raises(LabelError, match="unknown group 'ACM'"):
        make_principal("JPN", S, ["ACM"])  # not in the default registry
    with pytest.raises(LabelError, match="unknown nation"):
        make_principal("XXX", S)
    with pytest.raises(LabelError, match="not a string"):
        make_principal("JPN", S, "ACM", registry=REGISTRY)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"nation": "CHN", "groups": frozenset({"FVEY"})}, "CHN is not a member of group FVEY"),
        ({"nation": "JPN", "groups": frozenset({"NATO"})}, "JPN is not a member of group NATO"),
        ({"nation": "KOR", "groups": frozenset({"USA"})}, "'USA' is not a group name"),
        ({"nation": "ZZZ"}, "unknown nation"),
        ({"nation": "JPN", "clearance": 5}, "unknown clearance level"),
    ],
)
def test_principal_refuses_false_claims(fields: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {"clearance": TS, **fields}
    with pytest.raises(LabelError, match=message):
        Principal(**kwargs)  # type: ignore[arg-type]


def test_default_registry_principal() -> None:
    assert make_principal("GBR", S).groups == DEFAULT_GROUPS.groups_of("GBR") == {"FVEY", "NATO"}
