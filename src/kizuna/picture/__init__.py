"""The common operational picture (COP): tracks from AIS, CoT, operators and peers.

``models`` (Track, Provenance, API shapes), ``rules`` (pure merge/fuse/expiry/bbox),
``service`` (PictureService: ingest, hot state, reads), ``live`` (its feed on the
node's push bus), ``stream`` (tracks as a federated stream), ``views`` (HTTP routes).

Sources hand tracks to ``ctx.require("picture").ingest(tracks)`` and listen with
``.on_tracks(callback)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, Job, PluginSettings
from kizuna.picture.models import TRACK


class PictureSettings(PluginSettings, kw_only=True):
    """The ``[picture]`` table; every tunable is optional (see ``picture.service``)."""

    grace: float = 300.0  # seconds past stale_at before an observation is dropped
    sweep_interval: float = 5.0
    max_future: float = 300.0  # reports further ahead of our clock are rejected
    history_points: int = 500  # per track
    history_seconds: float = 24 * 3600.0  # how far back history reads go
    history_interval: float = 10.0
    history_heartbeat: float = 60.0
    history_min_move: float = 25.0
    history_distance: float = 500.0
    box_margin: float = 0.02  # degrees of padding of R*Tree boxes
    persist_interval: float = 1.0  # group commit: at most this many seconds late
    persist_max: int = 8192  # or once this many reports are pending


class Picture(Domain):
    name = "picture"
    settings = PictureSettings

    def federated_types(self) -> Sequence[str]:
        return [TRACK]

    def start(self, ctx: NodeContext) -> Any:
        import msgspec

        from kizuna.picture.service import PictureService

        settings = ctx.settings if isinstance(ctx.settings, PictureSettings) else PictureSettings()
        tunables = msgspec.structs.asdict(settings)
        del tunables["enabled"]
        service = PictureService(ctx, **tunables)
        ctx.bus.add_feed(service.feed)
        return service

    def routes(self) -> Sequence[Any]:
        from kizuna.picture.views import TrackController, tracks_geojson

        return (TrackController, tracks_geojson)

    def jobs(self, service: Any) -> Sequence[Job]:
        return [service.run()]

    def streams(self, service: Any) -> Sequence[Any]:
        from kizuna.picture.stream import TrackStream

        return [TrackStream(service)]

    def stop(self, service: Any) -> None:
        service.close()

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        """Tracks the caller may see (each the fused view of what it may see), as points."""
        from kizuna.core.time import iso

        out = []
        for t in service.query(caller.principal):
            out.append(
                Feature(
                    id=t.id,
                    record_type=TRACK,
                    name={"en": t.callsign or t.name or t.id},
                    geometry={"type": "Point", "coordinates": [t.lon, t.lat]},
                    label=t.label.render(),
                    description={"en": t.remarks} if t.remarks else {},
                    properties={
                        "source": t.source,
                        "cot_type": t.cot_type,
                        "affiliation": t.affiliation,
                        "course": t.course,
                        "speed": t.speed,
                        "mmsi": t.mmsi,
                        "stale_at": iso(t.stale_at),
                    },
                    time=iso(t.observed_at),
                    sidc=t.sidc,
                )
            )
        return out


plugin = Picture()
