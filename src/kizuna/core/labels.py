"""Security labels: parse, validate and render markings the U.S. way.

A label is the data-centric security marking every record carries
(classification, REL TO list, NOFORN caveat, exercise marking) plus the
nation whose policy it was written under (the originator). Rendering is
canonical: ``SECRET//REL TO USA, AUS, JPN`` — USA first, other trigraphs
alphabetical, then group tetragraphs alphabetical.

Syntax accepted by :func:`parse_label` (case-insensitive, printable ASCII,
at most 512 characters)::

    [EXERCISE//] [//CCC ] CLASSIFICATION [//REL TO A, B, ...] [//NOFORN] [//EXERCISE]

* CLASSIFICATION: ``UNCLASSIFIED``/``U``, ``CONFIDENTIAL``/``C``,
  ``SECRET``/``S``, ``TOP SECRET``/``TS``.
* ``REL TO`` codes: ISO 3166-1 alpha-3 country codes and group names known
  to the :class:`GroupRegistry` (``FVEY``, ``NATO``, node-defined ones such
  as ``ACM``). The originator is always added to a REL TO list.
* ``NOFORN`` (or ``NF``) contradicts any REL TO list and needs a classified label.
* ``EXERCISE`` may trail the marking (canonical) or lead it (``EXERCISE//SECRET``).
* ``//CCC`` names a non-U.S. originator the way U.S. markings show foreign
  government information, e.g. ``//JPN SECRET//REL TO USA, JPN``. Labels
  originated by the USA carry no prefix. :meth:`Label.render` emits the
  prefix for non-U.S. originators, so ``parse_label(label.render()) == label``
  holds for every valid label.

A :class:`Label` normalises and checks itself on construction (including
when msgspec decodes one from a peer): codes are upper-cased, the originator
is added to a non-empty REL TO list, and contradictions raise
:class:`LabelError`. Whether a group name is *known* depends on the node's
:class:`GroupRegistry`, so only :func:`make_label` / :func:`parse_label`
check that; an unknown group in a decoded label simply never matches a
principal (release fails closed).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec.structs import force_setattr

if TYPE_CHECKING:
    from kizuna.core.catalog import Message


class LabelError(ValueError):
    """A marking that cannot be parsed or contradicts itself. ``message``: the refusal as a
    catalog message (``kizuna.core``), so it can be read in the caller's language, for the
    refusals people meet; the text (``str()``) is its English."""

    message: Message | None = None


def refused(key: str, **values: Any) -> LabelError:
    """A :class:`LabelError` from the core catalog's message ``key``."""
    from kizuna.core.catalog import Catalog  # catalog imports records, which imports labels

    message = Catalog("kizuna.core").msg(key, **values)
    error = LabelError(str(message))
    error.message = message
    return error


class Classification(enum.IntEnum):
    UNCLASSIFIED = 0
    CONFIDENTIAL = 1
    SECRET = 2
    TOP_SECRET = 3

    @property
    def marking(self) -> str:
        return self.name.replace("_", " ")

    @property
    def marking_ja(self) -> str:
        return _JA[self]

    @property
    def abbreviation(self) -> str:
        """Portion-mark form: U, C, S, TS."""
        return _ABBREV[self]

    @classmethod
    def parse(cls, text: str) -> Classification:
        key = " ".join(text.strip().upper().split())
        try:
            return _CLASS_ALIASES[key]
        except KeyError:
            raise refused("label.unknown-classification", text=text.strip()) from None


# Japanese secrecy levels of the U.S.–Japan GSOMIA / MDA (glossary.csv).
_JA = {
    Classification.UNCLASSIFIED: "指定なし",
    Classification.CONFIDENTIAL: "秘",
    Classification.SECRET: "極秘",
    Classification.TOP_SECRET: "機密",
}

_ABBREV = {
    Classification.UNCLASSIFIED: "U",
    Classification.CONFIDENTIAL: "C",
    Classification.SECRET: "S",
    Classification.TOP_SECRET: "TS",
}

_CLASS_ALIASES: dict[str, Classification] = {
    "U": Classification.UNCLASSIFIED,
    "UNCLASSIFIED": Classification.UNCLASSIFIED,
    "C": Classification.CONFIDENTIAL,
    "CONFIDENTIAL": Classification.CONFIDENTIAL,
    "S": Classification.SECRET,
    "SECRET": Classification.SECRET,
    "TS": Classification.TOP_SECRET,
    "TOP SECRET": Classification.TOP_SECRET,
    "TOP_SECRET": Classification.TOP_SECRET,
}

# ISO 3166-1 alpha-3 codes accepted in REL TO lists.
COUNTRIES: frozenset[str] = frozenset(
    """
    AFG ALB DZA AND AGO ATG ARG ARM AUS AUT AZE BHS BHR BGD BRB BLR BEL BLZ BEN BTN BOL BIH
    BWA BRA BRN BGR BFA BDI CPV KHM CMR CAN CAF TCD CHL CHN COL COM COG COD CRI CIV HRV CUB
    CYP CZE DNK DJI DMA DOM ECU EGY SLV GNQ ERI EST SWZ ETH FJI FIN FRA GAB GMB GEO DEU GHA
    GRC GRD GTM GIN GNB GUY HTI HND HUN ISL IND IDN IRN IRQ IRL ISR ITA JAM JPN JOR KAZ KEN
    KIR PRK KOR KWT KGZ LAO LVA LBN LSO LBR LBY LIE LTU LUX MDG MWI MYS MDV MLI MLT MHL MRT
    MUS MEX FSM MDA MCO MNG MNE MAR MOZ MMR NAM NRU NPL NLD NZL NIC NER NGA MKD NOR OMN PAK
    PLW PAN PNG PRY PER PHL POL PRT QAT ROU RUS RWA KNA LCA VCT WSM SMR STP SAU SEN SRB SYC
    SLE SGP SVK SVN SLB SOM ZAF SSD ESP LKA SDN SUR SWE CHE SYR TWN TJK TZA THA TLS TGO TON
    TTO TUN TUR TKM TUV UGA UKR ARE GBR USA URY UZB VUT VAT VEN VNM YEM ZMB ZWE COK NIU
    """.split()  # noqa: SIM905 - a word list reads better than 200 quoted strings
)

NATO_MEMBERS: frozenset[str] = frozenset(
    """
    ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD NOR
    POL PRT ROU SVK SVN ESP SWE TUR GBR USA
    """.split()  # noqa: SIM905
)

# Groups every node knows. A node may define more (e.g. ACM) in its config.
STANDARD_GROUPS: Mapping[str, frozenset[str]] = {
    "FVEY": frozenset({"USA", "GBR", "CAN", "AUS", "NZL"}),
    "NATO": NATO_MEMBERS,
}

# A group name: 3 to 16 ASCII capitals/digits starting with a letter, never a
# country code (the alliance's "ACM" is a three-letter group, not a trigraph).
_GROUP_NAME = re.compile(r"[A-Z][A-Z0-9]{2,15}")
_MAX_MARKING = 512


def _code(text: object, what: str) -> str:
    """Strip and upper-case a country or group code; ASCII only (no look-alikes)."""
    if not isinstance(text, str):
        raise LabelError(f"{what} must be a string, not {type(text).__name__}")
    code = text.strip()
    if not code.isascii():
        raise LabelError(f"{what} {text!r} is not ASCII")
    return code.upper()


def is_group_name(code: str) -> bool:
    """True if ``code`` has the shape of a group name (it may still be unknown)."""
    return code not in COUNTRIES and _GROUP_NAME.fullmatch(code) is not None


class GroupRegistry:
    """Group names known to a node, each with its member nations.

    ``FVEY`` and ``NATO`` are always known and cannot be redefined. A node adds
    its own (``GroupRegistry({"ACM": ["USA", "JPN"]})``).
    """

    def __init__(self, extra: Mapping[str, Iterable[str]] | None = None) -> None:
        groups: dict[str, frozenset[str]] = dict(STANDARD_GROUPS)
        for name, members in (extra or {}).items():
            group = _code(name, "group name")
            if group in COUNTRIES:
                raise LabelError(f"group name {group!r} collides with a country code")
            if _GROUP_NAME.fullmatch(group) is None:
                raise LabelError(
                    f"group name {name!r} must be 3 to 16 letters or digits, starting with a letter"
                )
            if isinstance(members, str):
                raise LabelError(f"members of group {group} must be a list of country codes")
            nations = frozenset(_code(m, f"member of group {group}") for m in members)
            if not nations:
                raise LabelError(f"group {group} has no members")
            unknown = sorted(nations - COUNTRIES)
            if unknown:
                raise LabelError(f"group {group} has unknown country codes: {', '.join(unknown)}")
            if group in STANDARD_GROUPS and nations != STANDARD_GROUPS[group]:
                raise LabelError(f"group {group} is a standard group and cannot be redefined")
            groups[group] = nations
        self._groups = groups

    def __contains__(self, name: object) -> bool:
        return name in self._groups

    def __repr__(self) -> str:
        return f"GroupRegistry({', '.join(self.names())})"

    def members(self, name: str) -> frozenset[str]:
        return self._groups[name]

    def names(self) -> list[str]:
        return sorted(self._groups)

    def groups_of(self, nation: str) -> frozenset[str]:
        """Every group the nation is a member of."""
        return frozenset(g for g, members in self._groups.items() if nation in members)


DEFAULT_GROUPS = GroupRegistry()


class Label(msgspec.Struct, frozen=True, kw_only=True):
    """A security label. ``originator`` is the nation whose policy applies.

    Construction normalises (upper-cases codes, adds the originator to a
    non-empty REL TO list) and rejects contradictions, so every ``Label``
    that exists is valid and canonical.
    """

    classification: Classification
    rel_to: frozenset[str] = frozenset()
    noforn: bool = False
    exercise: bool = False
    originator: str = "USA"

    def __post_init__(self) -> None:
        cls = self.classification
        if not isinstance(cls, Classification):
            if isinstance(cls, bool) or not isinstance(cls, int):
                raise LabelError(f"classification must be a Classification, not {cls!r}")
            try:
                cls = Classification(cls)
            except ValueError:
                raise refused("label.unknown-level", level=cls) from None
            force_setattr(self, "classification", cls)
        origin = _code(self.originator, "originator")
        if origin not in COUNTRIES:
            raise refused("label.unknown-originator", code=self.originator)
        if isinstance(self.rel_to, str):
            raise LabelError("rel_to must be a set of codes, not a string")
        codes = frozenset(_code(c, "REL TO code") for c in self.rel_to)
        for code in sorted(codes):
            if code not in COUNTRIES and not is_group_name(code):
                if len(code) == 3 and code.isalpha():
                    raise refused("label.unknown-country", code=code)
                raise refused("label.not-a-code", code=code)
        if self.noforn and codes:
            raise refused("label.noforn-rel-to")
        if self.noforn and cls is Classification.UNCLASSIFIED:
            raise refused("label.noforn-unclassified")
        if codes and origin not in codes:
            # The originator always holds its own information; say so explicitly.
            codes = codes | {origin}
        if codes != self.rel_to or type(self.rel_to) is not frozenset:
            force_setattr(self, "rel_to", codes)
        if origin != self.originator:
            force_setattr(self, "originator", origin)
        for flag in ("noforn", "exercise"):
            if not isinstance(getattr(self, flag), bool):
                raise LabelError(f"{flag} must be true or false")

    def render(self, *, fgi: bool = True) -> str:
        """The canonical marking, e.g. ``SECRET//REL TO USA, JPN//EXERCISE``.

        A non-U.S. originator shows as a leading ``//CCC`` (``//JPN SECRET``), the
        U.S. foreign-government-information form; ``fgi=False`` leaves it out, for
        displays that show the originator beside the marking.
        """
        head = self.classification.marking
        if fgi and self.originator != "USA":
            head = f"//{self.originator} {head}"
        parts = [head]
        if self.noforn:
            parts.append("NOFORN")
        elif self.rel_to:
            parts.append("REL TO " + ", ".join(sort_rel_to(self.rel_to)))
        if self.exercise:
            parts.append("EXERCISE")
        return "//".join(parts)

    def render_ja(self) -> str:
        """The Japanese equivalent marking, shown alongside the English one.

        E.g. ``極秘//提供可能範囲 USA・JPN//演習`` for
        ``SECRET//REL TO USA, JPN//EXERCISE``.
        """
        parts = [self.classification.marking_ja]
        if self.noforn:
            parts.append("外国提供不可")
        elif self.rel_to:
            parts.append("提供可能範囲 " + "・".join(sort_rel_to(self.rel_to)))
        if self.exercise:
            parts.append("演習")
        return "//".join(parts)

    def __str__(self) -> str:
        return self.render()


def sort_rel_to(codes: Iterable[str]) -> list[str]:
    """USA first, other trigraphs alphabetical, then group names alphabetical."""
    return sorted(codes, key=lambda c: (c != "USA", c not in COUNTRIES, c))


def parse_label(
    text: str,
    *,
    originator: str | None = None,
    groups: GroupRegistry = DEFAULT_GROUPS,
) -> Label:
    """Parse a marking such as ``S//REL TO JPN, USA`` or ``SECRET//NOFORN``.

    ``originator`` is the nation whose policy applies when the marking does
    not name one (default USA); a marking's own ``//CCC`` prefix must agree
    with it when both are given.
    """
    if not isinstance(text, str) or not text.strip():
        raise refused("label.empty")
    if len(text) > _MAX_MARKING:
        raise refused("label.too-long", limit=_MAX_MARKING)
    if not all(" " <= ch <= "~" for ch in text):
        raise refused("label.not-ascii", text=text)
    body = text.strip()
    fgi = body.startswith("//")
    if fgi:
        body = body[2:]
    segments = [" ".join(s.split()).upper() for s in body.split("//")]
    if any(not s for s in segments):
        raise refused("label.empty-segment", text=text)
    exercise = False
    if segments[0] == "EXERCISE":
        exercise = True
        segments = segments[1:]
        if not segments:
            raise refused("label.no-classification")
    head = segments[0]
    marked_origin: str | None = None
    country, _, rest = head.partition(" ")
    if country in COUNTRIES and rest:
        marked_origin, head = country, rest
    elif fgi:
        raise refused("label.fgi-country", text=text)
    classification = Classification.parse(head)
    rel_to: set[str] = set()
    noforn = False
    seen: set[str] = set()
    for seg in segments[1:]:
        if seg in ("NOFORN", "NF"):
            kind = "NOFORN"
            noforn = True
        elif seg == "EXERCISE":
            kind = "EXERCISE"
            if exercise:
                raise refused("label.repeated", kind="EXERCISE")
            exercise = True
        elif seg in ("REL", "REL TO") or seg.startswith("REL "):
            kind = "REL TO"
            rel_to |= _parse_rel_list(seg.removeprefix("REL").strip().removeprefix("TO "))
        else:
            raise refused("label.unknown-segment", segment=seg)
        if kind in seen and kind != "EXERCISE":
            raise refused("label.repeated", kind=kind)
        seen.add(kind)
    if originator is not None and marked_origin is not None:
        given = _code(originator, "originator")
        if given != marked_origin:
            raise refused("label.other-originator", marked=marked_origin, given=given)
    return make_label(
        classification,
        rel_to=rel_to,
        noforn=noforn,
        exercise=exercise,
        originator=marked_origin or originator or "USA",
        groups=groups,
    )


def _parse_rel_list(body: str) -> set[str]:
    if body in ("", "TO"):
        raise refused("label.rel-to-empty")
    codes = [c.strip() for c in body.replace(";", ",").split(",")]
    if any(not c for c in codes):
        raise refused("label.rel-to-empty-entry")
    return set(codes)


def make_label(
    classification: Classification,
    *,
    rel_to: Iterable[str] = (),
    noforn: bool = False,
    exercise: bool = False,
    originator: str = "USA",
    groups: GroupRegistry = DEFAULT_GROUPS,
) -> Label:
    """Build a validated label; contradictions and unknown codes raise :class:`LabelError`."""
    if isinstance(rel_to, str):
        raise LabelError("rel_to must be a list of codes, not a string")
    codes = frozenset(_code(c, "REL TO code") for c in rel_to)
    for code in sorted(codes):
        if code in COUNTRIES:
            continue
        if not is_group_name(code):
            raise refused("label.not-a-code", code=code)
        if len(code) == 3 and code.isalpha() and code not in groups:
            raise refused(
                "label.unknown-country-or-group", code=code, groups=", ".join(groups.names())
            )
        if code not in groups:
            raise refused("label.unknown-group", code=code, groups=", ".join(groups.names()))
    return Label(
        classification=classification,
        rel_to=codes,
        noforn=noforn,
        exercise=exercise,
        originator=originator,
    )


def normalize(
    text: str, *, originator: str | None = None, groups: GroupRegistry = DEFAULT_GROUPS
) -> str:
    """The canonical form of a marking (``S//REL TO JPN, USA`` → ``SECRET//REL TO USA, JPN``)."""
    return parse_label(text, originator=originator, groups=groups).render()
