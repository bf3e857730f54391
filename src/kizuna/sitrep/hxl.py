"""Who does what where (3W) as HXL-tagged CSV: a header row, the HXL hashtag row, then
one row per commitment line and per task of a SITREP already built for one reader."""

from __future__ import annotations

import csv
import io

from kizuna.core.catalog import Catalog
from kizuna.sitrep.models import LineOut, OfferLine, OfferSummary, RfaSummary, SitrepOut
from kizuna.sitrep.rules import pick, sector_of

CATALOG = Catalog("kizuna.sitrep")

# (catalog key of the column's header, its HXL hashtag)
COLUMNS = (
    ("hxl.org", "#org"),
    ("hxl.sector", "#sector"),
    ("hxl.adm1", "#adm1"),
    ("hxl.activity", "#activity"),
    ("hxl.reached", "#reached"),
    ("hxl.inneed", "#inneed"),
    ("hxl.unit", "#meta+unit"),
    ("hxl.country", "#country"),
    ("hxl.status", "#status"),
    ("hxl.type", "#meta+type"),
    ("hxl.id", "#meta+id"),
    ("hxl.classification", "#meta+classification"),
)
HASHTAGS = [tag for _, tag in COLUMNS]


def quantity(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


def cell(text: str) -> str:
    """User text as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _line(rfa: RfaSummary | None, item: str) -> LineOut | None:
    if rfa is None:
        return None
    return next((line for line in rfa.lines if line.item == item), None)


def rows(sitrep: SitrepOut, language: str) -> list[list[str]]:
    rfas = {r.id: r for r in sitrep.rfas}
    offers = {o.id: o for o in sitrep.offers}
    country = sitrep.incident.country
    out: list[list[str]] = []

    def row(
        org: str,
        item: str,
        rfa: RfaSummary | None,
        activity: str,
        status: str,
        kind: str,
        rid: str,
        label: str,
        reached: OfferLine | None = None,
    ) -> list[str]:
        # In need: the RFA line's request; reached: what this commitment delivered
        # (a task: what the RFA line has received in all).
        line = _line(rfa, item)
        delivered = reached.delivered if reached else (line.delivered if line else None)
        unit = line.unit if line else (reached.unit if reached else "")
        return [
            cell(org),
            CATALOG.get(language, f"sector.{sector_of(item)}"),
            cell(pick(rfa.adm1, language)) if rfa else "",
            cell(activity),
            quantity(delivered) if delivered is not None else "",
            quantity(line.requested) if line else "",
            cell(unit),
            cell(rfa.country if rfa and rfa.country else country),
            cell(status),
            CATALOG.get(language, f"hxl.type.{kind}"),
            cell(rid),
            label,
        ]

    for offer in sitrep.offers:
        if not offer.commitment:
            continue
        rfa = rfas.get(offer.rfa_id)
        for ol in offer.lines:
            line = _line(rfa, ol.item)
            activity = pick(line.description, language) if line else ""
            out.append(
                row(
                    offer.organisation,
                    ol.item,
                    rfa,
                    activity or ol.item,
                    offer.status,
                    "commitment",
                    offer.id,
                    offer.label,
                    ol,
                )
            )
    for task in sitrep.tasks:
        offer: OfferSummary | None = offers.get(task.offer_id)
        rfa = rfas.get(task.rfa_id or (offer.rfa_id if offer else ""))
        item = offer.lines[0].item if offer and offer.lines else ""
        activity = pick(task.activity, language) or task.unit
        out.append(
            row(task.organisation, item, rfa, activity, task.status, "task", task.id, task.label)
        )
    return out


def hxl_csv(sitrep: SitrepOut, language: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([CATALOG.get(language, key) for key, _ in COLUMNS])
    writer.writerow(HASHTAGS)
    writer.writerows(rows(sitrep, language))
    return buffer.getvalue()
