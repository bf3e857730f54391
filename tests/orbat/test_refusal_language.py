"""What is wrong with a SIDC, read in English and in Japanese."""

from __future__ import annotations

import pytest

from kizuna.core.errors import Invalid
from kizuna.orbat.models import Name, UnitIn
from kizuna.orbat.service import OrbatService


def test_a_bad_sidc_is_explained_in_the_readers_language() -> None:
    unit = UnitIn(
        label="UNCLASSIFIED",
        name=Name(en="1st Battalion", ja="第1大隊"),
        sidc="20031000001100000000",
        echelon="battalion",
    )
    with pytest.raises(Invalid) as err:
        OrbatService._unit_payload(unit, "JPN")
    assert err.value.render("en") == (
        "bad sidc '20031000001100000000': SIDC version 20 is not 2525D (10, 11 or 13)"
    )
    assert err.value.render("ja") == (
        "sidc '20031000001100000000' が正しくありません: "
        "SIDC の版 20 は 2525D（10、11、13）ではありません"
    )
    assert err.value.extra["errors"] == ["sidc: SIDC version 20 is not 2525D (10, 11 or 13)"]
