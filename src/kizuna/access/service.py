"""Access arrangements on one node: seeded once from the package's data, kept by its admins.

The check decides with the arrangements this node originated (its administrator's data);
peers' copies are held and shown beside them (ADR 0015). Places (facilities, training
areas) and their bases come from the ``facilities`` service.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from importlib import resources
from typing import Any

import msgspec
import structlog

from kizuna.access import rules
from kizuna.access.models import (
    ACCESS_ARRANGEMENT,
    AccessVerdict,
    Arrangement,
    ArrangementIn,
    ArrangementOut,
    ArrangementPatch,
)
from kizuna.access.rules import CATALOG
from kizuna.core.errors import Conflict, Forbidden, Invalid
from kizuna.core.hlc import to_seconds
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Label
from kizuna.core.records import RecordState, Text
from kizuna.core.time import iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import audit_relabel, authorize_relabel
from kizuna.kernel.context import Caller, NodeContext
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.access")

ADMIN_ROLES = frozenset({"admin"})  # who may create, change and remove arrangements
SEEDED = "access.seeded"  # meta key: the data file was seeded on this node's first start


def seed_data() -> list[Arrangement]:
    """The arrangements shipped in ``kizuna/access/data/arrangements.toml``."""
    text = resources.files("kizuna.access").joinpath("data", "arrangements.toml").read_text("utf-8")
    return [rules.arrangement_from(row) for row in tomllib.loads(text)["arrangement"]]


def record_id(node_id: str, key: str) -> str:
    """A node's record of instrument ``key`` (each node keeps its own)."""
    return f"{key}.{node_id}"


def arrangement_view(state: RecordState) -> ArrangementOut:
    f = state.fields
    return msgspec.convert(
        {
            "id": state.record_id,
            "origin": state.origin,
            **label_fields(state.label),
            "key": f.get("key", state.record_id),
            "kind": f.get("kind", "other"),
            "name": f.get("name") or {},
            "short": f.get("short") or {},
            "nations": list(f.get("nations") or ()),
            "in_force": f.get("in_force", ""),
            "expires": f.get("expires"),
            "signed": f.get("signed"),
            "activities": list(f.get("activities") or ()),
            "bases": list(f.get("bases") or ()),
            "facilities": list(f.get("facilities") or ()),
            "excluded": list(f.get("excluded") or ()),
            "conditions": f.get("conditions") or {},
            "source": f.get("source", ""),
            "updated_at": iso(to_seconds(state.updated_hlc)),
        },
        ArrangementOut,
    )


def _payload(arr: Arrangement) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(arr)
    out.setdefault("expires", None)
    out.setdefault("signed", None)
    return out


class AccessService:
    """The access domain on one node. See the module docstring."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._places = ctx.require("facilities")
        self.seed()

    # -- seeding and the node's own arrangements ----------------------------------------

    def seed(self) -> int:
        """Write the data file's arrangements on the node's first start (once: an
        administrator's later changes and removals stand). Returns how many were written."""
        meta = self.ctx.backend.meta
        if meta.meta_get(SEEDED):
            return 0
        label = self.ctx.parse_label("UNCLASSIFIED")
        drafts = [
            Draft(
                ACCESS_ARRANGEMENT,
                record_id(self.ctx.node_id, arr.key),
                "create",
                label,
                _payload(arr),
                author="access:seed",  # a fixed id, not minted: never new_record
            )
            for arr in seed_data()
            if self.ctx.events.get(ACCESS_ARRANGEMENT, record_id(self.ctx.node_id, arr.key)) is None
        ]
        if drafts:
            self.ctx.events.append(drafts)
            self.ctx.audit.append("access.seed", "access:seed", "ok", count=len(drafts))
        meta.meta_set(SEEDED, "1")
        return len(drafts)

    def own(self) -> list[Arrangement]:
        """The arrangements the check decides with: those this node originated."""
        out = []
        for state in self.ctx.events.scan(ACCESS_ARRANGEMENT):
            if state.deleted or state.origin != self.ctx.node_id:
                continue
            try:
                out.append(rules.arrangement_from(state.fields))
            except (msgspec.ValidationError, TypeError) as exc:
                log.warning("access.bad_record", id=state.record_id, error=str(exc))
        return out

    # -- the check ----------------------------------------------------------------------

    def place(self, facility_id: str) -> rules.Place | None:
        found = self._places.place(facility_id)
        if found is None:
            return None
        return rules.Place(id=found.id, basis=found.basis, name=found.name)

    def check(
        self,
        nation: str,
        activity: str,
        facility_id: str | None,
        start: dt.datetime,
        end: dt.datetime,
    ) -> AccessVerdict:
        """May ``nation``'s forces do ``activity`` at ``facility_id`` (None: anywhere) from
        ``start`` to ``end``? The verdict names the covering instrument, or the reason and
        the instrument that would be needed."""
        place = self.place(facility_id) if facility_id is not None else None
        return rules.check(self.own(), nation, activity, facility_id, place, start, end)

    # -- reads ----------------------------------------------------------------------------

    def arrangements(self, caller: Caller) -> list[ArrangementOut]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(ACCESS_ARRANGEMENT))
        views = [arrangement_view(s) for s in states]
        return sorted(
            views, key=lambda v: (v.origin != self.ctx.node_id, v.in_force, v.key, v.origin)
        )

    def get(self, caller: Caller, rid: str) -> ArrangementOut:
        return arrangement_view(get_visible(self.ctx, caller, ACCESS_ARRANGEMENT, rid))

    # -- writes (administrators; the CLI as the node's operator) ---------------------------

    def _admin(self, caller: Caller) -> None:
        if not ADMIN_ROLES & set(caller.user.roles):
            raise Forbidden(CATALOG.msg("error.admin-only"))

    def create(self, caller: Caller, data: ArrangementIn) -> ArrangementOut:
        self._admin(caller)
        label = label_for_write(self.ctx, caller, data.label)
        return arrangement_view(self._create(data, label, caller.name))

    def _create(self, data: ArrangementIn, label: Label, author: str) -> RecordState:
        arr = _validated(msgspec.to_builtins(data))
        rid = record_id(self.ctx.node_id, arr.key)
        existing = self.ctx.events.get(ACCESS_ARRANGEMENT, rid)
        if existing is not None and not existing.deleted:
            raise Conflict(CATALOG.msg("error.arrangement-exists", arrangement=arr.key, id=rid))
        self.ctx.events.append(
            [Draft(ACCESS_ARRANGEMENT, rid, "create", label, _payload(arr), author=author)]
        )
        self.ctx.audit.append("access.create", author, "ok", id=rid, label=label.render())
        state = self.ctx.events.get(ACCESS_ARRANGEMENT, rid)
        assert state is not None
        return state

    def update(self, caller: Caller, rid: str, data: ArrangementPatch) -> ArrangementOut:
        self._admin(caller)
        state = get_visible(self.ctx, caller, ACCESS_ARRANGEMENT, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.not-own-change", id=rid, node=state.origin))
        label = label_for_write(self.ctx, caller, data.label) if data.label else state.label
        decision = authorize_relabel(
            self.ctx, caller, ACCESS_ARRANGEMENT, rid, state.origin, state.label, label
        )
        new = self._patch(state, data, label, caller.name, whole=bool(decision.widened))
        audit_relabel(self.ctx, caller, ACCESS_ARRANGEMENT, rid, decision)
        return arrangement_view(new)

    def _patch(
        self, state: RecordState, data: ArrangementPatch, label: Label, author: str, *, whole: bool
    ) -> RecordState:
        changes = {
            k: v
            for k, v in msgspec.to_builtins(data).items()
            if v is not None and k not in ("label", "clear_expires")
        }
        if data.clear_expires:
            changes["expires"] = None
        merged = _validated({**state.fields, **changes})
        payload = _payload(merged) if whole else {k: _payload(merged)[k] for k in changes}
        self.ctx.events.append(
            [Draft(ACCESS_ARRANGEMENT, state.record_id, "patch", label, payload, author=author)]
        )
        self.ctx.audit.append("access.update", author, "ok", id=state.record_id)
        new = self.ctx.events.get(ACCESS_ARRANGEMENT, state.record_id)
        assert new is not None
        return new

    def delete(self, caller: Caller, rid: str) -> None:
        self._admin(caller)
        state = get_visible(self.ctx, caller, ACCESS_ARRANGEMENT, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.not-own-remove", id=rid, node=state.origin))
        self.ctx.events.append(
            [Draft(ACCESS_ARRANGEMENT, rid, "tombstone", state.label, {}, author=caller.name)]
        )
        self.ctx.audit.append("access.delete", caller.name, "ok", id=rid)

    # -- the CLI (the node's operator, on the node's own database) -----------------------

    def load(self, rows: Iterable[dict[str, Any]], author: str = "cli") -> list[str]:
        """Create or update this node's arrangements from data-file rows (by key); all rows
        are validated before any is written. Returns the record ids written."""
        items: list[tuple[ArrangementIn, Label]] = []
        for n, row in enumerate(rows, start=1):
            try:
                data = msgspec.convert(row, ArrangementIn)
                items.append((data, self.ctx.parse_label(data.label)))
            except (msgspec.ValidationError, ValueError) as exc:
                raise Invalid(CATALOG.msg("error.arrangement-row", n=n, error=exc)) from None
            _validated(msgspec.to_builtins(data))
        written = []
        for data, label in items:
            rid = record_id(self.ctx.node_id, data.key)
            state = self.ctx.events.get(ACCESS_ARRANGEMENT, rid)
            if state is None or state.deleted:
                self._create(data, label, author)
            else:
                fields = msgspec.to_builtins(data)
                fields.pop("key")
                patch = msgspec.convert(
                    {**fields, "clear_expires": data.expires is None}, ArrangementPatch
                )
                self._patch(state, patch, label, author, whole=True)
            written.append(rid)
        return written


def _validated(fields: dict[str, Any]) -> Arrangement:
    try:
        arr = rules.arrangement_from({k: v for k, v in fields.items() if k != "label"})
    except msgspec.ValidationError as exc:
        raise Invalid(CATALOG.msg("error.bad-arrangement", problems=exc)) from None
    problems = []
    if arr.expires is not None and arr.expires < arr.in_force:
        problems.append("expires: before in_force")
    if not (arr.name.en.strip() or arr.name.ja.strip()):
        problems.append("name: empty")
    if problems:
        # Field and reason codes, the same in both languages.
        joined = "; ".join(problems)
        raise Invalid(CATALOG.msg("error.bad-arrangement", problems=joined), errors=problems)
    if not (arr.short.en or arr.short.ja):
        arr = msgspec.structs.replace(arr, short=Text(en=arr.name.en, ja=arr.name.ja))
    return arr
