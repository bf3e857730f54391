"""STANAG 4774 (ADatP-4774) confidentiality label XML: structure, round trip, hostile input."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.labels import Classification, Label, LabelError, make_label, parse_label
from kizuna.core.stanag4774 import MAX_XML_BYTES, NAMESPACE, from_xml, to_xml

from .strategies import REGISTRY, labels

NS = {"slab": NAMESPACE}
WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def xml_for(marking: str, **kwargs: object) -> str:
    return to_xml(parse_label(marking, groups=REGISTRY), created=WHEN, **kwargs)  # type: ignore[arg-type]


def body(inner: str, root: str = "originatorConfidentialityLabel", ns: str = NAMESPACE) -> str:
    return (
        f'<slab:{root} xmlns:slab="{ns}"><slab:ConfidentialityInformation>{inner}'
        "</slab:ConfidentialityInformation>"
        "<slab:CreationDateTime>2026-03-01T09:30:00Z</slab:CreationDateTime>"
        f"</slab:{root}>"
    )


# --- structure -------------------------------------------------------------------------


def test_document_structure() -> None:
    text = xml_for("SECRET//REL TO JPN, FVEY, ACM//EXERCISE")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text)
    assert root.tag == f"{{{NAMESPACE}}}originatorConfidentialityLabel"
    info = root.find("slab:ConfidentialityInformation", NS)
    assert info is not None
    assert [c.tag.split("}")[1] for c in root] == ["ConfidentialityInformation", "CreationDateTime"]
    assert info.findtext("slab:PolicyIdentifier", namespaces=NS) == "USA"
    assert info.findtext("slab:Classification", namespaces=NS) == "SECRET"
    categories = info.findall("slab:Category", NS)
    assert [(c.get("Type"), c.get("TagName")) for c in categories] == [
        ("PERMISSIVE", "Releasable to"),
        ("INFORMATIVE", "Administrative"),
    ]
    rel = [v.text for v in categories[0].findall("slab:GenericValue", NS)]
    assert rel == ["USA", "JPN", "ACM", "FVEY"]  # canonical order
    assert [v.text for v in categories[1].findall("slab:GenericValue", NS)] == ["EXERCISE"]
    assert root.findtext("slab:CreationDateTime", namespaces=NS) == "2026-03-01T09:30:00Z"


def test_noforn_is_a_restrictive_category() -> None:
    root = ET.fromstring(xml_for("TS//NOFORN"))
    (category,) = root.findall("slab:ConfidentialityInformation/slab:Category", NS)
    assert category.get("Type") == "RESTRICTIVE"
    assert [v.text for v in category.findall("slab:GenericValue", NS)] == ["NOFORN"]
    assert root.findtext(".//slab:Classification", namespaces=NS) == "TOP SECRET"


def test_policy_identifier_is_the_originator() -> None:
    label = make_label(Classification.CONFIDENTIAL, rel_to={"USA"}, originator="JPN")
    root = ET.fromstring(to_xml(label))
    assert root.findtext(".//slab:PolicyIdentifier", namespaces=NS) == "JPN"
    assert from_xml(to_xml(label)) == label
    assert from_xml(to_xml(label).encode("utf-8")) == label


def test_unclassified_without_categories() -> None:
    root = ET.fromstring(xml_for("U"))
    assert root.findall(".//slab:Category", NS) == []
    assert from_xml(xml_for("U")) == parse_label("U")


def test_timestamps() -> None:
    jst = timezone(timedelta(hours=9))
    text = to_xml(parse_label("S"), created=WHEN.astimezone(jst), review=WHEN + timedelta(days=365))
    root = ET.fromstring(text)
    assert root.get("ReviewDateTime") == "2027-03-01T09:30:00Z"
    assert root.findtext("slab:CreationDateTime", namespaces=NS) == "2026-03-01T09:30:00Z"
    default = ET.fromstring(to_xml(parse_label("S"))).findtext(
        "slab:CreationDateTime", namespaces=NS
    )
    assert default is not None and default.endswith("Z")
    with pytest.raises(LabelError, match="timezone-aware"):
        to_xml(parse_label("S"), created=datetime(2026, 1, 1))


def test_without_declaration() -> None:
    assert to_xml(parse_label("S"), xml_declaration=False).startswith("<slab:")


# --- round trip ------------------------------------------------------------------------


DAMAGE = ["", "<", ">", "&", '"', "x", "NOFORN", "&amp;", "<!--", "\x00", "</slab:Category>"]


@given(labels(), st.integers(0, 4096), st.integers(0, 12), st.sampled_from(DAMAGE))
def test_round_trip(label: Label, start: int, length: int, insert: str) -> None:
    """from_xml(to_xml(x)) == x; and damaging the document never crashes the reader."""
    text = to_xml(label, created=WHEN)
    assert from_xml(text, groups=REGISTRY) == label
    # Replace a slice of the document: the reader answers with a LabelError or a
    # valid label, never another exception.
    start %= len(text) + 1
    mutated = text[:start] + insert + text[start + length :]
    try:
        parsed = from_xml(mutated, groups=REGISTRY)
    except LabelError:
        return
    assert from_xml(to_xml(parsed), groups=REGISTRY) == parsed


def test_reads_other_producers_spelling() -> None:
    # Default namespace instead of a prefix, legacy root, NATO-style "Releasable To",
    # lower-case values, extra informative data and foreign elements are all fine.
    text = f"""<?xml version="1.0"?>
    <ConfidentialityLabel xmlns="{NAMESPACE}" xmlns:x="urn:example:ext"
        ReviewDateTime="2030-01-01T00:00:00Z">
      <ConfidentialityInformation>
        <PolicyIdentifier> usa </PolicyIdentifier>
        <Classification>secret</Classification>
        <PrivacyMark>FOR ALLIANCE COORDINATION</PrivacyMark>
        <Category Type="PERMISSIVE" TagName="Releasable To">
          <GenericValue>jpn</GenericValue><GenericValue>AUS</GenericValue>
        </Category>
        <Category Type="INFORMATIVE" TagName="Administrative">
          <GenericValue>exercise</GenericValue>
        </Category>
        <Category Type="INFORMATIVE" TagName="Comment">
          <GenericValue>anything</GenericValue>
        </Category>
        <x:Marking>SECRET//REL TO USA, AUS, JPN</x:Marking>
      </ConfidentialityInformation>
      <OriginatorID IDType="rfc822Name">j3@example.mil</OriginatorID>
      <CreationDateTime>2026-03-01T09:30:00+09:00</CreationDateTime>
    </ConfidentialityLabel>"""
    assert from_xml(text) == parse_label("SECRET//REL TO USA, AUS, JPN//EXERCISE")


# --- hostile and malformed input -------------------------------------------------------

OPEN = f'<slab:originatorConfidentialityLabel xmlns:slab="{NAMESPACE}">'

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
{OPEN}
<slab:ConfidentialityInformation><slab:PolicyIdentifier>&lol3;</slab:PolicyIdentifier>
</slab:ConfidentialityInformation></slab:originatorConfidentialityLabel>"""

EXTERNAL_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
{OPEN}
<slab:ConfidentialityInformation><slab:PolicyIdentifier>&xxe;</slab:PolicyIdentifier>
</slab:ConfidentialityInformation></slab:originatorConfidentialityLabel>"""


def cat(kind: str, tag: str, *values: str, value_tag: str = "GenericValue") -> str:
    inner = "".join(f"<slab:{value_tag}>{v}</slab:{value_tag}>" for v in values)
    return f'<slab:Category Type="{kind}" TagName="{tag}">{inner}</slab:Category>'


PI = "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
CL = "<slab:Classification>SECRET</slab:Classification>"
REL = "Releasable to"
DC = "Dissemination Control"
NOFORN_REL = cat("RESTRICTIVE", DC, "NOFORN") + cat("PERMISSIVE", REL, "JPN")
SUCCESSION = body(PI + CL).replace(
    "</slab:ConfidentialityInformation>",
    "</slab:ConfidentialityInformation><slab:SuccessionHandling/>",
)
NESTED = "<slab:PolicyIdentifier><slab:b>USA</slab:b></slab:PolicyIdentifier>"
NO_NS = body(PI + CL).replace('xmlns:slab="', 'xmlns:other="').replace("slab:", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BILLION_LAUGHS, "DTD is not allowed"),
        (EXTERNAL_ENTITY, "DTD is not allowed"),
        ("<slab:x", "malformed XML"),
        ("not xml at all", "malformed XML"),
        ("", "malformed XML"),
        (body(PI + CL, ns="urn:nato:stanag:4774:confidentialitymetadatalabel:2:0"), "namespace"),
        (NO_NS, "no namespace"),
        (body(PI + CL, root="alternativeConfidentialityLabel"), "root element"),
        (OPEN + "</slab:originatorConfidentialityLabel>", "ConfidentialityInformation is missing"),
        (body(CL), "PolicyIdentifier is missing"),
        (body(PI), "Classification is missing"),
        (body(PI + PI + CL), "more than one PolicyIdentifier"),
        (body(PI + CL + CL), "more than one Classification"),
        (body(PI.replace("USA", "NATO") + CL), "PolicyIdentifier 'NATO' is not supported"),
        (body(PI.replace("USA", "") + CL), "PolicyIdentifier is empty"),
        (body(PI + CL.replace("SECRET", "NATO SECRET")), "unknown classification"),
        (body(PI + CL + cat("PERMISSIVE", REL, "XYZ")), "unknown country code 'XYZ'"),
        (body(PI + CL + cat("PERMISSIVE", REL)), "has no values"),
        (body(PI + CL + cat("PERMISSIVE", REL, "JPN", "JPN")), "repeats a value"),
        (body(PI + CL + cat("PERMISSIVE", REL, "JPN") * 2), "more than one Releasable"),
        (body(PI + CL + cat("PERMISSIVE", "Only", "JPN")), "PERMISSIVE category 'Only'"),
        (body(PI + CL + cat("RESTRICTIVE", "Extra", "CRYPTO")), "unsupported RESTRICTIVE"),
        (body(PI + CL + cat("RESTRICTIVE", DC, "ORCON")), "dissemination control ORCON"),
        (body(PI + CL + NOFORN_REL), "NOFORN contradicts"),
        (body(PI + CL + cat("permissive-ish", REL, "JPN")), "Category Type"),
        (body(PI + CL + cat("PERMISSIVE", " ", "JPN")), "no TagName"),
        (body(PI + CL + cat("PERMISSIVE", REL, "1", value_tag="IntegerValue")), "GenericValue"),
        (body(PI + CL + "<slab:Surprise/>"), "unexpected element <Surprise>"),
        (SUCCESSION, "SuccessionHandling"),
        (body(PI + CL).replace("2026-03-01T09:30:00Z", "yesterday"), "not an xs:dateTime"),
        (body(PI + CL).replace("2026-03-01T09:30:00Z", "2026-03-01T09:30:00"), "no time zone"),
        (body(NESTED + CL), "text only"),
        ("<a>" + "x" * MAX_XML_BYTES + "</a>", "more than the"),
    ],
)
def test_bad_labels_are_refused(text: str, message: str) -> None:
    with pytest.raises(LabelError, match=message) as excinfo:
        from_xml(text)
    assert str(excinfo.value).startswith("STANAG 4774 label: ")


def test_not_text() -> None:
    with pytest.raises(LabelError, match="expected XML text"):
        from_xml(42)  # type: ignore[arg-type]
