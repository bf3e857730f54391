"""Pure rules of SITREPs: the banner label, numbering and versions, and reading the other
services' answers (Structs or dicts) into this domain's shapes, defensively."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from kizuna.core.catalog import Catalog
from kizuna.core.errors import Conflict
from kizuna.core.label_math import restrict
from kizuna.core.labels import (
    Classification,
    GroupRegistry,
    Label,
    LabelError,
    make_label,
    parse_label,
)
from kizuna.core.records import RecordState, Text
from kizuna.sitrep.models import Version

CATALOG = Catalog("kizuna.sitrep")

# -- labels ----------------------------------------------------------------------


def unreadable(originator: str) -> Label:
    """The label of an item whose label cannot be read: never understate (as the web does)."""
    return Label(classification=Classification.TOP_SECRET, noforn=True, originator=originator)


def label_of(item: Mapping[str, Any], groups: GroupRegistry, originator: str) -> Label:
    """An item's label from the label fields every labelled answer carries (LabelView)."""
    raw = item.get("label")
    if isinstance(raw, Label):
        return raw
    try:
        if isinstance(item.get("classification"), str) and "originator" in item:
            return Label(
                classification=Classification[item["classification"].replace(" ", "_")],
                rel_to=frozenset(item.get("rel_to") or ()),
                noforn=bool(item.get("noforn", False)),
                exercise=bool(item.get("exercise", False)),
                originator=str(item["originator"]),
            )
        for key in ("label_fgi", "label"):
            if isinstance(item.get(key), str):
                return parse_label(item[key], groups=groups)
        if isinstance(raw, Mapping):
            return msgspec.convert(raw, Label)
    except (KeyError, LabelError, ValueError, TypeError, msgspec.ValidationError):
        pass
    return unreadable(originator)


def banner_label(labels: Iterable[Label], nation: str, groups: GroupRegistry) -> Label:
    """The highest label of what a SITREP holds: the highest classification, releasable only
    where every item is (the REL TO lists intersected; NOFORN when only the node's nation
    remains), exercise if any item is. Built with the core label maths (``restrict``)."""
    banner = make_label(Classification.UNCLASSIFIED, originator=nation, groups=groups)
    for label in labels:
        banner = restrict(banner, label, groups)
    return banner


# -- numbering -------------------------------------------------------------------


def next_issue(
    previous: Iterable[tuple[int, str]], requested: Version | None
) -> tuple[int, Version]:
    """The number and version of the next SITREP of a series, given the (number, version)
    already issued: numbers increase from 1; the first is Initial, later ones Update, and
    Final (only when asked for) closes the series."""
    issued = sorted(previous)
    if any(v == "Final" for _, v in issued):
        raise Conflict(CATALOG.msg("error.series-closed"))
    number = (issued[-1][0] + 1) if issued else 1
    natural: Version = "Initial" if not issued else "Update"
    if requested is None or requested == natural or requested == "Final":
        return number, requested or natural
    raise Conflict(
        CATALOG.msg("error.version", number=number, natural=natural, requested=requested),
        allowed=[natural, "Final"],
    )


# -- reading other services' answers ----------------------------------------------


def as_item(obj: Any) -> dict[str, Any]:
    """A service's answer as a plain dict (a Struct, a dict, or a bare RecordState)."""
    if isinstance(obj, RecordState):
        return {
            **obj.fields,
            "id": obj.record_id,
            "origin": obj.origin,
            "label": obj.label,
            "updated_by": obj.updated_by,
        }
    if isinstance(obj, Mapping):
        return dict(obj)
    label = getattr(obj, "label", None)
    item = msgspec.to_builtins(obj)
    if not isinstance(item, dict):
        return {}
    if isinstance(label, Label):
        item["label"] = label
    return item


def first(item: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = item.get(key)
        if value is not None and value != "":
            return value
    return default


def text_of(value: Any) -> Text:
    if isinstance(value, Text):
        return value
    if isinstance(value, Mapping):
        return Text(en=str(value.get("en") or ""), ja=str(value.get("ja") or ""))
    if value is None:
        return Text()
    return Text(en=str(value), ja=str(value))


def pick(text: Text, language: str) -> str:
    """One language of a bilingual text, the other when it is empty."""
    return (text.ja or text.en) if language == "ja" else (text.en or text.ja)


def number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def optional_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def code(value: Any) -> str:
    """A short code or name as a string (a dict names itself by code, then name)."""
    if isinstance(value, Mapping):
        return str(first(value, "code", "name", "id", default=""))
    return "" if value is None else str(value)


def area_name(value: Any) -> Text:
    if isinstance(value, Mapping):
        return text_of(first(value, "name", "title", "code"))
    return text_of(value)


# -- the summaries ---------------------------------------------------------------


def status_name(item: Mapping[str, Any], *keys: str) -> Text:
    """A status's bilingual name as the service gave it, else the code itself."""
    named = first(item, *keys)
    return text_of(named) if named else text_of(code(item.get("status")))


def incident_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    hypo = first(item, "hypocentre", "hypocenter")
    hypocentre = None
    if isinstance(hypo, Mapping):
        position = hypo.get("position") if isinstance(hypo.get("position"), Mapping) else hypo
        hypocentre = {
            "name": text_of(first(hypo, "name", "area", "description")),
            "lat": optional_number(position.get("lat")),
            "lon": optional_number(position.get("lon")),
            "depth_km": optional_number(first(hypo, "depth_km", "depth")),
        }
    magnitude = item.get("magnitude")
    if isinstance(magnitude, Mapping):
        magnitude = magnitude.get("value")
    areas = [
        {
            "name": area_name(a),
            "code": code(a.get("code")),
            "level": code(a.get("level")),
            "intensity": code(first(a, "intensity", "max_intensity", default="")),
            "intensity_text": text_of(first(a, "intensity_text"))
            if first(a, "intensity_text")
            else text_of(code(first(a, "intensity", "max_intensity", default=""))),
        }
        for a in first(item, "intensity_areas", "areas", default=()) or ()
        if isinstance(a, Mapping)
    ]
    tsunami = []
    for a in first(item, "tsunami_areas", "tsunami", default=()) or ():
        if not isinstance(a, Mapping):
            continue
        kind = code(first(a, "kind_code", "kind", default=""))
        named = first(a, "kind_name", "kind_text")
        tsunami.append(
            {
                "name": area_name(a),
                "code": code(a.get("code")),
                "kind": kind,
                "kind_name": text_of(named) if named else text_of(kind),
                "status": code(first(a, "category", "status", "state", default="")),
            }
        )
    intensity = code(first(item, "max_intensity", "forecast_intensity", default=""))
    named = first(item, "max_intensity_text")
    return {
        "id": str(first(item, "id", "incident_id", default="")),
        "title": text_of(item.get("title")),
        "summary": text_of(first(item, "summary", "description", "headline")),
        "hypocentre": hypocentre,
        "magnitude": optional_number(magnitude),
        "max_intensity": intensity,
        "max_intensity_text": text_of(named) if named else text_of(intensity),
        "areas": areas,
        "tsunami_areas": tsunami,
        "state": code(first(item, "state", "status", default="")),
        "country": country_of(item),
        "updated_at": str(first(item, "updated_at", default="")),
    }


def line_summary(line: Mapping[str, Any]) -> dict[str, Any]:
    requested = number(first(line, "requested", "quantity"))
    committed = number(line.get("committed"))
    gap = line.get("gap")
    return {
        "item": code(line.get("item")),
        "kind": code(first(line, "kind", default="item")),
        "description": text_of(line.get("description")),
        "unit": code(line.get("unit")),
        "requested": requested,
        "offered": number(line.get("offered")),
        "committed": committed,
        "in_transit": number(line.get("in_transit")),
        "delivered": number(line.get("delivered")),
        "gap": max(0.0, requested - committed) if gap is None else number(gap),
    }


def rollup_of(lines: list[dict[str, Any]]) -> str:
    """NONE / PARTIAL / COMPLETE when the assistance service gave none."""
    if lines and all(line["gap"] <= 0 for line in lines):
        return "COMPLETE"
    if any(line["committed"] > 0 or line["delivered"] > 0 for line in lines):
        return "PARTIAL"
    return "NONE"


def country_of(item: Mapping[str, Any]) -> str:
    """The affected state an item names; JMA reports only on Japan."""
    named = code(first(item, "affected_state", "country", "affected_nation", default=""))
    if named:
        return named
    return "JPN" if str(item.get("source", "")).lower() == "jma" else ""


def rfa_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    lines = [line_summary(x) for x in item.get("lines") or () if isinstance(x, Mapping)]
    rollup = str(first(item, "coverage", "rollup", "roll_up", default="")).upper()
    site = first(item, "site", "location")
    where = site if isinstance(site, Mapping) else {"name": site}
    return {
        "id": str(first(item, "id", default="")),
        "title": text_of(item.get("title")),
        "status": code(first(item, "status", default="")),
        "status_name": status_name(item, "status_name"),
        "priority": code(first(item, "priority", default="")),
        "location": text_of(first(where, "name", "title", "id")),
        "adm1": text_of(first(item, "adm1", "prefecture", "requesting_org")),
        "country": country_of(item),
        "lines": lines,
        "rollup": rollup if rollup in ("NONE", "PARTIAL", "COMPLETE") else rollup_of(lines),
    }


def organisation(item: Mapping[str, Any]) -> str:
    return code(first(item, "organisation", "organization", "nation", "origin", default=""))


def rfa_of(item: Mapping[str, Any]) -> str:
    """The RFA an offer answers (an unsolicited one: the RFA it was accepted for)."""
    return str(first(item, "rfa_id", "accepted_for", default=""))


# Offer states past acceptance: the offer is a commitment.
COMMITTED = frozenset({"ACCEPTED", "COMMITTED", "IN_TRANSIT", "DELIVERED", "COMPLETED"})


def offer_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    status = code(first(item, "status", default="")).upper()
    lines = [
        {
            "item": code(x.get("item")),
            "quantity": number(first(x, "quantity", "committed", "offered")),
            "unit": code(x.get("unit")),
            "in_transit": number(x.get("in_transit")),
            "delivered": number(x.get("delivered")),
        }
        for x in item.get("lines") or ()
        if isinstance(x, Mapping)
    ]
    committed = item.get("committed")
    return {
        "id": str(first(item, "id", default="")),
        "rfa_id": rfa_of(item),
        "organisation": organisation(item),
        "status": status,
        "status_name": status_name(item, "status_name"),
        "commitment": committed if isinstance(committed, bool) else status in COMMITTED,
        "unit": code(first(item, "unit", default="")),
        "asset": code(first(item, "asset", default="")),
        "lines": lines,
    }


def task_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(first(item, "id", default="")),
        "rfa_id": str(first(item, "rfa_id", default="")),
        "offer_id": str(first(item, "offer_id", "commitment_id", default="")),
        "organisation": organisation(item),
        "unit": code(first(item, "unit", "executing_unit", default="")),
        "activity": text_of(first(item, "description", "title", "activity")),
        "due": str(first(item, "due", "due_at", default="")),
        "status": code(first(item, "status", default="")),
        "status_name": status_name(item, "status_name"),
    }


def shelter_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    day = int(number(first(item, "population_day", "population")))
    return {
        "id": str(first(item, "id", default="")),
        "name": text_of(item.get("name")),
        "municipality": text_of(first(item, "municipality", "adm2", "adm1")),
        "capacity_day": int(number(item.get("capacity_day"))),
        "capacity_night": int(number(item.get("capacity_night"))),
        "population_day": day,
        "population_night": int(number(first(item, "population_night", default=day))),
        "status": code(first(item, "availability", "status", default="")),
        "status_name": text_of(first(item, "availability_name", "status_name"))
        if first(item, "availability_name", "status_name")
        else text_of(code(first(item, "availability", "status", default=""))),
    }


def stock_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(first(item, "id", default="")),
        "site": text_of(first(item, "site_name", "site", "site_id")),
        "item": code(item.get("item")),
        "item_name": text_of(first(item, "item_name", "item")),
        "quantity": number(item.get("quantity")),
        "unit": code(item.get("unit")),
    }


def totals(
    rfas: list[dict[str, Any]],
    offers: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
    shelters: list[dict[str, Any]],
) -> dict[str, Any]:
    rollups = {"NONE": 0, "PARTIAL": 0, "COMPLETE": 0}
    for rfa in rfas:
        rollups[rfa["rollup"]] += 1
    lines = [line for rfa in rfas for line in rfa["lines"]]
    return {
        "rfas": len(rfas),
        "lines": len(lines),
        "lines_with_gap": sum(1 for line in lines if line["gap"] > 0),
        "rollups": rollups,
        "offers": len(offers),
        "commitments": sum(1 for o in offers if o["commitment"]),
        "tasks": len(tasks),
        "shelters": len(shelters),
        "shelter_population": sum(
            max(s["population_day"], s["population_night"]) for s in shelters
        ),
        "shelter_capacity": sum(max(s["capacity_day"], s["capacity_night"]) for s in shelters),
    }


# -- who does what where (HXL) ---------------------------------------------------

# IASC cluster of each item or capability code (the catalog names the sector).
SECTORS = {
    "water": "wash",
    "toilet": "wash",
    "hygiene_kit": "wash",
    "food": "food",
    "meal": "food",
    "infant_formula": "food",
    "blanket": "shelter",
    "shelter_space": "shelter",
    "tent": "shelter",
    "medical_bed": "health",
    "medical_team": "health",
    "medicine": "health",
    "airlift_sortie": "logistics",
    "helicopter": "logistics",
    "ship": "logistics",
    "truck": "logistics",
    "engineer_team": "engineering",
}


def sector_of(item: str) -> str:
    return SECTORS.get(item, "other")
