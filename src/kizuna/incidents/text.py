"""An incident's bilingual title and summary, built from structured fields and the catalog.

JMA writes Japanese only; the English comes from the catalog (the project glossary's terms:
震度6強 → "Shindo 6 Upper", 津波注意報 → "Tsunami advisory"), never from a literal here.
JMA place names stay as JMA writes them, beside coordinates an English reader can use.
"""

from __future__ import annotations

from kizuna.core.catalog import Catalog
from kizuna.core.records import Text
from kizuna.core.time import iso
from kizuna.incidents.models import INTENSITIES
from kizuna.incidents.rules import TSUNAMI_RANK, Derived, magnitude_value, tsunami_category

CATALOG = Catalog("kizuna.incidents")


def intensity_text(value: str | None) -> Text | None:
    if value is None:
        return None
    if value in INTENSITIES:
        return CATALOG.text(f"intensity.{value}")
    return CATALOG.text("intensity.other", value=value)


def tsunami_kind_text(code: str, name_ja: str) -> Text:
    """A tsunami category's name: JMA's Japanese as written, English from the catalog."""
    key = f"tsunami.kind.{code}"
    if not CATALOG.has(key):
        return Text(en=name_ja, ja=name_ja)
    known = CATALOG.text(key)
    return Text(en=known.en, ja=name_ja or known.ja)


def _join(parts: list[Text], sep_key: str = "sep.list") -> Text:
    sep = CATALOG.text(sep_key)
    return Text(
        en=sep.en.join(p.en for p in parts if p.en), ja=sep.ja.join(p.ja for p in parts if p.ja)
    )


def _coord(lat: float, lon: float) -> Text:
    ns = "coord.north" if lat >= 0 else "coord.south"
    ew = "coord.east" if lon >= 0 else "coord.west"
    a, b = CATALOG.text(ns, value=f"{abs(lat):.1f}"), CATALOG.text(ew, value=f"{abs(lon):.1f}")
    return Text(en=f"{a.en} {b.en}", ja=f"{a.ja}{b.ja}")


def _place(d: Derived) -> Text:
    h = d.hypocentre
    if h is None or h.lat is None or h.lon is None:
        return CATALOG.text("eq.place_unknown", name=h.name if h else "")
    where = _coord(h.lat, h.lon)
    if h.name:
        return CATALOG.text("eq.place", coords=where.en, name=h.name)
    return where


def _magnitude(d: Derived) -> Text | None:
    if d.magnitude is None:
        return None
    value = magnitude_value(d.magnitude.value)
    if value is None:
        return CATALOG.text("eq.magnitude_unknown")
    return CATALOG.text("eq.magnitude", value=f"{value:.1f}")


def _earthquake(d: Derived) -> tuple[Text, Text]:
    place = _place(d)
    parts = [CATALOG.text("eq.title", place_en=place.en, place_ja=place.ja)]
    mag = _magnitude(d)
    if mag is not None:
        parts.append(mag)
    shindo = intensity_text(d.max_intensity)
    if shindo is not None:
        parts.append(CATALOG.text("eq.max_intensity", en=shindo.en, ja=shindo.ja))
    elif d.forecast_intensity is not None:
        fc = intensity_text(d.forecast_intensity)
        assert fc is not None
        parts.append(CATALOG.text("eq.forecast_intensity", en=fc.en, ja=fc.ja))
    title = _join(parts)
    sentences = []
    if d.origin_time is not None:
        sentences.append(CATALOG.text("eq.origin_time", time=iso(d.origin_time)))
    h = d.hypocentre
    if h is not None:
        sentences.append(CATALOG.text("eq.hypocentre", place_en=place.en, place_ja=place.ja))
        if h.depth_km is not None:
            sentences.append(CATALOG.text("eq.depth", km=f"{h.depth_km:g}"))
    if mag is not None:
        sentences.append(CATALOG.text("eq.magnitude_sentence", en=mag.en, ja=mag.ja))
    if shindo is not None:
        areas = sum(1 for a in d.intensity_areas if a.level == "area")
        sentences.append(CATALOG.text("eq.max_sentence", en=shindo.en, ja=shindo.ja, areas=areas))
    return title, _join(sentences, "sep.sentence")


def _tsunami(d: Derived) -> tuple[Text, Text]:
    by_cat: dict[str, int] = {}
    for track in d.tsunami.values():
        cat = tsunami_category(track.area.kind_code)
        by_cat[cat] = by_cat.get(cat, 0) + 1
    ever = {tsunami_category(a.kind_code) for t in d.tsunami.values() for _, a in t.history}
    top = max(by_cat, key=lambda c: TSUNAMI_RANK[c]) if by_cat else "none"
    if TSUNAMI_RANK[top] >= TSUNAMI_RANK["advisory"]:
        title = CATALOG.text(f"tsunami.title.{top}", areas=by_cat[top])
    else:
        issued = [c for c in ("major_warning", "warning", "advisory") if c in ever]
        key = f"tsunami.title.lifted_{issued[0]}" if issued else f"tsunami.title.{top}"
        title = CATALOG.text(key, areas=by_cat.get(top, 0))
    parts = [
        CATALOG.text(f"tsunami.count.{cat}", areas=n)
        for cat, n in sorted(by_cat.items(), key=lambda kv: -TSUNAMI_RANK[kv[0]])
    ]
    return title, _join(parts, "sep.sentence")


def _cap(d: Derived) -> tuple[Text, Text]:
    def pick(lang: str, attr: str) -> str:
        for info in d.infos:
            if info.language.lower().startswith(lang) and getattr(info, attr):
                return str(getattr(info, attr))
        return ""

    def both(attr: str) -> Text:
        en, ja = pick("en", attr), pick("ja", attr)
        return Text(en=en or ja, ja=ja or en)

    title = both("headline")
    if not title.en:
        title = both("event")
    return title, both("description")


def title_and_summary(d: Derived) -> tuple[Text, Text]:
    if d.source == "cap":
        title, summary = _cap(d)
    elif d.tsunami:
        title, summary = _tsunami(d)
    else:
        title, summary = _earthquake(d)
    if d.state == "cancelled":
        title = CATALOG.text("state.cancelled_title", en=title.en, ja=title.ja)
    return title, summary
