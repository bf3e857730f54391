"""The access check: each instrument's dates, activities, the facility rule, the texts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from kizuna.access.models import ACTIVITIES, ArrangementIn, ArrangementPatch
from kizuna.access.rules import Place, check
from kizuna.access.service import seed_data
from kizuna.core.catalog import missing_keys
from kizuna.core.errors import Forbidden, Invalid
from tests.access.support import Node, start, utc


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return start("jjoc", "JPN", root=tmp_path, upto="access")


# Each instrument, its nation and the day it entered into force (the day in Japan).
INSTRUMENTS = [
    ("us-japan-sofa", "USA", "1960-06-23", "U.S.–Japan SOFA"),
    ("japan-australia-raa", "AUS", "2023-08-13", "Japan–Australia RAA"),
    ("japan-uk-raa", "GBR", "2023-10-15", "Japan–UK RAA"),
    ("japan-philippines-raa", "PHL", "2025-09-11", "Japan–Philippines RAA"),
]


def test_the_data_file_holds_the_four_instruments_in_force_on_their_dates() -> None:
    seeded = {a.key: a for a in seed_data()}
    assert {k: (a.nations, a.in_force, a.short.en) for k, a in seeded.items()} == {
        key: ((nation,), day, short) for key, nation, day, short in INSTRUMENTS
    }
    assert seeded["us-japan-sofa"].short.ja == "日米地位協定"  # the glossary's term
    assert all("円滑化協定" in a.short.ja for k, a in seeded.items() if k.endswith("-raa"))
    for a in seeded.values():
        assert set(a.activities) == set(ACTIVITIES)
        assert a.conditions.en and a.conditions.ja


@pytest.mark.parametrize(("key", "nation", "day", "short"), INSTRUMENTS)
def test_each_instrument_from_00_00_jst_of_its_day(
    node: Node, key: str, nation: str, day: str, short: str
) -> None:
    # 00:00 JST is 15:00 UTC the day before.
    y, m, d = (int(x) for x in day.split("-"))
    midnight = dt.datetime(y, m, d, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    before = node.access.check(
        nation,
        "live_fire",
        None,
        midnight - dt.timedelta(minutes=1),
        midnight + dt.timedelta(hours=2),
    )
    assert (before.allowed, before.reason, before.instrument, before.needed) == (
        False,
        "not_in_force",
        key,
        short,
    )
    assert day in before.detail["en"] and day in before.detail["ja"]
    at = node.access.check(nation, "live_fire", None, midnight, midnight + dt.timedelta(hours=2))
    assert (at.allowed, at.reason, at.instrument, at.needed) == (True, "covered", key, None)


def test_aus_live_fire_before_and_after_the_raa_and_phl_before_its_raa(node: Node) -> None:
    before = node.access.check(
        "AUS", "live_fire", "misawa", utc("2023-08-01T00:00Z"), utc("2023-08-01T06:00Z")
    )
    assert not before.allowed and before.needed == "Japan–Australia RAA"
    assert "日豪円滑化協定" in before.detail["ja"]
    after = node.access.check(
        "AUS", "live_fire", "misawa", utc("2023-09-01T00:00Z"), utc("2023-09-01T06:00Z")
    )
    assert after.allowed and after.instrument == "japan-australia-raa"
    phl = node.access.check(
        "PHL", "maritime", None, utc("2025-09-10T00:00Z"), utc("2025-09-10T06:00Z")
    )
    assert (phl.allowed, phl.reason, phl.needed) == (False, "not_in_force", "Japan–Philippines RAA")


def test_no_instrument_names_what_would_be_needed_and_japan_needs_none(node: Node) -> None:
    kor = node.access.check(
        "KOR", "flight", None, utc("2026-01-01T00:00Z"), utc("2026-01-02T00:00Z")
    )
    assert (kor.allowed, kor.reason, kor.instrument) == (False, "no_instrument", None)
    assert kor.needed == "an access arrangement between Japan and KOR"
    assert "KOR" in kor.detail["ja"] and "取極" in kor.detail["ja"]
    jpn = node.access.check(
        "JPN", "live_fire", "kadena", utc("2026-01-01T00:00Z"), utc("2026-01-02T00:00Z")
    )
    assert (jpn.allowed, jpn.reason) == (True, "host_nation")


def test_partners_at_sofa_facilities_by_the_facility_basis(node: Node) -> None:
    when = (utc("2026-03-01T00:00Z"), utc("2026-03-01T08:00Z"))
    # Kadena: exclusive use (II-1): open to U.S. forces, not to a partner under its RAA.
    kadena = node.access.check("AUS", "flight", "kadena", *when)
    assert (kadena.allowed, kadena.reason, kadena.instrument) == (
        False,
        "facility_not_covered",
        "japan-australia-raa",
    )
    assert kadena.needed == "use of Kadena Air Base by AUS agreed in the Joint Committee"
    assert "嘉手納飛行場" in kadena.detail["ja"] and "日米合同委員会" in kadena.detail["ja"]
    assert node.access.check("USA", "flight", "kadena", *when).allowed
    # Misawa: joint use with the JASDF (II-4(a)): open to the RAA partners too.
    assert node.access.check("GBR", "flight", "misawa", *when).instrument == "japan-uk-raa"
    assert node.access.check("GBR", "flight", "misawa", *when).allowed
    # A JSDF camp is not a SOFA facility: U.S. forces need it granted (II-4(b)).
    asaka = node.access.check("USA", "ground_manoeuvre", "asaka", *when)
    assert (asaka.allowed, asaka.reason) == (False, "facility_not_covered")
    assert node.access.check("AUS", "ground_manoeuvre", "asaka", *when).allowed
    unknown = node.access.check("AUS", "flight", "atlantis", *when)
    assert (unknown.allowed, unknown.reason) == (False, "unknown_facility")


def test_the_rule_reads_grants_exclusions_activities_and_expiry() -> None:
    base = seed_data()[1]  # the Japan–Australia RAA
    assert base.key == "japan-australia-raa"
    kadena = Place(id="kadena", basis="sofa_ii_1")
    misawa = Place(id="misawa", basis="sofa_ii_4a")
    when = (utc("2026-03-01T00:00Z"), utc("2026-03-01T08:00Z"))
    granted = msgspec.structs.replace(base, facilities=("kadena",))
    assert check([granted], "AUS", "flight", "kadena", kadena, *when).allowed
    closed = msgspec.structs.replace(base, excluded=("misawa",))
    assert (
        check([closed], "AUS", "flight", "misawa", misawa, *when).reason == "facility_not_covered"
    )
    narrow = msgspec.structs.replace(base, activities=("training", "port_call"))
    got = check([narrow], "AUS", "live_fire", None, None, *when)
    assert (got.reason, got.needed) == (
        "activity_not_covered",
        "the Japan–Australia RAA extended to live fire",
    )
    ended = msgspec.structs.replace(base, expires="2026-03-01")
    assert check([ended], "AUS", "flight", None, None, *when).allowed  # ends the day of expiry, JST
    late = (utc("2026-03-01T10:00Z"), utc("2026-03-01T16:00Z"))  # 01:00 JST on 2 March
    assert check([ended], "AUS", "flight", None, None, *late).reason == "not_in_force"
    # Of two instruments of one nation, the one that covers wins; else the furthest reason.
    assert check([narrow, granted], "AUS", "live_fire", "kadena", kadena, *when).allowed
    got = check([ended, narrow], "AUS", "live_fire", None, None, *late)
    assert (got.reason, got.instrument) == ("activity_not_covered", narrow.key)  # got further


def test_seeded_once_and_an_administrator_keeps_them(tmp_path: Path) -> None:
    node = start("jjoc", "JPN", root=tmp_path, upto="access")
    mine = node.access.own()
    assert len(mine) == 4 and node.access.seed() == 0
    watch, admin = node.user("w", "watch"), node.user("a", "admin")
    listed = node.access.arrangements(watch)
    assert [a.key for a in listed] == [
        "us-japan-sofa",
        "japan-australia-raa",
        "japan-uk-raa",
        "japan-philippines-raa",
    ]
    assert listed[0].label == "UNCLASSIFIED" and listed[0].origin == "jjoc"
    kor = ArrangementIn(
        key="japan-korea-test",
        name={"en": "Test arrangement", "ja": "試験"},  # type: ignore[arg-type]
        nations=["KOR"],
        in_force="2026-01-01",
        activities=["training"],
        bases=["jsdf"],
    )
    with pytest.raises(Forbidden):
        node.access.create(watch, kor)
    created = node.access.create(admin, kor)
    when = (utc("2026-03-01T00:00Z"), utc("2026-03-01T08:00Z"))
    assert node.access.check("KOR", "training", "asaka", *when).instrument == "japan-korea-test"
    assert node.access.check("KOR", "live_fire", "asaka", *when).reason == "activity_not_covered"
    uk = next(a for a in listed if a.key == "japan-uk-raa")
    node.access.update(admin, uk.id, ArrangementPatch(in_force="2026-06-01"))
    assert node.access.check("GBR", "flight", None, *when).reason == "not_in_force"
    with pytest.raises(Invalid):
        node.access.update(admin, uk.id, ArrangementPatch(expires="2020-01-01"))
    node.access.delete(admin, created.id)
    assert node.access.check("KOR", "training", None, *when).reason == "no_instrument"
    # A restart does not seed again: the administrator's changes stand.
    again = start("jjoc", "JPN", root=tmp_path, backend=node.ctx.backend, upto="access")
    assert again.access.check("GBR", "flight", None, *when).reason == "not_in_force"
    assert len(again.access.own()) == 4


def test_the_cli_load_is_all_or_nothing(node: Node) -> None:
    good = {
        "key": "japan-uk-raa",
        "name": {"en": "Japan–UK RAA (amended)"},
        "short": {"en": "Japan–UK RAA", "ja": "日英円滑化協定"},
        "nations": ["GBR"],
        "in_force": "2023-10-15",
        "activities": ["training"],
        "bases": ["jsdf"],
    }
    with pytest.raises(Invalid):
        node.access.load([good, {**good, "key": "x", "in_force": "15 Oct 2023"}])
    when = (utc("2026-03-01T00:00Z"), utc("2026-03-01T08:00Z"))
    assert node.access.check("GBR", "flight", None, *when).allowed  # nothing applied
    assert node.access.load([good]) == ["japan-uk-raa.jjoc"]
    assert node.access.check("GBR", "flight", None, *when).reason == "activity_not_covered"


def test_catalogs_have_every_key_in_both_languages() -> None:
    assert missing_keys("kizuna.access") == {"en": [], "ja": []}
    assert missing_keys("kizuna.facilities") == {"en": [], "ja": []}
