"""The ``[mda]`` table: detection thresholds (the issue's defaults) and the domain's bounds.

The detectors stay pure and take their own ``...Config`` objects; the service maps these
settings onto them (:func:`kizuna.mda.service.pipeline_config`). Ports ("away from port",
"at least 10 km from a port") come from a CSV (``id,name_en,name_ja,country,lat,lon,…``):
``ports_csv`` names it (relative to the node directory), else the shared data's
``reference/ports.csv`` when present (``KIZUNA_SHARED_DATA``, or ``../shared/data`` beside
the repository), else no ports (every place counts as away from port).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import msgspec

from kizuna.kernel.contract import PluginSettings

HOUR = 3600.0


class Port(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name_en: str
    name_ja: str
    lat: float
    lon: float


class MdaSettings(PluginSettings, kw_only=True):
    """The ``[mda]`` table of ``node.toml``; ``enabled = false`` turns detection off."""

    gap_s: float = 6 * HOUR  # no position for this long: a gap (GFW uses 12 h)
    loiter_speed_kn: float = 2.0  # mean implied speed below this ...
    loiter_s: float = 2 * HOUR  # ... for this long, away from port: loitering
    loiter_port_distance_m: float = 5_000.0  # "away from port" for loitering
    port_distance_m: float = 10_000.0  # an encounter is at least this far from a port
    encounter_distance_m: float = 500.0  # two vessels within this ...
    encounter_s: float = 2 * HOUR  # ... for more than this ...
    encounter_speed_kn: float = 2.0  # ... with median speed below this: an encounter
    split_speed_kn: float = 50.0  # implied speed above this splits one MMSI's identity
    zone_hysteresis_m: float = 100.0  # the band about a zone's edge where a fix decides nothing
    zone_dwell_s: float = 600.0  # inside a zone this long: a dwell (then updated as often)
    ports_csv: str = ""  # default: the shared data's reference/ports.csv, if present
    # Bounds of the domain (not detection): writes, queue, stored evidence, coverage.
    update_interval_s: float = 600.0  # data seconds between writes of an open event's updates
    queue_max: int = 200_000  # fixes waiting for the detection worker; beyond: dropped, counted
    max_evidence: int = 64  # positions stored with an event (first and last halves kept)
    coverage_s: float = 24 * HOUR  # partner fixes and closed gaps kept for coverage

    def __post_init__(self) -> None:
        for key in (
            "gap_s",
            "loiter_s",
            "encounter_s",
            "encounter_distance_m",
            "split_speed_kn",
            "update_interval_s",
        ):
            if getattr(self, key) <= 0:
                raise ValueError(f"[mda] {key} must be positive")
        if self.queue_max < 1 or self.max_evidence < 2:
            raise ValueError("[mda] queue_max must be at least 1 and max_evidence at least 2")


def shared_ports() -> Path | None:
    """The shared data's ports CSV, if it is there."""
    env = os.environ.get("KIZUNA_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "data"
    path = base / "reference" / "ports.csv"
    return path if path.is_file() else None


def ports_path(settings: MdaSettings, root: Path) -> Path | None:
    if settings.ports_csv:
        path = Path(settings.ports_csv)
        return path if path.is_absolute() else root / path
    return shared_ports()


def load_ports(path: Path | None) -> list[Port]:
    """Ports from a CSV; a row without a usable position is skipped."""
    if path is None:
        return []
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (KeyError, TypeError, ValueError):
                continue
            if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
                out.append(
                    Port(
                        id=row.get("id") or "",
                        name_en=row.get("name_en") or "",
                        name_ja=row.get("name_ja") or "",
                        lat=lat,
                        lon=lon,
                    )
                )
    return out
