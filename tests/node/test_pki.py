"""Certificates name the holder's country by its real ISO 3166 alpha-2 code."""

from __future__ import annotations

import pytest
from cryptography.x509.oid import NameOID

from kizuna.core.labels import COUNTRIES
from kizuna.kernel.pki import create_ca


@pytest.mark.parametrize(
    ("nation", "alpha2"),
    [("USA", "US"), ("JPN", "JP"), ("KOR", "KR"), ("AUS", "AU"), ("AUT", "AT"), ("PHL", "PH")],
)
def test_country_is_the_alpha2_code(nation: str, alpha2: str) -> None:
    cert, _ = create_ca("n1", nation)
    country = cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    assert country == alpha2


def test_every_known_nation_has_an_alpha2_code() -> None:
    import iso3166

    missing = sorted(c for c in COUNTRIES if c not in iso3166.countries_by_alpha3)
    assert missing == []
