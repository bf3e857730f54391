"""An exercise's, an inject's and an MSEL's problems, read in English and in Japanese."""

from __future__ import annotations

import msgspec
import pytest

from kizuna.core.errors import Invalid
from kizuna.exercises.models import StageIn
from kizuna.exercises.msel import MselError, parse_msel
from tests.exercises.inproc import exercise_in, start

HEADER = (
    "seq,time,move,from_org,to_org,to_node,delivery,description_en,description_ja,hidden,lat,lon\n"
)


def test_msel_row_problems_are_joined_in_the_readers_language() -> None:
    bad = (
        HEADER
        + "x,00:30,1,EXCON,JJOC,jjoc,request,bad seq,,no,,\n"
        + "3,25:99,1,EXCON,JJOC,jjoc,request,bad time,,no,,\n"
    )
    with pytest.raises(MselError) as err:
        parse_msel(bad)
    assert err.value.problems == [
        "row 2: seq 'x' is not a whole number",
        "row 3: time '25:99' is not HH:MM, -HH:MM or D+HH:MM",
    ]
    assert err.value.message.render("ja") == (
        "2 行目: seq の値 'x' が整数ではありません; "
        "3 行目: 時刻 '25:99' が HH:MM、-HH:MM、D+HH:MM のいずれの形式でもありません"
    )


def test_an_exercises_problems_come_in_japanese_and_in_english() -> None:
    us = start("usfj", "USA")
    stage = StageIn(stage="execution", start="2030-02-05T00:00:00Z", end="2030-02-04T00:00:00Z")
    data = msgspec.structs.replace(exercise_in(), stages=[stage, stage])
    with pytest.raises(Invalid) as err:
        us.service.create_exercise(us.control(), data)
    assert err.value.render("en") == (
        "stage execution: ends before it starts; stage execution: ends before it starts; "
        "a stage is given twice"
    )
    assert err.value.extra["errors"][-1] == "a stage is given twice"
    assert err.value.render("ja").endswith("同じ段階が重複して指定されています")
