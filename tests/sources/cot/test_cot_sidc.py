import pytest

from kizuna.picture.sidc import affiliation_from_cot_type, sidc_from_cot_type


@pytest.mark.parametrize(
    ("cot_type", "sidc"),
    [
        ("a-f-G-U-C", "10031000001211000000"),  # friendly ground unit: infantry
        ("a-f-G-U-C-I", "10031000001211000000"),
        ("a-h-A-M-F", "10060100001101000000"),  # hostile military fixed wing
        ("a-n-A-C-H", "10040100001202000000"),  # neutral civilian rotary wing
        ("a-f-S-C", "10033000001200000000"),  # friendly sea combatant
        ("a-n-S-X", "10043000001400000000"),  # neutral merchant
        ("a-u-U-S", "10013500001100000000"),  # unknown submarine
        ("a-p-P", "10000500000000000000"),  # pending space object
        ("a-s-G-E-V", "10051500001200000000"),  # suspect ground vehicle (equipment set)
        ("a-h-G", "10061000000000000000"),  # hostile ground, no entity
        ("a-f-X", "10031000000000000000"),  # unknown dimension: land units
    ],
)
def test_known_types(cot_type: str, sidc: str) -> None:
    assert sidc_from_cot_type(cot_type) == sidc


def test_exercise_context_and_joker_faker() -> None:
    assert sidc_from_cot_type("a-f-G-U-C", exercise=True)[2] == "1"
    joker, faker = sidc_from_cot_type("a-j-A"), sidc_from_cot_type("a-k-S")
    assert joker[2:4] == "15" and faker[2:4] == "16"


@pytest.mark.parametrize("cot_type", ["", "b-t-f", "a", "a-?-G", "garbage-x-y-z-w", "a-f"])
def test_odd_types_still_give_20_digits(cot_type: str) -> None:
    sidc = sidc_from_cot_type(cot_type)
    assert len(sidc) == 20 and sidc.isdigit() and sidc.startswith("10")


def test_affiliation() -> None:
    assert affiliation_from_cot_type("a-f-G") == "friend"
    assert affiliation_from_cot_type("a-h-A-M-F") == "hostile"
    assert affiliation_from_cot_type("a-a-G") == "assumed friend"
    assert affiliation_from_cot_type("a-n-S") == "neutral"
    assert affiliation_from_cot_type("b-t-f") == "unknown"
