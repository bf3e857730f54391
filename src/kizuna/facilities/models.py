"""Reference facilities and their API shape."""

from __future__ import annotations

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text


class Facility(msgspec.Struct, frozen=True):
    id: str
    name_en: str
    name_ja: str
    nation: str
    kind: str
    lat: float
    lon: float


class FacilityOut(LabelView, kw_only=True):
    """A facility as the API answers it, with the label every facility carries."""

    id: str
    name: Text
    nation: str
    kind: str
    lat: float
    lon: float
