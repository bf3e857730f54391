"""JMA disaster XML and CAP 1.2 alerts: parsed safely, turned into incident bulletins (issue 12).

Documents come from ``kizuna ingest alerts PATH`` (a file or a folder), a watched folder
(``watch_dir``) and a JMA-style Atom feed (``feed_url``), and all take one path
(``AlertService.ingest_bytes``): defusedxml with DTDs, entities and external references
forbidden, a size limit, a parser per format (``jma.py``, ``cap.py``) producing an
incidents ``Bulletin``, then ``ctx.require("incidents").apply_bulletin``. Rejects are
counted (``kizuna_bad_input_total{source="alerts"}``), audited and never half-applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kizuna.kernel.contract import Domain, Job, OpenNode, PluginSettings

if TYPE_CHECKING:
    import typer

    from kizuna.kernel.context import NodeContext
    from kizuna.sources.alerts.service import AlertService


class AlertsSettings(PluginSettings, kw_only=True):
    """The ``[alerts]`` table; an empty ``watch_dir`` / ``feed_url`` keeps that input off."""

    label: str = ""  # label of new incidents ("" = the [incidents] default_label)
    max_bytes: int = 1 << 20  # documents larger than this are refused
    watch_dir: str = ""  # relative to the node directory unless absolute
    watch_interval: float = 5.0
    feed_url: str = ""
    feed_interval: float = 60.0
    feed_timeout: float = 10.0
    feed_max_backoff: float = 900.0


class Alerts(Domain):
    name = "alerts"
    requires = ("incidents",)
    settings = AlertsSettings

    def start(self, ctx: NodeContext) -> AlertService:
        from kizuna.sources.alerts.service import AlertService

        return AlertService(ctx, ctx.require("incidents"), ctx.settings)

    def jobs(self, service: AlertService) -> Sequence[Job]:
        settings = service.settings
        if not isinstance(settings, AlertsSettings):
            return ()
        jobs: list[Job] = []
        if settings.watch_dir:
            from kizuna.sources.alerts.watch import FolderWatcher

            folder = Path(settings.watch_dir)
            folder = folder if folder.is_absolute() else service.ctx.root / folder
            jobs.append(FolderWatcher(service, folder).run(settings.watch_interval))
        if settings.feed_url:
            from kizuna.sources.alerts.feed import FeedPoller

            poller = FeedPoller(
                service,
                settings.feed_url,
                timeout=settings.feed_timeout,
                max_backoff=settings.feed_max_backoff,
            )
            jobs.append(poller.run(settings.feed_interval))
        return jobs

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.sources.alerts.cli import ingest_app

        return {"ingest": ingest_app(open_node)}


plugin = Alerts()

__all__ = ["Alerts", "AlertsSettings", "plugin"]
