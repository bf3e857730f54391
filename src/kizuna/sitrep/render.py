"""A SITREP as a PDF in one language: typst with Noto Sans CJK, the classification banner
at the top and bottom of every page, every heading from the catalog."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from kizuna.core.catalog import Catalog
from kizuna.core.errors import KizunaError
from kizuna.core.label_view import LabelView
from kizuna.core.records import Text
from kizuna.core.time import parse_iso
from kizuna.sitrep.models import SitrepOut
from kizuna.sitrep.rules import pick
from kizuna.sitrep.template import TEMPLATE

CATALOG = Catalog("kizuna.sitrep")

# Debian's fonts-noto-cjk; ``[sitrep] fonts = "…"`` in node.toml points elsewhere.
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc")
FONT = "Noto Sans CJK JP"

# U.S. banner colours (as the web's banner): background, text.
COLOURS = {
    "UNCLASSIFIED": ("#007a33", "#ffffff"),
    "CONFIDENTIAL": ("#0033a0", "#ffffff"),
    "SECRET": ("#c8102e", "#ffffff"),
    "TOP SECRET": ("#ff8c00", "#000000"),
}


class FontsMissing(KizunaError):
    """The PDF's fonts are not installed: no PDF rather than one that cannot show Japanese."""

    status = 503
    kind = "fonts-missing"


def font_dir(configured: str | None = None) -> Path:
    """The folder holding Noto Sans CJK, checked; :class:`FontsMissing` says what to do."""
    where = Path(configured) if configured else FONT_DIR
    missing = [name for name in FONT_FILES if not (where / name).is_file()]
    if missing:
        raise FontsMissing(
            f"SITREP PDF fonts missing in {where}: {', '.join(missing)} "
            "(install Debian's fonts-noto-cjk, or set [sitrep] fonts in node.toml)",
            missing=missing,
        )
    return where


_SOURCE = TEMPLATE.encode()
_compilers: dict[Path, Any] = {}
_lock = threading.Lock()


def compile_pdf(data: dict[str, Any], fonts: Path, timestamp: int | None = None) -> bytes:
    """The template compiled with ``data``: one typst compiler per font folder, reused, so
    the fonts are indexed once; compiles are serialised (a compiler is not thread-safe)."""
    import typst

    with _lock:
        compiler = _compilers.get(fonts)
        if compiler is None:
            compiler = typst.Compiler(font_paths=[str(fonts)], ignore_system_fonts=True)
            _compilers[fonts] = compiler
        # the source goes with every compile: a Compiler keeps given bytes for one only
        pdf: bytes = compiler.compile(
            input=_SOURCE,
            format="pdf",
            sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
            timestamp=timestamp,
        )
    return pdf


def render_pdf(sitrep: SitrepOut, language: str, fonts: str | None = None) -> bytes:
    where = font_dir(fonts)
    return compile_pdf(document(sitrep, language), where, int(parse_iso(sitrep.generated_at)))


# -- the document's data ----------------------------------------------------------


def amount(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def document(s: SitrepOut, lang: str) -> dict[str, Any]:
    """Everything the template shows, as strings in the reader's language."""

    def t(key: str, **values: Any) -> str:
        return CATALOG.get(lang, key, **values)

    def p(text: Text) -> str:
        return pick(text, lang)

    def named(prefix: str, value: str) -> str:
        key = f"{prefix}.{value}"
        return t(key) if value and CATALOG.has(key) else value

    def person(who: Any) -> str:
        if who is None:
            return ""
        return t("person", user=who.user, organisation=who.organisation or "—")

    def mark(item: LabelView) -> str:
        return item.label if lang == "en" else f"{item.label} {item.label_ja}"

    def table(
        heading: str, columns: list[tuple[str, str]], rows: list[list[str]]
    ) -> dict[str, Any]:
        return {
            "heading": t(heading),
            "columns": [t(key) for key, _ in columns],
            "align": [align for _, align in columns],
            "rows": rows,
        }

    L, R = "left", "right"
    inc = s.incident
    series = (
        t("series", number=s.number, version=t(f"version.{s.version}"))
        if s.number is not None
        else t("preview")
    )
    header = [
        [t("field.incident"), p(inc.title) or inc.id],
        [t("field.number"), str(s.number) if s.number is not None else t("preview")],
        [t("field.version"), t(f"version.{s.version}")],
        [t("field.period"), t("range", start=s.period.start, end=s.period.end)],
        [t("field.confidence"), t(f"confidence.{s.confidence}")],
        [t("field.next_contact"), s.next_contact or "—"],
        [t("field.prepared_by"), person(s.prepared_by)],
        [t("field.authorised_by"), person(s.authorised_by) or "—"],
        [t("field.issued_at"), s.issued_at or "—"],
        [t("field.generated_at"), s.generated_at],
        [t("field.generated_for"), person(s.generated_for)],
        [t("field.classification"), p(s.banner)],
    ]
    hypo = inc.hypocentre
    where = ""
    if hypo is not None:
        where = p(hypo.name)
        if hypo.lat is not None and hypo.lon is not None:
            depth = amount(hypo.depth_km) if hypo.depth_km is not None else "—"
            where += " " + t("incident.position", lat=hypo.lat, lon=hypo.lon, depth=depth)
    incident = [
        [t("incident.title"), p(inc.title)],
        [t("incident.summary"), p(inc.summary)],
        [t("incident.hypocentre"), where.strip() or "—"],
        [t("incident.magnitude"), "—" if inc.magnitude is None else f"{inc.magnitude:.1f}"],
        [t("incident.max_intensity"), p(inc.max_intensity_text) or "—"],
        [t("incident.state"), named("state", inc.state) or "—"],
        [t("incident.updated_at"), inc.updated_at or "—"],
        [t("field.classification"), mark(inc)],
    ]
    tot = s.totals
    totals = [
        [t("totals.rfas"), str(tot.rfas)],
        [t("totals.lines"), t("totals.lines_value", lines=tot.lines, gaps=tot.lines_with_gap)],
        [
            t("totals.rollups"),
            t(
                "totals.rollups_value",
                complete=tot.rollups.get("COMPLETE", 0),
                partial=tot.rollups.get("PARTIAL", 0),
                none=tot.rollups.get("NONE", 0),
            ),
        ],
        [
            t("totals.offers"),
            t("totals.offers_value", offers=tot.offers, commitments=tot.commitments),
        ],
        [t("totals.tasks"), str(tot.tasks)],
        [
            t("totals.shelters"),
            t(
                "totals.shelters_value",
                shelters=tot.shelters,
                population=amount(tot.shelter_population),
                capacity=amount(tot.shelter_capacity),
            ),
        ],
    ]
    titles = {r.id: p(r.title) or r.id for r in s.rfas}
    sections: list[dict[str, Any]] = [
        {"heading": t("section.header"), "fields": header},
        {"heading": t("section.incident"), "fields": incident},
        table(
            "section.areas",
            [("col.area", L), ("col.code", L), ("col.intensity", L)],
            # prefectures and forecast areas (cities would run to pages)
            [[p(a.name), a.code, p(a.intensity_text)] for a in inc.areas if a.level != "city"],
        ),
        table(
            "section.tsunami",
            [("col.area", L), ("col.code", L), ("col.tsunami_kind", L), ("col.status", L)],
            [
                [p(a.name), a.code, p(a.kind_name) or a.kind, named("tsunami", a.status)]
                for a in inc.tsunami_areas
            ],
        ),
        {"heading": t("section.totals"), "fields": totals},
        table(
            "section.rfas",
            [
                ("col.title", L),
                ("col.status", L),
                ("col.priority", L),
                ("col.location", L),
                ("col.adm1", L),
                ("col.rollup", L),
                ("col.classification", L),
            ],
            [
                [
                    titles[r.id],
                    p(r.status_name),
                    named("priority", r.priority),
                    p(r.location),
                    p(r.adm1),
                    t(f"rollup.{r.rollup}"),
                    mark(r),
                ]
                for r in s.rfas
            ],
        ),
        table(
            "section.lines",
            [
                ("col.rfa", L),
                ("col.item", L),
                ("col.unit", L),
                ("col.requested", R),
                ("col.offered", R),
                ("col.committed", R),
                ("col.in_transit", R),
                ("col.delivered", R),
                ("col.gap", R),
            ],
            [
                [
                    titles[r.id],
                    p(line.description) or line.item,
                    line.unit,
                    amount(line.requested),
                    amount(line.offered),
                    amount(line.committed),
                    amount(line.in_transit),
                    amount(line.delivered),
                    amount(line.gap),
                ]
                for r in s.rfas
                for line in r.lines
            ],
        ),
        table(
            "section.offers",
            [
                ("col.organisation", L),
                ("col.rfa", L),
                ("col.status", L),
                ("col.commitment", L),
                ("col.lines", L),
                ("col.classification", L),
            ],
            [
                [
                    " ".join(x for x in (o.organisation, o.unit or o.asset) if x),
                    titles.get(o.rfa_id, o.rfa_id),
                    p(o.status_name),
                    t("yes") if o.commitment else t("no"),
                    "; ".join(f"{x.item} {amount(x.quantity)} {x.unit}" for x in o.lines),
                    mark(o),
                ]
                for o in s.offers
            ],
        ),
        table(
            "section.tasks",
            [
                ("col.organisation", L),
                ("col.executing_unit", L),
                ("col.activity", L),
                ("col.due", L),
                ("col.status", L),
                ("col.classification", L),
            ],
            [
                [x.organisation, x.unit, p(x.activity), x.due, p(x.status_name), mark(x)]
                for x in s.tasks
            ],
        ),
        table(
            "section.shelters",
            [
                ("col.shelter", L),
                ("col.municipality", L),
                ("col.capacity_day", R),
                ("col.capacity_night", R),
                ("col.population_day", R),
                ("col.population_night", R),
                ("col.status", L),
                ("col.classification", L),
            ],
            [
                [
                    p(x.name),
                    p(x.municipality),
                    amount(x.capacity_day),
                    amount(x.capacity_night),
                    amount(x.population_day),
                    amount(x.population_night),
                    p(x.status_name),
                    mark(x),
                ]
                for x in s.shelters
            ],
        ),
        table(
            "section.stocks",
            [
                ("col.site", L),
                ("col.item", L),
                ("col.quantity", R),
                ("col.unit", L),
                ("col.classification", L),
            ],
            [
                [p(x.site), p(x.item_name) or x.item, amount(x.quantity), x.unit, mark(x)]
                for x in s.stocks
            ],
        ),
    ]
    bg, fg = COLOURS.get(s.classification, COLOURS["TOP SECRET"])
    return {
        "lang": lang,
        "font": FONT,
        "banner": p(s.banner),
        "banner_bg": bg,
        "banner_fg": fg,
        "title": t("title"),
        "subtitle": p(inc.title) or inc.id,
        "series": series,
        "page": t("page"),
        "none": t("none"),
        "sections": sections,
    }
