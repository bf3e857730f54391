"""SITREPs per reader on a node with the real incidents and relief services (assistance:
the agreed reads, see support.py): content, banner, numbering, PDF and HXL."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kizuna.core.catalog import missing_keys
from kizuna.core.errors import Conflict, Invalid, NotFound
from kizuna.sitrep.hxl import HASHTAGS, hxl_csv
from kizuna.sitrep.models import SITREP, PeriodIn, PersonIn, SitrepIn
from kizuna.sitrep.render import FontsMissing, render_pdf
from tests.sitrep.pdftext import pdf_text
from tests.sitrep.support import Scenario

BILATERAL_ONLY = (
    "rfa-fuel",
    "offer-usa",
    "task-usa",
    "Bilateral fuel plan",
    "日米燃料計画",
    "小松基地",
)


def squeeze(text: str) -> str:
    """Text without whitespace: PDF text objects break lines where the layout does."""
    return "".join(text.split())


def issue(version: str | None = None) -> SitrepIn:
    return SitrepIn(
        authorised_by=PersonIn(user="Col. Sato", organisation="JJOC"),
        version=version,  # type: ignore[arg-type]
        confidence="HighlyConfident",
        next_contact="2024-01-02T09:00:00Z",
    )


def test_catalog_is_complete() -> None:
    assert missing_keys("kizuna.sitrep") == {"en": [], "ja": []}


def test_each_reader_gets_only_what_their_nation_may_see() -> None:
    s = Scenario()
    ours = s.sitrep.build(s.usa, s.incident_id)
    theirs = s.sitrep.build(s.aus, s.incident_id)

    assert [r.id for r in ours.rfas] == ["rfa-water", "rfa-fuel"]
    assert {o.id for o in ours.offers} == {"offer-aus", "offer-usa"}
    assert {t.id for t in ours.tasks} == {"task-aus", "task-usa"}
    assert len(ours.shelters) == 2
    assert ours.label == "SECRET//REL TO USA, JPN"

    assert [r.id for r in theirs.rfas] == ["rfa-water"]
    assert [o.id for o in theirs.offers] == ["offer-aus"]
    assert [t.id for t in theirs.tasks] == ["task-aus"]
    assert [x.name.en for x in theirs.shelters] == ["Wajima Gymnasium"]
    # the banner: the highest label in it, releasable where every item is
    assert theirs.label == "SECRET//REL TO USA, AUS, JPN"
    assert theirs.banner.en == "SECRET//REL TO USA, AUS, JPN"
    assert theirs.banner.ja == "SECRET//REL TO USA, AUS, JPN　極秘//提供可能範囲 USA・AUS・JPN"
    assert theirs.totals.rfas == 1 and theirs.totals.commitments == 1
    assert theirs.totals.rollups == {"NONE": 0, "PARTIAL": 1, "COMPLETE": 0}

    encoded = msgspec.json.encode(theirs).decode()
    for secret in BILATERAL_ONLY:
        assert secret not in encoded
    # the incident summary as the incidents service holds it
    inc = theirs.incident
    assert inc.magnitude == 7.6 and inc.max_intensity == "7" and inc.country == "JPN"
    assert inc.hypocentre is not None and (inc.hypocentre.lat, inc.hypocentre.lon) == (37.5, 137.2)
    assert [a.name.ja for a in inc.areas] == ["石川県", "新潟県"]
    assert [a.code for a in inc.tsunami_areas] == ["191"]


def test_a_service_that_forgets_the_release_check_still_cannot_leak() -> None:
    s = Scenario(leaky=True)
    theirs = s.sitrep.build(s.aus, s.incident_id)
    encoded = msgspec.json.encode(theirs).decode()
    assert [r.id for r in theirs.rfas] == ["rfa-water"]
    for secret in BILATERAL_ONLY:
        assert secret not in encoded


def test_numbers_increase_and_the_version_follows() -> None:
    s = Scenario()
    first = s.sitrep.issue(s.usa, s.incident_id, issue())
    second = s.sitrep.issue(s.usa, s.incident_id, issue())
    with pytest.raises(Conflict):
        s.sitrep.issue(s.usa, s.incident_id, issue("Initial"))
    final = s.sitrep.issue(s.usa, s.incident_id, issue("Final"))
    assert [(x.number, x.version) for x in (first, second, final)] == [
        (1, "Initial"),
        (2, "Update"),
        (3, "Final"),
    ]
    with pytest.raises(Conflict):
        s.sitrep.issue(s.usa, s.incident_id, issue())

    # recorded through the event log: owned by this node, labelled as the incident
    state = s.ctx.events.get(SITREP, final.issue_id or "")
    assert state is not None and state.origin == "usfj"
    assert state.label.render() == "UNCLASSIFIED"
    assert final.authorised_by is not None and final.authorised_by.user == "Col. Sato"
    assert final.prepared_by.user == "alice" and final.prepared_by.organisation == "USFJ (USA)"
    assert final.confidence == "HighlyConfident"
    assert final.next_contact == "2024-01-02T09:00:00.000Z"
    # the next period starts where the last ended
    assert second.period.start == first.period.end

    # another nation's reader gets the same numbered issue, built for them
    seen = s.sitrep.current(s.aus, s.incident_id)
    assert (seen.number, seen.version) == (3, "Final")
    assert [r.id for r in seen.rfas] == ["rfa-water"]
    assert s.sitrep.current(s.aus, s.incident_id, number=1).version == "Initial"


def test_sitreps_issued_at_the_same_instant_get_distinct_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight watch officers press "issue" together: eight numbers, none twice (a slow
    store between reading the last number and appending the next is simulated)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from kizuna.sitrep import rules

    next_issue = rules.next_issue

    def slow_next_issue(*args: Any) -> Any:
        time.sleep(0.01)
        return next_issue(*args)

    monkeypatch.setattr(rules, "next_issue", slow_next_issue)
    s = Scenario()
    with ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(lambda _: s.sitrep.issue(s.usa, s.incident_id, issue()), range(8)))
    assert sorted(x.number for x in issued) == list(range(1, 9))
    assert [x.fields["number"] for x in s.sitrep.issues(None, s.incident_id)] == list(range(1, 9))


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    s = Scenario()
    bad = SitrepIn(
        authorised_by=PersonIn(user="x"),
        period=PeriodIn(start="2024-01-02T00:00:00Z", end="2024-01-01T00:00:00Z"),
    )
    with pytest.raises(Invalid):
        s.sitrep.issue(s.usa, s.incident_id, bad)
    assert list(s.ctx.events.scan(SITREP)) == []


def test_an_unknown_incident_is_not_found() -> None:
    s = Scenario()
    with pytest.raises(NotFound):
        s.sitrep.build(s.usa, "jma-nope")


def test_the_pdf_carries_the_banner_on_every_page_in_the_readers_language() -> None:
    s = Scenario()
    sitrep = s.sitrep.issue(s.aus, s.incident_id, issue())
    en = render_pdf(sitrep, "en")
    ja = render_pdf(sitrep, "ja")
    assert en.startswith(b"%PDF") and ja.startswith(b"%PDF")

    text = pdf_text(en)
    pages = text.split("\f")
    banner = squeeze("SECRET//REL TO USA, AUS, JPN")
    for page in pages:  # top and bottom
        assert squeeze(page).count(banner) >= 2, page[:200]
    flat = squeeze(text)
    for heading in (
        "Situation report",
        "Requests for assistance",
        "Evacuation shelters",
        "Relief supplies",
    ):
        assert squeeze(heading) in flat
    assert "Waterfor Wajima".replace(" ", "") in flat
    for secret in BILATERAL_ONLY:
        assert squeeze(secret) not in flat

    jtext = squeeze(pdf_text(ja))
    assert squeeze("SECRET//REL TO USA, AUS, JPN　極秘//提供可能範囲 USA・AUS・JPN") in jtext
    for heading in (
        "状況報告",
        "支援要請",
        "支援の申出と確約",
        "避難所",
        "救援物資",
        "報告番号",
        "初報",
        "震源",
        "最大震度",
    ):
        assert heading in jtext, heading
    assert "Requests for assistance".replace(" ", "") not in jtext


def test_typst_markup_in_user_text_is_shown_as_text() -> None:
    s = Scenario()
    hostile = '#panic("boom") ] [ *x* $y$ `z` <l> @r #import "/etc/passwd": a'
    s.assistance.items["rfa"][0]["title"] = {"en": hostile, "ja": hostile}
    pdf = render_pdf(s.sitrep.build(s.usa, s.incident_id), "en")
    assert pdf.startswith(b"%PDF")
    assert squeeze(hostile) in squeeze(pdf_text(pdf))


def test_without_the_fonts_there_is_no_pdf(tmp_path: Path) -> None:
    s = Scenario()
    with pytest.raises(FontsMissing, match="fonts-noto-cjk"):
        render_pdf(s.sitrep.build(s.usa, s.incident_id), "ja", str(tmp_path))


def test_who_does_what_where_is_hxl_per_reader() -> None:
    s = Scenario()
    ours = list(csv.reader(io.StringIO(hxl_csv(s.sitrep.build(s.usa, s.incident_id), "en"))))
    assert ours[0][:6] == [
        "Organisation",
        "Sector",
        "Prefecture",
        "Activity",
        "Reached (delivered)",
        "In need (requested)",
    ]
    assert ours[1] == HASHTAGS
    assert ours[1][:6] == ["#org", "#sector", "#adm1", "#activity", "#reached", "#inneed"]
    rows = [dict(zip(ours[1], r, strict=True)) for r in ours[2:]]
    # the accepted offer (a commitment) and both tasks; the open offer is not a commitment
    assert sorted(r["#meta+id"] for r in rows) == ["offer-aus", "task-aus", "task-usa"]
    water = next(r for r in rows if r["#meta+id"] == "offer-aus")
    assert water["#org"] == "AUS" and water["#adm1"] == "Ishikawa Prefecture"
    assert water["#reached"] == "100000" and water["#inneed"] == "900000"
    assert water["#sector"] == "Water, sanitation and hygiene" and water["#country"] == "JPN"
    assert water["#meta+classification"] == "SECRET//REL TO USA, AUS, JPN"

    theirs = list(csv.reader(io.StringIO(hxl_csv(s.sitrep.build(s.aus, s.incident_id), "ja"))))
    assert theirs[0][0] == "組織" and theirs[1] == HASHTAGS
    assert sorted(r[HASHTAGS.index("#meta+id")] for r in theirs[2:]) == ["offer-aus", "task-aus"]
    assert theirs[2][HASHTAGS.index("#adm1")] == "石川県"


def test_spreadsheet_formulas_in_user_text_are_defused() -> None:
    s = Scenario()
    s.assistance.items["task"][0]["description"] = {"en": '=HYPERLINK("x")', "ja": "=1+1"}
    rows = list(csv.reader(io.StringIO(hxl_csv(s.sitrep.build(s.usa, s.incident_id), "en"))))
    activity = [r[HASHTAGS.index("#activity")] for r in rows[2:]]
    assert '\'=HYPERLINK("x")' in activity
