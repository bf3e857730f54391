"""Reading an MSEL from CSV: good rows, bad rows named by number, all or nothing."""

from __future__ import annotations

import pytest

from kizuna.core.errors import Invalid
from kizuna.exercises.models import ExerciseStateIn
from kizuna.exercises.msel import MselError, parse_msel, parse_time
from tests.exercises.inproc import exercise_in, start

HEADER = (
    "seq,time,move,from_org,to_org,to_node,delivery,description_en,description_ja,hidden,lat,lon\n"
)
GOOD = (
    HEADER
    + "1,00:30,1,EXCON,JJOC J3,jjoc,request,Vessel aground,座礁船,no,34.2,132.5\n"
    + "2,1+02:00,1,EXCON,AUS LO,aus,report,Port closed,港閉鎖,yes,,\n"
    + "\n"
    + "3,-01:00,0,EXCON,USFJ J3,,phone,Comms check,通信確認,,,\n"
)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("00:30", 30.0), ("1+02:00", 1560.0), ("-01:15", -75.0), ("120:00", 7200.0)],
)
def test_time_relative_to_startex(text: str, minutes: float) -> None:
    assert parse_time(text) == minutes


@pytest.mark.parametrize("text", ["0:60", "1h", "", "1+2", "+01:00"])
def test_bad_times(text: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(text)


def test_good_msel() -> None:
    rows = parse_msel("\ufeff" + GOOD)
    assert [(r.seq, r.offset_minutes, r.delivery, r.hidden) for r in rows] == [
        (1, 30.0, "request", False),
        (2, 1560.0, "report", True),
        (3, -60.0, "phone", False),
    ]
    assert rows[0].position is not None and rows[0].position.lat == 34.2
    assert rows[1].description.ja == "港閉鎖" and rows[2].to_node is None


def test_every_bad_row_is_named() -> None:
    bad = (
        HEADER
        + "1,00:30,1,EXCON,JJOC,jjoc,request,ok,,no,,\n"
        + "x,00:30,1,EXCON,JJOC,jjoc,request,bad seq,,no,,\n"
        + "3,25:99,1,EXCON,JJOC,jjoc,request,bad time,,no,,\n"
        + "4,00:30,1,EXCON,JJOC,jjoc,fax,bad method,,no,,\n"
        + "1,00:40,1,EXCON,JJOC,jjoc,request,seq again,,maybe,,\n"
        + "6,00:30,1,EXCON,JJOC,jjoc,request,half a place,,no,34,\n"
    )
    with pytest.raises(MselError) as err:
        parse_msel(bad)
    rows = [p.split(":")[0] for p in err.value.problems]
    assert rows == ["row 3", "row 4", "row 5", "row 6", "row 7"]


def test_header_is_checked() -> None:
    with pytest.raises(MselError, match="row 1: unknown columns colour"):
        parse_msel("seq,time,from_org,to_org,description_en,colour\n")
    with pytest.raises(MselError, match="missing columns description_en"):
        parse_msel("seq,time,from_org,to_org\n1,00:10,a,b\n")
    with pytest.raises(MselError, match="no injects"):
        parse_msel(HEADER)


def test_import_is_all_or_nothing() -> None:
    us = start("usfj", "USA")
    eid = us.service.create_exercise(us.control(), exercise_in()).id
    # Row 3 reads well but names a node outside the exercise: nothing lands.
    bad = GOOD.replace("USFJ J3,,phone", "USFJ J3,pacflt,request")
    with pytest.raises(Invalid) as err:
        us.service.import_msel(us.control(), eid, bad)
    assert "seq 3" in err.value.detail and "pacflt" in err.value.detail
    assert us.service.injects(us.control(), eid) == []
    result = us.service.import_msel(us.control(), eid, GOOD)
    assert result.imported == 3
    assert [i.seq for i in us.service.injects(us.control(), eid)] == [3, 1, 2]
    assert all(i.exercise and i.state == "DRAFT" for i in result.injects)
    with pytest.raises(Invalid, match="seq 1 is taken"):
        us.service.import_msel(us.control(), eid, GOOD)
    us.service.act(us.control(), eid, ExerciseStateIn(action="cancel"))
    with pytest.raises(Exception, match="ended"):
        us.service.import_msel(us.control(), eid, GOOD)
