"""The marking of an export and its STANAG 4774 label, bound in the manner of STANAG 4778.

Every export carries, in the document itself:

* the **marking** of the whole (its banner: the highest classification, releasable only
  where every feature is; :func:`banner`), visible where a reader looks first (KML
  document name and description, an NVG group label, the first line of a CSV, a
  GeoJSON top-level ``properties`` member);
* the **confidentiality label** as an ADatP-4774 ``originatorConfidentialityLabel``
  (``kizuna.core.stanag4774``);
* the **binding** (ADatP-4778 style): a SHA-256 digest over the whole document with the
  digest's own value left empty, so that changing the content, the marking or the label
  is detected (:func:`verify`). Canonical forms, per format:

  - KML, NVG: Canonical XML 2.0 (W3C C14N 2.0, prefixes rewritten, comments dropped)
    of the document with the digest text empty;
  - GeoJSON: the JSON with sorted keys, no whitespace, UTF-8, with the digest empty;
  - CSV: the file's bytes without its third line (the line that carries the digest).

This is an integrity check against accidental or careless change, not a signature: a
party able to rewrite the file can recompute the digest (a signed binding, XML-DSig with
the node's key, is the next step; ADR 0018).
"""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

import defusedxml  # type: ignore[import-untyped, unused-ignore]
import defusedxml.ElementTree as DET  # type: ignore[import-untyped, unused-ignore]
import msgspec

from kizuna.core.label_math import restrict
from kizuna.core.labels import Classification, GroupRegistry, Label, LabelError, make_label
from kizuna.core.stanag4774 import from_xml, to_xml
from kizuna.interop.messages import MESSAGES, MessageError

NS_4778 = "urn:nato:stanag:4778:bindinginformation:1:0"
DIGEST_ALGORITHM = "http://www.w3.org/2001/04/xmlenc#sha256"
C14N = "http://www.w3.org/2010/xml-c14n2"
JSON_CANON = "urn:kizuna:json-sorted-compact"
MAX_VERIFY_BYTES = 64 * 1024 * 1024


class BindingError(MessageError):
    """A document whose marking, label or digest does not check out (``message``: why)."""


class Checked(msgspec.Struct, frozen=True, kw_only=True):
    """What :func:`verify` found: the bound label and the marking shown."""

    format: str
    label: Label
    marking: str


def banner(labels: Iterable[Label], nation: str, groups: GroupRegistry) -> Label:
    """The label of an export as a whole: the highest classification, releasable only where
    every feature is (REL TO lists intersected; NOFORN when only this nation remains),
    exercise if any feature is; originated by the exporting node's nation."""
    out = make_label(Classification.UNCLASSIFIED, originator=nation, groups=groups)
    for label in labels:
        out = restrict(out, label, groups)
    return out


def label_xml(label: Label) -> str:
    return to_xml(label, xml_declaration=False)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- XML (KML, NVG) ------------------------------------------------------------------


def canonical_xml(root: ET.Element) -> bytes:
    text = ET.tostring(root, encoding="unicode")
    return ET.canonicalize(text, with_comments=False, rewrite_prefixes=True).encode("utf-8")


def seal_xml(root: ET.Element, slot: ET.Element) -> bytes:
    """The document with ``slot``'s text set to the digest of its canonical form."""
    slot.text = ""
    slot.text = digest(canonical_xml(root))
    body = ET.tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")


def parse_xml(data: bytes) -> ET.Element:
    """XML read safely: no DTD, no entities, no external references."""
    try:
        root: ET.Element = DET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise BindingError(MESSAGES.msg("binding.unsafe-xml", error=type(exc).__name__)) from None
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise BindingError(MESSAGES.msg("binding.malformed-xml", error=exc)) from None
    return root


def check_xml_digest(root: ET.Element, slot: ET.Element) -> None:
    claimed = (slot.text or "").strip()
    slot.text = ""
    actual = digest(canonical_xml(root))
    slot.text = claimed
    if claimed != actual:
        raise BindingError(MESSAGES.msg("binding.digest"))


# -- JSON (GeoJSON) -------------------------------------------------------------------


def canonical_json(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_json(doc: dict[str, Any]) -> bytes:
    binding = doc["properties"]["stanag4778"]
    binding["digest"] = ""
    binding["digest"] = digest(canonical_json(doc))
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


# -- CSV -------------------------------------------------------------------------------

CSV_LABEL_PREFIX = "# STANAG 4774 confidentiality label (base64 of its XML): "
CSV_DIGEST_PREFIX = "# STANAG 4778 binding, SHA-256 of every line but this one: "


def seal_csv(marking: str, label: Label, body: str) -> bytes:
    head = (
        f"{marking}\r\n{CSV_LABEL_PREFIX}{base64.b64encode(label_xml(label).encode()).decode()}\r\n"
    )
    sealed = digest((head + body).encode())
    return (head + f"{CSV_DIGEST_PREFIX}{sealed}\r\n" + body).encode()


# -- verification ----------------------------------------------------------------------


def _label(text: str, groups: GroupRegistry | None) -> Label:
    try:
        return from_xml(text) if groups is None else from_xml(text, groups)
    except LabelError as exc:
        raise BindingError(exc.message or MESSAGES.msg("binding.label", error=exc)) from None


def _shown(label: Label, marking: str) -> None:
    if label.render() not in marking and label.render(fgi=False) not in marking:
        raise BindingError(MESSAGES.msg("binding.marking", marking=repr(marking)))


def verify(data: bytes, fmt: str, groups: GroupRegistry | None = None) -> Checked:
    """Check an export of ``fmt`` (kml, nvg, geojson, csv): the label parses, the marking
    shown is the label's, and the digest matches. Raises :class:`BindingError`."""
    if len(data) > MAX_VERIFY_BYTES:
        raise BindingError(MESSAGES.msg("binding.too-large"))
    if fmt == "csv":
        return _verify_csv(data, groups)
    if fmt == "geojson":
        return _verify_geojson(data, groups)
    if fmt == "kml":
        return _verify_kml(data, groups)
    if fmt == "nvg":
        return _verify_nvg(data, groups)
    raise BindingError(MESSAGES.msg("binding.unknown-format", format=repr(fmt)))


def _verify_csv(data: bytes, groups: GroupRegistry | None) -> Checked:
    lines = data.split(b"\r\n", 3)
    if len(lines) < 4:
        raise BindingError(MESSAGES.msg("binding.csv-lines"))
    marking, label_line, digest_line, _body = (x.decode("utf-8", "replace") for x in lines)
    if not label_line.startswith(CSV_LABEL_PREFIX) or not digest_line.startswith(CSV_DIGEST_PREFIX):
        raise BindingError(MESSAGES.msg("binding.csv-missing"))
    try:
        xml = base64.b64decode(label_line[len(CSV_LABEL_PREFIX) :], validate=True).decode()
    except (ValueError, UnicodeError):
        raise BindingError(MESSAGES.msg("binding.csv-base64")) from None
    label = _label(xml, groups)
    _shown(label, marking)
    actual = digest(lines[0] + b"\r\n" + lines[1] + b"\r\n" + lines[3])
    if digest_line[len(CSV_DIGEST_PREFIX) :].strip() != actual:
        raise BindingError(MESSAGES.msg("binding.digest"))
    return Checked(format="csv", label=label, marking=marking)


def _verify_geojson(data: bytes, groups: GroupRegistry | None) -> Checked:
    try:
        doc = json.loads(data)
        props = doc["properties"]
        binding = props["stanag4778"]
        claimed = binding["digest"]
        marking = props["marking"]
        xml = props["stanag4774"]
    except (ValueError, KeyError, TypeError):
        raise BindingError(MESSAGES.msg("binding.geojson")) from None
    label = _label(xml, groups)
    _shown(label, marking)
    binding["digest"] = ""
    if claimed != digest(canonical_json(doc)):
        raise BindingError(MESSAGES.msg("binding.digest"))
    return Checked(format="geojson", label=label, marking=marking)


KML_NS = "http://www.opengis.net/kml/2.2"
NVG_NS = "https://tide.act.nato.int/schemas/2012/10/nvg"
KML_LABEL = "stanag4774:label"
KML_DIGEST = "stanag4778:sha256"


def _verify_kml(data: bytes, groups: GroupRegistry | None) -> Checked:
    root = parse_xml(data)
    k = "{" + KML_NS + "}"
    doc = root.find(f"{k}Document")
    if doc is None:
        raise BindingError(MESSAGES.msg("binding.kml-document"))
    values: dict[str, ET.Element] = {}
    for d in doc.findall(f"{k}ExtendedData/{k}Data"):
        value = d.find(f"{k}value")
        if value is not None:
            values[d.get("name", "")] = value
    if KML_LABEL not in values or KML_DIGEST not in values:
        raise BindingError(MESSAGES.msg("binding.kml-extended"))
    label = _label(values[KML_LABEL].text or "", groups)
    _shown(label, doc.findtext(f"{k}name") or "")
    check_xml_digest(root, values[KML_DIGEST])
    return Checked(format="kml", label=label, marking=doc.findtext(f"{k}name") or "")


def _verify_nvg(data: bytes, groups: GroupRegistry | None) -> Checked:
    root = parse_xml(data)
    n = "{" + NVG_NS + "}"
    b = "{" + NS_4778 + "}"
    if root.tag != f"{n}nvg":
        raise BindingError(MESSAGES.msg("binding.nvg"))
    binding = root.find(f"{n}metadata/{b}BindingInformation")
    if binding is None:
        raise BindingError(MESSAGES.msg("binding.nvg-binding"))
    label_el = binding.find(f"{b}Metadata/{{{_SLAB}}}originatorConfidentialityLabel")
    slot = binding.find(f"{b}DataReference/{b}DigestValue")
    if label_el is None or slot is None:
        raise BindingError(MESSAGES.msg("binding.parts"))
    label = _label(ET.tostring(label_el, encoding="unicode"), groups)
    group = root.find(f"{n}g")
    marking = group.get("label", "") if group is not None else ""
    _shown(label, marking)
    check_xml_digest(root, slot)
    return Checked(format="nvg", label=label, marking=marking)


_SLAB = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
