"""Security labels: parsing, canonical rendering, validation, Japanese marking."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.labels import (
    DEFAULT_GROUPS,
    Classification,
    GroupRegistry,
    Label,
    LabelError,
    make_label,
    normalize,
    parse_label,
    sort_rel_to,
)

from .strategies import GROUPS, REGISTRY, labels

S = Classification.SECRET


# --- parsing and canonical rendering ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("S//REL TO JPN, USA", "SECRET//REL TO USA, JPN"),
        ("s//rel to jpn", "SECRET//REL TO USA, JPN"),
        ("SECRET//REL TO USA, AUS, JPN", "SECRET//REL TO USA, AUS, JPN"),
        ("TS//REL TO FVEY, KOR, AUS", "TOP SECRET//REL TO USA, AUS, KOR, FVEY"),
        ("C//REL TO NATO, FVEY, JPN", "CONFIDENTIAL//REL TO USA, JPN, FVEY, NATO"),
        ("U", "UNCLASSIFIED"),
        ("UNCLASSIFIED", "UNCLASSIFIED"),
        ("C", "CONFIDENTIAL"),
        ("TS", "TOP SECRET"),
        ("top   secret", "TOP SECRET"),
        ("S//NOFORN", "SECRET//NOFORN"),
        ("S//NF", "SECRET//NOFORN"),
        ("  S // REL TO JPN ,USA  ", "SECRET//REL TO USA, JPN"),
        ("S//REL TO JPN; PHL", "SECRET//REL TO USA, JPN, PHL"),
        ("SECRET//REL TO USA, JPN//EXERCISE", "SECRET//REL TO USA, JPN//EXERCISE"),
        ("EXERCISE//SECRET//REL TO USA, JPN", "SECRET//REL TO USA, JPN//EXERCISE"),
        ("EXERCISE//U", "UNCLASSIFIED//EXERCISE"),
        ("S//EXERCISE//REL TO JPN", "SECRET//REL TO USA, JPN//EXERCISE"),
        ("S//NOFORN//EXERCISE", "SECRET//NOFORN//EXERCISE"),
        ("U//REL TO JPN", "UNCLASSIFIED//REL TO USA, JPN"),
    ],
)
def test_parse_renders_canonically(text: str, canonical: str) -> None:
    assert normalize(text) == canonical
    assert parse_label(canonical) == parse_label(text)


def test_issue_example() -> None:
    label = parse_label("S//REL TO JPN, USA")
    assert label.render() == "SECRET//REL TO USA, JPN"
    assert str(label) == "SECRET//REL TO USA, JPN"
    assert label == Label(classification=S, rel_to=frozenset({"USA", "JPN"}))


def test_parsed_fields() -> None:
    label = parse_label("EXERCISE//TS//REL TO AUS, FVEY")
    assert label.classification is Classification.TOP_SECRET
    assert label.rel_to == {"USA", "AUS", "FVEY"}
    assert label.exercise and not label.noforn
    assert label.originator == "USA"


def test_originator_is_added_to_rel_to() -> None:
    assert parse_label("S//REL TO JPN").rel_to == {"USA", "JPN"}
    jpn = parse_label("S//REL TO AUS", originator="JPN")
    assert jpn.rel_to == {"JPN", "AUS"}
    assert jpn.render() == "//JPN SECRET//REL TO AUS, JPN"


def test_node_defined_group() -> None:
    label = parse_label("S//REL TO ACM, KOR", groups=REGISTRY)
    assert label.render() == "SECRET//REL TO USA, KOR, ACM"
    with pytest.raises(LabelError, match="ACM"):
        parse_label("S//REL TO ACM")  # unknown to the default registry


def test_canonical_order() -> None:
    codes = ["QUAD", "JPN", "FVEY", "ACM", "AUS", "USA", "NATO", "PHL"]
    assert sort_rel_to(codes) == ["USA", "AUS", "JPN", "PHL", "ACM", "FVEY", "NATO", "QUAD"]


@pytest.mark.parametrize(
    ("text", "originator", "message"),
    [
        ("SECRET//REL TO USA//NOFORN", None, "NOFORN contradicts a REL TO list"),
        ("S//NOFORN//REL TO JPN", None, "NOFORN contradicts"),
        ("S//REL TO XYZ", None, "unknown country code 'XYZ'"),
        ("S//REL TO USA, ZZZZ", None, "unknown group 'ZZZZ'"),
        ("S//REL TO U-A", None, "neither a country code nor a group"),
        ("S//REL TO U5A", None, "unknown group 'U5A'"),
        ("SEKRET", None, "unknown classification 'SEKRET'"),
        ("RESTRICTED//REL TO USA", None, "unknown classification"),
        ("", None, "empty security marking"),
        ("   ", None, "empty security marking"),
        ("S//", None, "empty segment"),
        ("S////REL TO JPN", None, "empty segment"),
        ("S//REL TO", None, "REL TO list is empty"),
        ("S//REL TO USA,,JPN", None, "empty entry"),
        ("S//REL TO USA//REL TO JPN", None, "REL TO appears more than once"),
        ("S//NOFORN//NOFORN", None, "NOFORN appears more than once"),
        ("EXERCISE//S//EXERCISE", None, "EXERCISE appears more than once"),
        ("U//NOFORN", None, "NOFORN applies to classified information only"),
        ("S//ORCON", None, "unknown marking segment 'ORCON'"),
        ("EXERCISE", None, "no classification"),
        ("//SECRET", None, "must name the originating country"),
        ("//JPN SECRET", "GBR", "names originator JPN but GBR"),
        ("S//REL TO JPN", "XXX", "unknown originator"),
        ("SECRET\n//NOFORN", None, "printable ASCII"),
        ("ſECRET", None, "printable ASCII"),  # long s upper-cases to S: refused
        ("S//REL TO ＪＰＮ", None, "printable ASCII"),
        ("S" + "/" * 600, None, "longer than 512"),
    ],
)
def test_invalid_markings_are_refused(text: str, originator: str | None, message: str) -> None:
    with pytest.raises(LabelError, match=message):
        parse_label(text, originator=originator)


def test_non_string_marking() -> None:
    with pytest.raises(LabelError):
        parse_label(None)  # type: ignore[arg-type]


# --- foreign originators ---------------------------------------------------------------


def test_foreign_originator_renders_as_fgi_and_round_trips() -> None:
    label = make_label(S, rel_to={"USA"}, originator="JPN", exercise=True)
    assert label.render() == "//JPN SECRET//REL TO USA, JPN//EXERCISE"
    assert parse_label(label.render()) == label
    assert parse_label(label.render(), originator="JPN") == label
    assert parse_label("//jpn s//rel to usa").originator == "JPN"
    # The prefix also works after a leading EXERCISE and without the slashes.
    assert parse_label("EXERCISE//JPN S//REL TO USA") == label


def test_explicit_originator_applies_when_marking_names_none() -> None:
    label = parse_label("SECRET", originator="kor")
    assert label.originator == "KOR"
    assert label.render() == "//KOR SECRET"


# --- Label construction and decoding ---------------------------------------------------


def test_label_normalises_on_construction() -> None:
    label = Label(classification=2, rel_to=frozenset({"jpn"}))  # type: ignore[arg-type]
    assert label.classification is Classification.SECRET
    assert label.rel_to == {"USA", "JPN"}
    assert label == parse_label("S//REL TO JPN")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rel_to": frozenset({"USA"}), "noforn": True}, "NOFORN contradicts"),
        ({"rel_to": frozenset({"X1"})}, "neither a country code nor a group"),
        ({"rel_to": frozenset({"not a code"})}, "neither a country code nor a group"),
        ({"originator": "XX"}, "unknown originator"),
        ({"classification": Classification.UNCLASSIFIED, "noforn": True}, "classified"),
        ({"classification": 7}, "unknown classification level"),
        ({"rel_to": "USA"}, "not a string"),
    ],
)
def test_label_refuses_invalid_fields(fields: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {"classification": S, **fields}
    with pytest.raises(LabelError, match=message):
        Label(**kwargs)  # type: ignore[arg-type]


def test_label_cannot_know_node_groups() -> None:
    # Whether XYZ is a group depends on the node's registry, which a bare Label
    # does not have: the constructor accepts the shape, make_label checks the name.
    assert Label(classification=S, rel_to=frozenset({"XYZ"})).rel_to == {"USA", "XYZ"}
    with pytest.raises(LabelError, match="unknown country code 'XYZ'"):
        make_label(S, rel_to={"XYZ"})


def test_decoding_a_hostile_label_fails_validation() -> None:
    bad = b'{"classification": 2, "rel_to": ["USA", "JPN"], "noforn": true}'
    with pytest.raises(msgspec.ValidationError, match="NOFORN contradicts"):
        msgspec.json.decode(bad, type=Label)
    bad_level = b'{"classification": 9}'
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(bad_level, type=Label)


def test_decoding_normalises() -> None:
    raw = b'{"classification": 1, "rel_to": ["kor"], "originator": "jpn"}'
    label = msgspec.json.decode(raw, type=Label)
    assert label == make_label(Classification.CONFIDENTIAL, rel_to={"KOR"}, originator="JPN")


# --- the round-trip property -----------------------------------------------------------


def spelled(label: Label, style: str) -> str:
    """The label written another accepted way: abbreviated, lower case, EXERCISE first…"""
    cls = label.classification
    head = cls.abbreviation if style == "abbrev" else cls.marking
    if label.originator != "USA":
        head = f"//{label.originator} {head}"
    parts = [head]
    if label.noforn:
        parts.append("NF" if style == "abbrev" else "NOFORN")
    elif label.rel_to:
        parts.append("REL TO " + "; ".join(sorted(label.rel_to, reverse=True)))
    text = "//".join(parts)
    if label.exercise and style == "exercise-first":
        text = "EXERCISE//" + text.removeprefix("//")
    elif label.exercise:
        text += "//EXERCISE"
    return text.lower() if style == "lower" else text


@given(labels(), st.sampled_from(["full", "abbrev", "lower", "exercise-first"]))
def test_parse_render_round_trip(label: Label, style: str) -> None:
    """parse(render(x)) == x for every valid label; plus the other faces of a label."""
    text = label.render()
    assert parse_label(text, groups=REGISTRY) == label
    assert parse_label(text, originator=label.originator, groups=REGISTRY) == label
    # Other accepted spellings of the same marking parse to the same label.
    assert parse_label(spelled(label, style), groups=REGISTRY) == label
    # Peers exchange labels through msgspec: decoding gives the same label.
    assert msgspec.json.decode(msgspec.json.encode(label), type=Label) == label
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(label), type=Label) == label
    # The Japanese marking says the same thing.
    ja = label.render_ja()
    assert ja.startswith(label.classification.marking_ja)
    assert ("外国提供不可" in ja) == label.noforn
    assert ja.endswith("//演習") == label.exercise
    if label.rel_to and not label.noforn:
        assert "提供可能範囲 " + "・".join(sort_rel_to(label.rel_to)) in ja
    # Rendering is canonical: USA first, trigraphs, then groups, each alphabetical.
    if label.rel_to:
        listed = text.split("REL TO ", 1)[1].split("//", 1)[0].split(", ")
        assert listed == sort_rel_to(label.rel_to)
        trigraphs = [c for c in listed if c not in GROUPS]
        assert listed == trigraphs + sorted(c for c in listed if c in GROUPS)
        assert trigraphs == sorted(trigraphs, key=lambda c: (c != "USA", c))


_VOCAB = [
    "//", "/", " ", ",", ";", "S", "SECRET", "TS", "TOP", "C", "U", "REL", "TO", "REL TO ",
    "USA", "JPN", "usa", "FVEY", "ACM", "NATO", "XYZ", "NOFORN", "NF", "EXERCISE", "JPN ",
]  # fmt: skip


@given(st.one_of(st.text(max_size=24), st.lists(st.sampled_from(_VOCAB), max_size=10).map("".join)))
def test_parse_is_total(text: str) -> None:
    """Any input gives a label or a LabelError, and a parsed label renders stably."""
    try:
        label = parse_label(text, groups=REGISTRY)
    except LabelError:
        return
    assert parse_label(label.render(), groups=REGISTRY) == label
    assert normalize(label.render(), groups=REGISTRY) == label.render()


# --- Japanese equivalent marking -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ja"),
    [
        ("U", "指定なし"),
        ("C", "秘"),
        ("S", "極秘"),
        ("TS", "機密"),
        ("S//REL TO JPN", "極秘//提供可能範囲 USA・JPN"),
        ("C//REL TO FVEY, JPN, AUS", "秘//提供可能範囲 USA・AUS・JPN・FVEY"),
        ("TS//NOFORN", "機密//外国提供不可"),
        ("SECRET//REL TO USA, JPN//EXERCISE", "極秘//提供可能範囲 USA・JPN//演習"),
        ("EXERCISE//U", "指定なし//演習"),
    ],
)
def test_render_ja(text: str, ja: str) -> None:
    assert parse_label(text).render_ja() == ja


def test_japanese_levels_match_the_glossary() -> None:
    # U.S.–Japan GSOMIA equivalents (shared/data/reference/glossary.csv).
    assert Classification.CONFIDENTIAL.marking_ja == "秘"
    assert Classification.SECRET.marking_ja == "極秘"
    assert Classification.TOP_SECRET.marking_ja == "機密"


# --- group registry --------------------------------------------------------------------


def test_registry_standard_groups() -> None:
    assert "FVEY" in DEFAULT_GROUPS and "NATO" in DEFAULT_GROUPS
    assert DEFAULT_GROUPS.members("FVEY") == {"USA", "GBR", "CAN", "AUS", "NZL"}
    assert "JPN" not in DEFAULT_GROUPS.members("NATO")
    assert REGISTRY.groups_of("JPN") == {"ACM", "QUAD"}
    assert REGISTRY.groups_of("AUS") == {"FVEY", "QUAD"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"JPN": ["USA"]}, "collides with a country code"),
        ({"A": ["USA"]}, "3 to 16 letters"),
        ({"AC-M": ["USA"]}, "3 to 16 letters"),
        ({"ACM": ["USA", "XYZ"]}, "unknown country codes: XYZ"),
        ({"ACM": []}, "no members"),
        ({"ACM": "USA"}, "list of country codes"),
        ({"FVEY": ["USA", "CHN"]}, "cannot be redefined"),
    ],
)
def test_registry_refuses_bad_groups(extra: dict[str, list[str]], message: str) -> None:
    with pytest.raises(LabelError, match=message):
        GroupRegistry(extra)


def test_registry_normalises_names() -> None:
    registry = GroupRegistry({" acm ": ["usa", "jpn"]})
    assert registry.members("ACM") == {"USA", "JPN"}
    assert "ACM" in registry.names()
