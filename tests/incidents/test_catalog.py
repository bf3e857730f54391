from __future__ import annotations

from kizuna.core.catalog import missing_keys
from kizuna.incidents.models import INTENSITIES
from kizuna.incidents.rules import TSUNAMI_CATEGORY, TSUNAMI_RANK
from kizuna.incidents.text import CATALOG, intensity_text


def test_catalog_is_complete() -> None:
    assert missing_keys("kizuna.incidents") == {"en": [], "ja": []}


def test_every_intensity_class_and_tsunami_category_has_text() -> None:
    for value in INTENSITIES:
        assert CATALOG.has(f"intensity.{value}")
    for code in TSUNAMI_CATEGORY:
        assert CATALOG.has(f"tsunami.kind.{code}")
    for cat in TSUNAMI_RANK:
        assert CATALOG.has(f"tsunami.title.{cat}") and CATALOG.has(f"tsunami.count.{cat}")


def test_glossary_terms() -> None:
    six_upper = intensity_text("6+")
    assert six_upper is not None and (six_upper.en, six_upper.ja) == ("Shindo 6 Upper", "震度6強")
    five_lower = intensity_text("5-")
    assert five_lower is not None and (five_lower.en, five_lower.ja) == (
        "Shindo 5 Lower",
        "震度5弱",
    )
    assert CATALOG.text("tsunami.kind.62").en == "Tsunami advisory"
