"""The alerts source on one node: documents in, bulletins filed on incidents, rejects counted.

Every document takes one path (:meth:`AlertService.ingest_bytes`), whoever brings it: the
CLI, the watched folder, the Atom feed. A rejected document is counted
(``kizuna_bad_input_total{source="alerts",reason}`` and ``kizuna_alerts_total``), audited with
its SHA-256 and reason, and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import msgspec
import structlog
from prometheus_client import Counter

from kizuna.core.errors import Conflict, Forbidden, Invalid
from kizuna.core.labels import Label, LabelError
from kizuna.incidents.models import Bulletin
from kizuna.kernel.context import NodeContext
from kizuna.kernel.ingress import IngressRefused, rule
from kizuna.sources.alerts.cap import is_cap, parse_cap
from kizuna.sources.alerts.jma import is_jma, parse_jma
from kizuna.sources.alerts.xmlsafe import MAX_DOCUMENT_BYTES, AlertError, parse

log = structlog.get_logger("kizuna.alerts")

OutcomeName = Literal["new", "updated", "unchanged", "test", "rejected"]


class Outcome(msgspec.Struct, kw_only=True):
    """What one document did."""

    name: str
    outcome: OutcomeName
    incident_id: str | None = None
    key: str = ""
    reason: str = ""  # the AlertError code when rejected
    message: str = ""


class Summary(msgspec.Struct, kw_only=True):
    counts: dict[str, int] = {}
    rejected: list[Outcome] = []
    tests: list[Outcome] = []

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.outcome] = self.counts.get(outcome.outcome, 0) + 1
        if outcome.outcome == "rejected":
            self.rejected.append(outcome)
        elif outcome.outcome == "test":
            self.tests.append(outcome)


def parse_document(raw: bytes, limit: int = MAX_DOCUMENT_BYTES) -> Bulletin:
    """A JMA or CAP document as a bulletin, or :class:`AlertError`; nothing is written."""
    root = parse(raw, limit)
    if is_jma(root):
        return parse_jma(root)
    if is_cap(root):
        return parse_cap(root)
    raise AlertError("not_an_alert", f"root element {root.tag} is neither JMA XML nor CAP 1.2")


def alert_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``.xml`` and ``.cap`` files under it, by name."""
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".cap")
    )


class AlertService:
    def __init__(self, ctx: NodeContext, incidents: Any, settings: Any = None) -> None:
        self.ctx = ctx
        self.incidents = incidents
        self.settings = settings
        self.max_bytes = int(getattr(settings, "max_bytes", MAX_DOCUMENT_BYTES))
        marking = str(getattr(settings, "label", "") or "")
        self.label: Label | None = self._label(marking) if marking else None
        self.total = Counter(
            "kizuna_alerts_total",
            "Alert documents by format and outcome",
            ["format", "outcome"],
            registry=ctx.metrics.registry,
        )

    def _label(self, marking: str) -> Label:
        ingress = rule(self.ctx.nation, self.ctx.groups)
        try:
            return ingress.check(ingress.parse(marking), ingress.host)
        except (LabelError, IngressRefused) as exc:
            raise ValueError(f"[alerts] label {marking!r}: {exc}") from None

    def ingest_bytes(self, raw: bytes, name: str = "", label: Label | None = None) -> Outcome:
        """Parse and file one document (one commit at most)."""
        try:
            bulletin = parse_document(raw, self.max_bytes)
        except AlertError as exc:
            return self._reject(name, raw, "unknown", exc)
        try:
            result = self.incidents.apply_bulletin(bulletin, label=label or self.label, raw=raw)
        except Conflict as exc:
            return self._reject(name, raw, bulletin.source, AlertError("key_conflict", exc.detail))
        except (Forbidden, Invalid) as exc:
            return self._reject(name, raw, bulletin.source, AlertError("refused", exc.detail))
        self.total.labels(bulletin.source, result.outcome).inc()
        if result.outcome == "test":
            log.info("test bulletin logged", name=name, key=result.bulletin_key)
        return Outcome(
            name=name,
            outcome=result.outcome,
            incident_id=result.incident_id,
            key=result.bulletin_key,
        )

    def _reject(self, name: str, raw: bytes, fmt: str, exc: AlertError) -> Outcome:
        self.ctx.metrics.bad_input.labels("alerts", exc.code).inc()
        self.total.labels(fmt, "rejected").inc()
        sha = hashlib.sha256(raw).hexdigest()
        self.ctx.audit.append(
            "alerts.reject", "alerts", "refused", name=name, reason=exc.code,
            message=exc.message[:500], sha256=sha, size=len(raw),
        )  # fmt: skip
        log.warning("alert rejected", name=name, reason=exc.code, message=exc.message)
        return Outcome(name=name, outcome="rejected", reason=exc.code, message=exc.message)

    def ingest_files(
        self,
        files: Iterable[Path],
        label: Label | None = None,
        progress: Callable[[Outcome], None] | None = None,
    ) -> Summary:
        summary = Summary()
        for path in files:
            outcome = self.ingest_file(path, label)
            summary.add(outcome)
            if progress is not None:
                progress(outcome)
        return summary

    def ingest_file(self, path: Path, label: Label | None = None) -> Outcome:
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                err = AlertError("too_large", f"{size} bytes exceed {self.max_bytes} bytes")
                return self._reject(str(path), b"", "unknown", err)
            raw = path.read_bytes()
        except OSError as exc:
            return self._reject(str(path), b"", "unknown", AlertError("unreadable", str(exc)))
        return self.ingest_bytes(raw, str(path), label)
