"""Collect the map features every started plugin offers a reader, checked once more.

Each plugin's ``Domain.features(service, caller)`` returns what it releases to the caller;
the exporter re-checks each feature's label with ``may_release`` (the one release check)
and drops, counts (``kizuna_release_denied_total{path="export"}``) and logs any feature
whose label cannot be read, does not release to the caller, or whose geometry is unusable:
when in doubt, deny.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from kizuna.core.labels import Label, LabelError, parse_label
from kizuna.core.release import may_release
from kizuna.interop import geometry as geo
from kizuna.interop.binding import banner
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.contract import Feature

log = structlog.get_logger("kizuna.interop")

PATH = "export"


@dataclass
class Export:
    """What one reader's export holds, whatever the format."""

    node_id: str
    nation: str
    reader: str
    created: str
    label: Label  # the banner: the label of the export as a whole
    features: list[tuple[Feature, Label]] = field(default_factory=list)
    denied: int = 0
    failed: list[str] = field(default_factory=list)  # plugins whose features failed

    @property
    def marking(self) -> str:
        return self.label.render()


def collect(
    ctx: NodeContext,
    caller: Caller,
    *,
    types: Collection[str] | None = None,
    bbox: geo.BBox | None = None,
    record: str | None = None,
) -> Export:
    """The features ``caller`` may see, from every started plugin (``types``: record types
    to keep; ``bbox``: features meeting it; ``record``: one record's features)."""
    kept: list[tuple[Feature, Label]] = []
    denied = 0
    failed: list[str] = []
    for domain, service in ctx.exports.started():
        if domain.name == ctx.name:
            continue
        try:
            offered = list(domain.features(service, caller))
        except Exception:
            log.exception("export.features_failed", plugin=domain.name)
            failed.append(domain.name)
            continue
        for feature in offered:
            if types and feature.record_type not in types:
                continue
            if record is not None and not _of_record(feature, record):
                continue
            label = _released(ctx, caller, domain.name, feature)
            if label is None:
                denied += 1
                continue
            if bbox is not None and not geo.intersects(feature.geometry, bbox):
                continue
            kept.append((feature, label))
    kept.sort(key=lambda p: (p[0].record_type, p[0].id))
    return Export(
        node_id=ctx.node_id,
        nation=ctx.nation,
        reader=caller.name,
        created=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        label=banner((label for _, label in kept), ctx.nation, ctx.groups),
        features=kept,
        denied=denied,
        failed=failed,
    )


def _of_record(feature: Feature, record: str) -> bool:
    return (
        feature.id == record
        or feature.id.startswith(record + "/")
        or feature.properties.get("record_id") == record
        or feature.properties.get("incident_id") == record
    )


def _released(ctx: NodeContext, caller: Caller, plugin: str, feature: Feature) -> Label | None:
    """The feature's label if it may go to the caller and its geometry is usable."""
    try:
        label = parse_label(feature.label, groups=ctx.groups)
    except (LabelError, TypeError):
        why = "unreadable_label"
    else:
        if not may_release(label, caller.principal):
            why = "not_releasable"
        else:
            try:
                geo.count(feature.geometry)
            except geo.GeometryError:
                why = "bad_geometry"
            else:
                return label
    ctx.metrics.released_denied.labels(PATH).inc()
    log.warning(
        "export.withheld", plugin=plugin, feature=feature.id, reader=caller.name, reason=why
    )
    return None
