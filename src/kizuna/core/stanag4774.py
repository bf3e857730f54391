"""NATO STANAG 4774 (ADatP-4774) confidentiality labels as XML.

:func:`to_xml` writes a :class:`~kizuna.core.labels.Label` as an
``originatorConfidentialityLabel`` in the namespace
``urn:nato:stanag:4774:confidentialitymetadatalabel:1:0`` (element names and
order follow the ADatP-4774 XSD, version 1.3); :func:`from_xml` reads one
back. ``from_xml(to_xml(label)) == label`` for every valid label.

Mapping (a Kizuna decision; ADatP-4774 leaves the values to each policy)::

    <slab:originatorConfidentialityLabel xmlns:slab="urn:nato:...:1:0">
      <slab:ConfidentialityInformation>
        <slab:PolicyIdentifier>JPN</slab:PolicyIdentifier>     originator nation
        <slab:Classification>SECRET</slab:Classification>       U.S.-style level name
        <slab:Category Type="PERMISSIVE" TagName="Releasable to">   REL TO
          <slab:GenericValue>USA</slab:GenericValue>              one per code, canonical
          <slab:GenericValue>JPN</slab:GenericValue>              order, groups included
        </slab:Category>
        <slab:Category Type="RESTRICTIVE" TagName="Dissemination Control">
          <slab:GenericValue>NOFORN</slab:GenericValue>           NOFORN
        </slab:Category>
        <slab:Category Type="INFORMATIVE" TagName="Administrative">
          <slab:GenericValue>EXERCISE</slab:GenericValue>         exercise marking
        </slab:Category>
      </slab:ConfidentialityInformation>
      <slab:CreationDateTime>2026-01-01T00:00:00Z</slab:CreationDateTime>
    </slab:originatorConfidentialityLabel>

* **PolicyIdentifier is the originator's nation** (``USA``, ``JPN``, …): a
  Kizuna label is always written under its originator's national policy, and
  ``Label.originator`` is defined as "the nation whose policy applies", which
  is what ADatP-4774 says PolicyIdentifier names. We do not emit the ``NATO``
  policy: its classification names (``NATO SECRET``, ``COSMIC TOP SECRET``)
  and mandatory ``Context`` category describe NATO-originated information,
  which Kizuna labels do not model; a ``NATO`` group in REL TO is just a
  GenericValue of the Releasable-to category. ``OriginatorID`` is not used
  for the nation because the standard defines it as the identity of whoever
  created the label (``IDType`` rfc822Name, dNSName, …), not a nation.
* Classification values are the U.S.-style names (``UNCLASSIFIED``,
  ``CONFIDENTIAL``, ``SECRET``, ``TOP SECRET``) whatever the policy; the
  alliance's equivalence (GSOMIA) maps them to each nation's levels.
* ``CreationDateTime`` is required by the XSD; ``to_xml`` writes the given
  time or now (UTC). ``ReviewDateTime`` is written only when given.

Reading is strict, because a label decides who sees data:

* XML is parsed with ``defusedxml`` and any DTD is refused, so entity
  expansion ("billion laughs") and external entities never run. Input over
  64 KiB is refused.
* The root must be ``originatorConfidentialityLabel`` (or the legacy
  ``ConfidentialityLabel``) in the namespace above; other namespaces or
  roots are refused.
* A RESTRICTIVE or PERMISSIVE category other than the two above is refused:
  a restriction we do not understand cannot be enforced, and dropping one
  would release too widely. ``IntegerValue``/``BitStringValue`` (forbidden by
  ADatP-4774) and ``SuccessionHandling`` (a label that changes over time) are
  refused too. Unknown INFORMATIVE categories, ``PrivacyMark``,
  ``OriginatorID`` and elements from other namespaces are ignored.
* TagName and values compare case-insensitively, as ADatP-4774 asks for
  policy values. Codes are then checked like any marking (known countries,
  groups from ``groups``, no REL TO with NOFORN, …).

Every failure raises :class:`~kizuna.core.labels.LabelError` with a message
that starts ``STANAG 4774 label:``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

import defusedxml  # type: ignore[import-untyped, unused-ignore]
import defusedxml.ElementTree as DET  # type: ignore[import-untyped, unused-ignore]

from kizuna.core.labels import (
    COUNTRIES,
    DEFAULT_GROUPS,
    Classification,
    GroupRegistry,
    Label,
    LabelError,
    make_label,
    sort_rel_to,
)

NAMESPACE = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
ROOT = "originatorConfidentialityLabel"
LEGACY_ROOT = "ConfidentialityLabel"
PREFIX = "slab"

TAG_RELEASABLE_TO = "Releasable to"
TAG_DISSEMINATION = "Dissemination Control"
TAG_ADMINISTRATIVE = "Administrative"
NOFORN = "NOFORN"
EXERCISE = "EXERCISE"

CATEGORY_TYPES = ("RESTRICTIVE", "PERMISSIVE", "INFORMATIVE")
MAX_XML_BYTES = 64 * 1024

_NS = "{" + NAMESPACE + "}"


def _fail(message: str) -> LabelError:
    return LabelError(f"STANAG 4774 label: {message}")


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise LabelError("STANAG 4774 timestamps must be timezone-aware (UTC)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_xml(
    label: Label,
    *,
    created: datetime | None = None,
    review: datetime | None = None,
    xml_declaration: bool = True,
) -> str:
    """The label as an ADatP-4774 ``originatorConfidentialityLabel`` document."""
    p = PREFIX

    def el(name: str, text: str, indent: str, attrs: str = "") -> str:
        return f"{indent}<{p}:{name}{attrs}>{escape(text)}</{p}:{name}>\n"

    def category(kind: str, tag: str, values: list[str]) -> str:
        attrs = f" Type={quoteattr(kind)} TagName={quoteattr(tag)}"
        inner = "".join(el("GenericValue", v, "      ") for v in values)
        return f"    <{p}:Category{attrs}>\n{inner}    </{p}:Category>\n"

    root_attrs = f" xmlns:{p}={quoteattr(NAMESPACE)}"
    if review is not None:
        root_attrs += f" ReviewDateTime={quoteattr(_timestamp(review))}"
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n'] if xml_declaration else []
    out.append(f"<{p}:{ROOT}{root_attrs}>\n")
    out.append(f"  <{p}:ConfidentialityInformation>\n")
    out.append(el("PolicyIdentifier", label.originator, "    "))
    out.append(el("Classification", label.classification.marking, "    "))
    if label.rel_to:
        out.append(category("PERMISSIVE", TAG_RELEASABLE_TO, sort_rel_to(label.rel_to)))
    if label.noforn:
        out.append(category("RESTRICTIVE", TAG_DISSEMINATION, [NOFORN]))
    if label.exercise:
        out.append(category("INFORMATIVE", TAG_ADMINISTRATIVE, [EXERCISE]))
    out.append(f"  </{p}:ConfidentialityInformation>\n")
    when = created if created is not None else datetime.now(UTC).replace(microsecond=0)
    out.append(el("CreationDateTime", _timestamp(when), "  "))
    out.append(f"</{p}:{ROOT}>\n")
    return "".join(out)


def _parse_xml(text: str | bytes) -> ET.Element:
    if not isinstance(text, str | bytes):
        raise _fail(f"expected XML text, got {type(text).__name__}")
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > MAX_XML_BYTES:
        raise _fail(f"document is {size} bytes, more than the {MAX_XML_BYTES} allowed")
    try:
        root: ET.Element = DET.fromstring(
            text, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise _fail(
            "a DTD is not allowed (entity expansion and external entities are refused)"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise _fail("entity declarations are not allowed") from None
    except defusedxml.ExternalReferenceForbidden:
        raise _fail("external references are not allowed") from None
    except defusedxml.DefusedXmlException as exc:
        raise _fail(f"unsafe XML refused ({exc})") from None
    except ET.ParseError as exc:
        raise _fail(f"malformed XML ({exc})") from None
    except (ValueError, UnicodeError) as exc:
        raise _fail(f"unreadable XML ({exc})") from None
    return root


def _local(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _text(elem: ET.Element, what: str) -> str:
    if len(elem):
        raise _fail(f"{what} must hold text only")
    value = " ".join((elem.text or "").split())
    if not value:
        raise _fail(f"{what} is empty")
    return value


def _check_time(value: str, what: str) -> None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail(f"{what} {value!r} is not an xs:dateTime") from None
    if moment.tzinfo is None:
        raise _fail(f"{what} {value!r} has no time zone")


def _ours(elem: ET.Element, where: str) -> str | None:
    """Local name if the element is in the 4774 namespace, None if foreign (ignored)."""
    ns, local = _local(elem.tag)
    if ns == NAMESPACE:
        return local
    if ns == "":
        raise _fail(f"element <{local}> in {where} has no namespace (expected {NAMESPACE})")
    return None


def from_xml(text: str | bytes, groups: GroupRegistry = DEFAULT_GROUPS) -> Label:
    """Read an ADatP-4774 confidentiality label; see the module notes for what is accepted."""
    root = _parse_xml(text)
    ns, local = _local(root.tag)
    if ns != NAMESPACE:
        got = f"namespace {ns!r}" if ns else "no namespace"
        raise _fail(f"root <{local}> is in {got}, expected {NAMESPACE!r}")
    if local not in (ROOT, LEGACY_ROOT):
        raise _fail(f"root element is <{local}>, expected <{ROOT}>")
    review = root.get("ReviewDateTime")
    if review is not None:
        _check_time(review, "ReviewDateTime")

    info: ET.Element | None = None
    created_seen = False
    for child in root:
        name = _ours(child, local)
        if name is None:
            continue
        if name == "ConfidentialityInformation":
            if info is not None:
                raise _fail("more than one ConfidentialityInformation")
            info = child
        elif name == "CreationDateTime":
            if created_seen:
                raise _fail("more than one CreationDateTime")
            created_seen = True
            _check_time(_text(child, "CreationDateTime"), "CreationDateTime")
        elif name == "OriginatorID":
            if child.get("IDType") is None:
                raise _fail("OriginatorID has no IDType")
        elif name == "SuccessionHandling":
            raise _fail("SuccessionHandling (a label that changes over time) is not supported")
        else:
            raise _fail(f"unexpected element <{name}> in <{local}>")
    if info is None:
        raise _fail("ConfidentialityInformation is missing")

    policy: str | None = None
    classification: Classification | None = None
    rel_to: list[str] | None = None
    noforn = False
    exercise = False
    for child in info:
        name = _ours(child, "ConfidentialityInformation")
        if name is None:
            continue
        if name == "PolicyIdentifier":
            if policy is not None:
                raise _fail("more than one PolicyIdentifier")
            policy = _text(child, "PolicyIdentifier").upper()
        elif name == "Classification":
            if classification is not None:
                raise _fail("more than one Classification")
            try:
                classification = Classification.parse(_text(child, "Classification"))
            except LabelError as exc:
                raise _fail(str(exc)) from None
        elif name == "PrivacyMark":
            continue
        elif name == "Category":
            kind, tag, values = _category(child)
            if kind == "PERMISSIVE" and tag == TAG_RELEASABLE_TO.casefold():
                if rel_to is not None:
                    raise _fail("more than one Releasable to category")
                rel_to = values
            elif kind == "RESTRICTIVE" and tag == TAG_DISSEMINATION.casefold():
                unknown = sorted(set(values) - {NOFORN})
                if unknown:
                    raise _fail(
                        f"unsupported dissemination control {', '.join(unknown)} "
                        "(a restriction that cannot be enforced is refused)"
                    )
                if noforn:
                    raise _fail("more than one NOFORN")
                noforn = True
            elif kind == "INFORMATIVE":
                exercise = exercise or EXERCISE in values
            else:
                raise _fail(
                    f"unsupported {kind} category {child.get('TagName')!r} "
                    "(a category that cannot be enforced is refused)"
                )
        else:
            raise _fail(f"unexpected element <{name}> in <ConfidentialityInformation>")
    if policy is None:
        raise _fail("PolicyIdentifier is missing")
    if classification is None:
        raise _fail("Classification is missing")
    if policy not in COUNTRIES:
        raise _fail(
            f"PolicyIdentifier {policy!r} is not supported: Kizuna labels use the "
            "originating nation's policy (an ISO 3166 alpha-3 code such as USA or JPN)"
        )
    try:
        return make_label(
            classification,
            rel_to=rel_to or (),
            noforn=noforn,
            exercise=exercise,
            originator=policy,
            groups=groups,
        )
    except LabelError as exc:
        raise _fail(str(exc)) from None


def _category(elem: ET.Element) -> tuple[str, str, list[str]]:
    """(Type, casefolded TagName, upper-cased GenericValues) of a Category."""
    kind = (elem.get("Type") or "").strip().upper()
    if kind not in CATEGORY_TYPES:
        raise _fail(
            f"Category Type {elem.get('Type')!r} must be one of {', '.join(CATEGORY_TYPES)}"
        )
    tag_name = " ".join((elem.get("TagName") or "").split())
    if not tag_name:
        raise _fail("Category has no TagName")
    values: list[str] = []
    for child in elem:
        name = _ours(child, "Category")
        if name is None:
            continue
        if name != "GenericValue":
            raise _fail(f"<{name}> is not allowed in a Category (only GenericValue)")
        values.append(_text(child, f"GenericValue of {tag_name!r}").upper())
    if not values:
        raise _fail(f"Category {tag_name!r} has no values")
    if len(set(values)) != len(values):
        raise _fail(f"Category {tag_name!r} repeats a value")
    return kind, tag_name.casefold(), values
