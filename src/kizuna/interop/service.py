"""Exports per reader and imports through the plugins that take a kind, on one node."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

import msgspec
import structlog

from kizuna.core.errors import Invalid, KizunaError
from kizuna.core.ids import new_id
from kizuna.interop import formats, takpkg
from kizuna.interop import geometry as geo
from kizuna.interop.collect import Export, collect
from kizuna.interop.imports import FORMATS as IMPORT_FORMATS
from kizuna.interop.imports import ImportRefused, Overlay, read_overlay, sniff
from kizuna.interop.messages import MESSAGES
from kizuna.interop.models import ImportResult, InteropStatus
from kizuna.kernel.access import label_for_write
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.contract import Domain, Feature

log = structlog.get_logger("kizuna.interop")

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


class Exported(msgspec.Struct, kw_only=True):
    data: bytes
    media_type: str
    filename: str
    count: int
    marking: str


class Refused(KizunaError):
    """An import refused: problem type ``/problems/import-<reason>``."""

    def __init__(self, exc: ImportRefused) -> None:
        super().__init__(exc.message, reason=exc.reason)
        self.status = exc.status
        self.kind = f"import-{exc.reason.replace('_', '-')}"


def parse_bbox(text: str | None) -> geo.BBox | None:
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        box = tuple(float(p) for p in parts)
    except ValueError:
        raise KizunaError(MESSAGES.msg("error.bbox-numbers"), parameter="bbox") from None
    if len(box) != 4 or not (-90 <= box[1] <= box[3] <= 90) or any(abs(v) > 180 for v in box):
        raise KizunaError(MESSAGES.msg("error.bbox-shape"), parameter="bbox")
    return box[0], box[1], box[2], box[3]


def parse_types(text: str | None) -> set[str] | None:
    if not text:
        return None
    return {t.strip() for t in text.split(",") if t.strip()} or None


class InteropService:
    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx

    def caller_for(self, name: str) -> Caller:
        """A user of this node as a caller (the CLI's ``--as``)."""
        return _caller_for(self.ctx, name)

    # -- exports --------------------------------------------------------------------

    def collect(
        self,
        caller: Caller,
        *,
        types: Collection[str] | None = None,
        bbox: geo.BBox | None = None,
        record: str | None = None,
    ) -> Export:
        return collect(self.ctx, caller, types=types, bbox=bbox, record=record)

    def export(
        self,
        caller: Caller,
        fmt: str,
        *,
        types: Collection[str] | None = None,
        bbox: geo.BBox | None = None,
        record: str | None = None,
        lang: str = "en",
    ) -> Exported:
        if fmt not in (*formats.FORMATS, "takpkg"):
            raise Invalid(
                MESSAGES.msg(
                    "error.unknown-format",
                    format=repr(fmt),
                    formats=", ".join((*formats.FORMATS, "takpkg")),
                ),
                parameter="format",
            )
        export = self.collect(caller, types=types, bbox=bbox, record=record)
        if fmt == "takpkg":
            data = takpkg.data_package(export, lang)
            media, suffix = takpkg.MEDIA_TYPE, "zip"
        else:
            data = formats.write(export, fmt, lang)
            media, suffix = formats.MEDIA_TYPES[fmt], formats.SUFFIX[fmt]
        self.ctx.audit.append(
            "interop.export",
            caller.name,
            "ok",
            format=fmt,
            features=len(export.features),
            withheld=export.denied,
            label=export.marking,
        )
        return Exported(
            data=data,
            media_type=media,
            filename=f"kizuna-{self.ctx.node_id}-{export.created[:10]}.{suffix}",
            count=len(export.features),
            marking=export.marking,
        )

    # -- imports --------------------------------------------------------------------

    def importers(self) -> dict[str, tuple[Domain, Any]]:
        """Import kind → (plugin, its service), from each plugin's ``imports()``."""
        out: dict[str, tuple[Domain, Any]] = {}
        for domain, service in self.ctx.exports.started():
            kinds = getattr(domain, "imports", None)
            if kinds is None or not hasattr(domain, "import_features"):
                continue
            for kind in kinds():
                out.setdefault(kind, (domain, service))
        return out

    def status(self) -> InteropStatus:
        return InteropStatus(
            export_formats=[*formats.FORMATS, "takpkg"],
            import_formats=list(IMPORT_FORMATS),
            import_kinds=sorted(self.importers()),
            exporting_plugins=[
                d.name
                for d, _ in self.ctx.exports.started()
                if type(d).features is not Domain.features
            ],
        )

    def import_file(
        self,
        caller: Caller,
        kind: str,
        marking: str,
        data: bytes,
        *,
        filename: str = "",
        fmt: str | None = None,
    ) -> ImportResult:
        """Read a file whole and hand its features to the plugin importing ``kind``, all
        under the importer's label (checked by the ingress rule); all or nothing."""
        importers = self.importers()
        if kind not in importers:
            raise Invalid(
                MESSAGES.msg(
                    "error.no-importer", kind=repr(kind), kinds=", ".join(sorted(importers))
                )
                if importers
                else MESSAGES.msg("error.no-importers", kind=repr(kind)),
                parameter="kind",
            )
        label = label_for_write(self.ctx, caller, marking)
        try:
            chosen = fmt or sniff(data, filename)
            if chosen not in IMPORT_FORMATS:
                raise ImportRefused(
                    "unknown_format", MESSAGES.msg("import.unknown-format", format=repr(chosen))
                )
            overlays = read_overlay(data, chosen)
        except ImportRefused as exc:
            self.ctx.metrics.bad_input.labels("interop", exc.reason).inc()
            self.ctx.audit.append(
                "interop.import", caller.name, "refused", kind=kind, reason=exc.reason
            )
            log.warning("import.refused", reason=exc.reason, detail=str(exc), user=caller.name)
            raise Refused(exc) from None
        features = [self._feature(kind, o, label.render()) for o in overlays]
        domain, service = importers[kind]
        try:
            done = domain.import_features(service, caller, kind, features, label.render())
        except KizunaError:
            self.ctx.metrics.bad_input.labels("interop", "rejected_by_" + domain.name).inc()
            raise
        except Exception as exc:
            log.exception("import.failed", plugin=domain.name, kind=kind)
            raise Invalid(
                MESSAGES.msg("error.import-failed", plugin=domain.name, error=exc)
            ) from None
        ids = _ids(done, features)
        self.ctx.audit.append(
            "interop.import",
            caller.name,
            "ok",
            kind=kind,
            format=chosen,
            count=len(features),
            label=label.render(),
        )
        return ImportResult(
            kind=kind, format=chosen, imported=len(features), label=label.render(), ids=ids
        )

    @staticmethod
    def _feature(kind: str, overlay: Overlay, marking: str) -> Feature:
        lang = "ja" if _CJK.search(overlay.name) else "en"
        return Feature(
            id=new_id(),
            record_type=kind,
            name={lang: overlay.name or kind},
            geometry=overlay.geometry,
            label=marking,
            description={lang: overlay.description} if overlay.description else {},
        )


def _ids(done: Any, features: Sequence[Feature]) -> list[str]:
    if isinstance(done, list | tuple):
        ids = [x if isinstance(x, str) else getattr(x, "id", None) for x in done]
        if all(isinstance(i, str) for i in ids):
            return [str(i) for i in ids]
    return [f.id for f in features]


def _caller_for(ctx: NodeContext, name: str) -> Caller:
    from kizuna.core.errors import NotFound
    from kizuna.core.labels import Classification
    from kizuna.core.release import make_principal

    user = ctx.backend.users.user_by_name(name)
    if user is None:
        raise NotFound(MESSAGES.msg("error.no-user", name=repr(name)))
    principal = make_principal(
        user.nation,
        Classification[user.clearance],
        user.groups,
        name=user.name,
        registry=ctx.groups,
    )
    return Caller(user, principal)
