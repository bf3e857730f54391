"""Shared fixtures for the AIS tests: the read-only sample data and a sink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kizuna.core.labels import Classification, Label
from kizuna.picture.models import Track

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT.parent / "shared" / "data")) / "ais"
SAMPLE_FILES = ("gpsd_sample.aivdm", "libais_test.aivdm", "pyais_nmea_data_sample.txt")
UNCLASSIFIED = Label(classification=Classification.UNCLASSIFIED)


@pytest.fixture
def data_dir() -> Path:
    if not DATA.is_dir():
        need_data(f"shared AIS data not found at {DATA}")
    return DATA


def need_data(message: str) -> None:
    """Skip a test whose shared data is missing, or, with ``CI`` set, fail it."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set; set KIZUNA_SHARED_DATA)", pytrace=False)
    pytest.skip(message)


class Collect:
    """A sink that keeps every batch it is given."""

    def __init__(self) -> None:
        self.batches: list[list[Track]] = []

    def __call__(self, tracks: list[Track]) -> None:
        self.batches.append(tracks)

    @property
    def tracks(self) -> list[Track]:
        return [t for batch in self.batches for t in batch]

    def latest(self, track_id: str) -> Track:
        return [t for t in self.tracks if t.id == track_id][-1]


@pytest.fixture
def collect() -> Collect:
    return Collect()
