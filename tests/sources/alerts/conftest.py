"""Fixtures of the alerts tests: the shared JMA bulletins (read in place) and our CAP corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
JMA = Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT.parent / "shared" / "data")) / "jma"
CAP = Path(__file__).resolve().parent / "cap"


@pytest.fixture
def jma_dir() -> Path:
    if not JMA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared JMA data not found at {JMA} (set KIZUNA_SHARED_DATA)")
        pytest.skip(f"shared JMA data not found at {JMA}")
    return JMA


@pytest.fixture
def cap_dir() -> Path:
    return CAP
