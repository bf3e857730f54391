"""The suite runs the code of the checkout it lives in, not an installed copy from elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import kizuna

ROOT = Path(__file__).resolve().parents[1]


def test_kizuna_is_imported_from_this_checkout() -> None:
    assert Path(kizuna.__file__).resolve().is_relative_to(ROOT / "src"), kizuna.__file__


def test_interpreter_is_this_checkouts_venv() -> None:
    # `make test` runs the venv that `make install` built here, never a copied one.
    assert Path(sys.prefix).resolve() == (ROOT / ".venv").resolve() or not (ROOT / ".venv").exists()
