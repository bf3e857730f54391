"""Facilities: read once from the CSV the settings name, shown under an UNCLASSIFIED label."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import structlog

from kizuna.core.labels import Classification, Label
from kizuna.core.release import may_release
from kizuna.facilities.models import Facility
from kizuna.facilities.rules import ROW_ERRORS, facility_from_row
from kizuna.kernel.context import Caller, NodeContext

log = structlog.get_logger("kizuna.facilities")

ENV = "KIZUNA_FACILITIES"  # read when the settings name no file


def load_facilities(path: Path | None) -> list[Facility]:
    """Reference facilities from CSV (id,name_en,name_ja,nation,kind,lat,lon); bad rows skipped."""
    if path is None:
        return []
    out: list[Facility] = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    fac = facility_from_row(row)
                except ROW_ERRORS as exc:
                    log.warning("facilities.bad_row", path=str(path), line=n, error=str(exc))
                    continue
                out.append(fac)
    except OSError as exc:
        log.warning("facilities.unreadable", path=str(path), error=str(exc))
    return out


class FacilityService:
    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._facilities: list[Facility] | None = None

    @property
    def label(self) -> Label:
        """Every facility is UNCLASSIFIED, originated by this node's nation."""
        return Label(classification=Classification.UNCLASSIFIED, originator=self.ctx.nation)

    @property
    def path(self) -> Path | None:
        configured = getattr(self.ctx.settings, "csv", "") or os.environ.get(ENV, "")
        if not configured:
            return None
        path = Path(configured)
        return path if path.is_absolute() else self.ctx.root / path

    def all(self) -> list[Facility]:
        """Every facility (read from the file on first use)."""
        if self._facilities is None:
            self._facilities = load_facilities(self.path)
        return self._facilities

    def visible(self, caller: Caller) -> list[Facility]:
        """The facilities ``caller`` may see (all or none: they share one label)."""
        if not may_release(self.label, caller.principal):
            return []
        return self.all()
