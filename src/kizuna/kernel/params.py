"""Query parameters several domains' routes share, documented once."""

from __future__ import annotations

import re
from typing import Annotated

from litestar.params import QueryParameter

# A bbox as the document gives it and the routes check it: four decimal numbers within
# range (a mantissa in range with a negative exponent, as JavaScript writes 1e-7, included).
# The document cannot say that minlat is at most maxlat: the routes' parse refuses it.
_EXP = "(?:[eE]-[0-9]+)?"
_LON = rf"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?){_EXP}"
_LAT = rf"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?){_EXP}"
BBOX_PATTERN = f"^{_LON},{_LAT},{_LON},{_LAT}$"
MAX_BBOX = 200  # longer is refused
BBOX = re.compile(BBOX_PATTERN[:-1] + r"\Z")
BBoxQuery = Annotated[
    str | None,
    QueryParameter(
        description="minlon,minlat,maxlon,maxlat (degrees, minlat at most maxlat); minlon "
        "greater than maxlon crosses the antimeridian",
        schema_extra={"pattern": BBOX_PATTERN, "max_length": MAX_BBOX},
    ),
]


def bbox_form_problem(text: str) -> str | None:
    """What is wrong with the form of a bbox (None: four numbers in range, or too long to
    match here: the parse then says so)."""
    if len(text) <= MAX_BBOX and BBOX.match(text) is None:
        return "bbox needs four decimal numbers: minlon,minlat,maxlon,maxlat"
    return None
