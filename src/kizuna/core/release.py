"""The one release decision. Every egress path calls :func:`may_release`.

Rules (deny unless one allows):
1. Never above the principal's clearance.
2. The originator's own nation may see its information.
3. NOFORN: nobody else.
4. No REL TO list: UNCLASSIFIED releases to all; classified stays with the originator.
5. Otherwise the principal's nation must be in REL TO, or a group in REL TO
   that the nation belongs to: FVEY and NATO by their fixed membership, groups
   a node defines (ACM, …) by the principal's validated ``groups``.

The decision depends only on the label and the principal; the exercise
marking never changes it. Build principals with :func:`make_principal`: it
fills in every group the nation belongs to and refuses claims to others, so
a principal cannot reach data through a group its nation is not in.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from msgspec.structs import force_setattr

from kizuna.core.labels import (
    COUNTRIES,
    DEFAULT_GROUPS,
    STANDARD_GROUPS,
    Classification,
    GroupRegistry,
    Label,
    LabelError,
    _code,
    is_group_name,
    refused,
)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Anyone data may be released to: a user, a TAK client, a peer node.

    Construction upper-cases codes and refuses a country code among the
    groups or a standard group (FVEY, NATO) the nation is not a member of.
    Node-defined groups are checked by :func:`make_principal`, which knows
    the node's registry; build principals with it.
    """

    nation: str
    clearance: Classification
    groups: frozenset[str] = frozenset()
    name: str = ""

    def __post_init__(self) -> None:
        nat = _code(self.nation, "nation")
        if nat not in COUNTRIES:
            raise LabelError(f"unknown nation {self.nation!r}")
        if nat != self.nation:
            force_setattr(self, "nation", nat)
        clearance = self.clearance
        if not isinstance(clearance, Classification):
            if isinstance(clearance, bool) or not isinstance(clearance, int):
                raise LabelError(f"clearance must be a Classification, not {clearance!r}")
            try:
                clearance = Classification(clearance)
            except ValueError:
                raise LabelError(f"unknown clearance level {clearance!r}") from None
            force_setattr(self, "clearance", clearance)
        if isinstance(self.groups, str):
            raise LabelError("groups must be a set of group names, not a string")
        groups = frozenset(_code(g, "group") for g in self.groups)
        for g in sorted(groups):
            if not is_group_name(g):
                raise LabelError(f"{g!r} is not a group name")
            if g in STANDARD_GROUPS and nat not in STANDARD_GROUPS[g]:
                raise LabelError(f"nation {nat} is not a member of group {g}")
        if groups != self.groups or type(self.groups) is not frozenset:
            force_setattr(self, "groups", groups)


def make_principal(
    nation: str,
    clearance: Classification,
    groups: Iterable[str] = (),
    *,
    name: str = "",
    registry: GroupRegistry = DEFAULT_GROUPS,
) -> Principal:
    """Build a principal; its groups are validated and completed from its nation.

    A claimed group that is unknown, or that the nation does not belong to,
    is refused. Groups whose members include the nation (FVEY for AUS, say)
    are added.
    """
    nat = _code(nation, "nation")
    if nat not in COUNTRIES:
        raise refused("label.unknown-nation", nation=nation)
    if isinstance(groups, str):
        raise LabelError("groups must be a list of group names, not a string")
    claimed = {_code(g, "group") for g in groups}
    for g in sorted(claimed):
        if g not in registry:
            raise refused("label.unknown-principal-group", group=g)
        if nat not in registry.members(g):
            raise refused("label.not-a-member", nation=nat, group=g)
    return Principal(
        nation=nat,
        clearance=clearance,
        groups=frozenset(claimed | registry.groups_of(nat)),
        name=name,
    )


def may_release(label: Label, principal: Principal) -> bool:
    """True only if ``label`` may be released to ``principal``."""
    if label.classification > principal.clearance:
        return False
    if principal.nation == label.originator:
        return True
    if label.noforn:
        return False
    if not label.rel_to:
        return label.classification is Classification.UNCLASSIFIED
    if principal.nation in label.rel_to:
        return True
    for code in label.rel_to:
        standard = STANDARD_GROUPS.get(code)
        if standard is not None:
            # FVEY and NATO membership is fixed: decided by the nation itself.
            if principal.nation in standard:
                return True
        elif code in principal.groups and code not in COUNTRIES:
            # Node-defined groups (ACM, …): as validated by make_principal. A country
            # code never stands in for a nation here.
            return True
    return False


def may_write(label: Label, principal: Principal) -> bool:
    """A writer may not label above its clearance nor lock its own nation out."""
    return may_release(label, principal)
