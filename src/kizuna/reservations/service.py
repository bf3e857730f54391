"""Reservations on one node: checked against access arrangements, deconflicted, federated.

A reservation holds a snapshot of its place (geometry, kind, basis), so every node that
holds it can deconflict it without holding the place's record. On this node a new
reservation is refused when the requesting nation has no instrument for it (403 naming
the instrument needed), when the notice is shorter than its kind of place needs (422),
or when it conflicts with an active reservation and either activity refuses conflicts
(409 naming the reservation); other conflicts are accepted and flagged. A reservation a
peer made is never refused here (its origin owns it): a conflict it brings is flagged,
audited and shown on both (ADR 0015).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec
import structlog

from kizuna.core.errors import Conflict, Forbidden, Invalid, KizunaError
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Classification, Label, parse_label
from kizuna.core.records import Event, RecordState
from kizuna.core.release import may_release
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import ORIGINATOR, widenings
from kizuna.kernel.context import Caller, NodeContext
from kizuna.reservations import rules
from kizuna.reservations.models import (
    RESERVATION,
    ConflictOut,
    ReservationIn,
    ReservationOut,
    ReservationsSettings,
    ScheduleOut,
)
from kizuna.reservations.rules import MESSAGES, RuleError
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.reservations")

MAX_DAYS = 92  # the longest reservation window


class AccessRefused(KizunaError):
    """A reservation outside every access arrangement (403 naming what would be needed)."""

    status = 403
    kind = "access-refused"


class LateNotice(KizunaError):
    status = 422
    kind = "late-notice"


def may_act(caller: Caller) -> bool:
    """Planners reserve; a viewer only reads."""
    roles = set(caller.user.roles)
    return not roles or bool(roles - {"viewer"})


class ReservationService:
    """The reservations domain on one node. See the module docstring."""

    def __init__(self, ctx: NodeContext, *, clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        settings = ctx.settings if isinstance(ctx.settings, ReservationsSettings) else None
        self.settings = settings or ReservationsSettings()
        self.places = ctx.require("facilities")
        self.access = ctx.require("access")
        self.clock = clock
        self.flagged: set[tuple[str, str]] = set()  # (peer's reservation, conflicting one)
        ctx.events.on_commit(self._committed)

    # -- slots and views ------------------------------------------------------------------

    def _slot(self, state: RecordState) -> rules.Slot:
        f = state.fields
        return rules.Slot(
            id=state.record_id,
            place=self.places.place_of(f.get("place") or {}),
            start=float(f.get("start", 0.0)),
            end=float(f.get("end", 0.0)),
            floor_m=float(f.get("floor_m", 0.0)),
            ceiling_m=None if f.get("ceiling_m") is None else float(f["ceiling_m"]),
            activity=str(f.get("activity", "")),
            active=f.get("status", "active") == "active",
        )

    def _active(self) -> list[tuple[RecordState, rules.Slot]]:
        out = []
        for state in self.ctx.events.scan(RESERVATION):
            if state.deleted or state.fields.get("status", "active") != "active":
                continue
            out.append((state, self._slot(state)))
        return out

    def _conflicts(self, slot: rules.Slot) -> list[RecordState]:
        others = self._active()
        hits = {s.id for s in rules.conflicts(slot, (o for _, o in others), self.places.overlap)}
        return [state for state, o in others if o.id in hits]

    def view(self, state: RecordState, reader: Caller | None = None) -> ReservationOut:
        f = state.fields
        place = f.get("place") or {}
        lead = rules.lead_hours(str(place.get("kind", "")), self.settings.lead_hours)
        conflicts = []
        if not state.deleted and f.get("status", "active") == "active":
            for other in self._conflicts(self._slot(state)):
                if reader is None or may_release(other.label, reader.principal):
                    conflicts.append(conflict_view(other))
        return msgspec.convert(
            {
                "id": state.record_id,
                "origin": state.origin,
                **label_fields(state.label),
                "place": {
                    "id": place.get("id", ""),
                    "kind": place.get("kind", ""),
                    "name": place.get("name") or {},
                    "basis": place.get("basis", "other"),
                    "lat": place.get("lat", 0.0),
                    "lon": place.get("lon", 0.0),
                    "polygon": [list(p) for p in place.get("polygon") or ()],
                },
                "start": iso(float(f.get("start", 0.0))),
                "end": iso(float(f.get("end", 0.0))),
                "activity": f.get("activity", "training"),
                "nation": f.get("nation", ""),
                "unit": f.get("unit", ""),
                "exercise_id": f.get("exercise_id"),
                "altitude": {"floor_m": f.get("floor_m", 0.0), "ceiling_m": f.get("ceiling_m")},
                "title": f.get("title") or {},
                "status": f.get("status", "active"),
                "instrument": f.get("instrument"),
                "access": f.get("access") or {},
                "conflicts": conflicts,
                "notice_by": iso(float(f.get("start", 0.0)) - lead * 3600),
                "created_by": state.created_by,
                "created_at": iso(to_seconds(state.created_hlc)),
                "updated_at": iso(to_seconds(state.updated_hlc)),
            },
            ReservationOut,
        )

    # -- reads ----------------------------------------------------------------------------

    def list(
        self,
        caller: Caller,
        *,
        place_id: str | None = None,
        after: float | None = None,
        before: float | None = None,
        exercise_id: str | None = None,
        active_only: bool = False,
    ) -> list[ReservationOut]:
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(RESERVATION))
        out = []
        for state in states:
            f = state.fields
            if place_id is not None and (f.get("place") or {}).get("id") != place_id:
                continue
            if after is not None and float(f.get("end", 0.0)) <= after:
                continue
            if before is not None and float(f.get("start", 0.0)) >= before:
                continue
            if exercise_id is not None and f.get("exercise_id") != exercise_id:
                continue
            if active_only and f.get("status", "active") != "active":
                continue
            out.append(state)
        out.sort(key=lambda s: (float(s.fields.get("start", 0.0)), s.record_id))
        return [self.view(s, caller) for s in out]

    def get(self, caller: Caller, rid: str) -> ReservationOut:
        return self.view(get_visible(self.ctx, caller, RESERVATION, rid), caller)

    def schedule(self, caller: Caller, week: str | None = None) -> ScheduleOut:
        """The weekly schedule notice: active reservations of ``week`` (default: next week)."""
        if week is None:
            week = rules.week_of(self.clock() + 7 * 86400)
        try:
            start, end = rules.week_bounds(week)
        except RuleError as exc:
            detail = MESSAGES.msg(
                "error.bad-week",
                week=repr(week[:20]),
                problem=exc.message,
            )
            raise KizunaError(detail, parameter="week") from None
        items = self.list(caller, after=start.timestamp(), before=end.timestamp(), active_only=True)
        return ScheduleOut(
            week=week,
            start=start.isoformat(),
            end=end.isoformat(),
            reservations=items,
        )

    def schedule_csv(self, caller: Caller, week: str | None = None) -> tuple[str, str]:
        """The weekly schedule as CSV (one row per reservation, each with its label) and
        the highest classification in it."""
        sched = self.schedule(caller, week)
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(
            [
                "label",
                "id",
                "start",
                "end",
                "place_id",
                "place_en",
                "place_ja",
                "activity",
                "nation",
                "unit",
                "floor_m",
                "ceiling_m",
                "instrument",
                "exercise_id",
                "conflicts",
            ]
        )
        highest = Classification.UNCLASSIFIED
        for r in sched.reservations:
            highest = max(highest, Classification.parse(r.classification))
            out.writerow(
                [
                    r.label,
                    r.id,
                    r.start,
                    r.end,
                    r.place.id,
                    r.place.name.en,
                    r.place.name.ja,
                    r.activity,
                    r.nation,
                    r.unit,
                    r.altitude.floor_m,
                    "" if r.altitude.ceiling_m is None else r.altitude.ceiling_m,
                    r.instrument or "",
                    r.exercise_id or "",
                    " ".join(c.id for c in r.conflicts),
                ]
            )
        return buf.getvalue(), highest.marking

    # -- writes ---------------------------------------------------------------------------

    def create(self, caller: Caller, data: ReservationIn) -> ReservationOut:
        if not may_act(caller):
            raise Forbidden(MESSAGES.msg("error.viewer-reserve"))
        label = label_for_write(self.ctx, caller, data.label)
        place = self.places.visible_place(caller, data.place_id)
        if place is None:
            raise Invalid(
                MESSAGES.msg("error.no-place", place=repr(data.place_id)),
                errors=["place_id: unknown"],
            )
        self._within_place(label, place.label)
        start, end = self._window(data.start, data.end)
        floor, ceiling = self._band(data, place)
        nation = (data.nation or caller.user.nation).upper()
        verdict = self.access.check(
            nation,
            data.activity,
            data.place_id,
            dt.datetime.fromtimestamp(start, dt.UTC),
            dt.datetime.fromtimestamp(end, dt.UTC),
        )
        if not verdict.allowed:
            self.ctx.refuse("reservation_access", caller.name, nation=nation, why=verdict.reason)
            raise AccessRefused(
                MESSAGES.msg(
                    "error.access", text=verdict.detail["en"], text_ja=verdict.detail["ja"]
                ),
                reason=verdict.reason,
                needed=verdict.needed,
                instrument=verdict.instrument,
                detail_ja=verdict.detail["ja"],
            )
        now = self.clock()
        missed = rules.late_notice(place.kind, start, now, self.settings.lead_hours)
        if missed is not None:
            hours = max(0.0, (start - now) / 3600)
            raise LateNotice(
                MESSAGES.msg(
                    "error.late-notice",
                    kind=place.kind,
                    missed=f"{missed:g}",
                    hours=f"{hours:.1f}",
                ),
                errors=["start: too soon"],
            )
        snapshot = msgspec.to_builtins(place)
        rid = new_id()
        slot = rules.Slot(
            id=rid,
            place=place,
            start=start,
            end=end,
            floor_m=floor,
            ceiling_m=ceiling,
            activity=data.activity,
        )
        hits = self._conflicts(slot)
        if hits and rules.refuses(
            [data.activity, *(str(h.fields.get("activity")) for h in hits)],
            self.settings.refuse_on_conflict,
        ):
            raise self._refusal(caller, hits)
        fields = {
            "place": snapshot,
            "start": start,
            "end": end,
            "activity": data.activity,
            "nation": nation,
            "unit": data.unit,
            "exercise_id": data.exercise_id,
            "floor_m": floor,
            "ceiling_m": ceiling,
            "title": msgspec.to_builtins(data.title),
            "status": "active",
            "instrument": verdict.instrument,
            "access": verdict.detail,
        }
        self.ctx.events.append(
            [Draft(RESERVATION, rid, "create", label, fields, author=caller.name, new_record=True)]
        )
        self.ctx.audit.append(
            "reservation.create", caller.name, "ok", id=rid, label=label.render(), nation=nation
        )
        if hits:
            ids = [h.record_id for h in hits]
            self.ctx.audit.append("reservation.conflict", caller.name, "flagged", id=rid, with_=ids)
        return self.get(caller, rid)

    def cancel(self, caller: Caller, rid: str, reason: str = "") -> ReservationOut:
        if not may_act(caller):
            raise Forbidden(MESSAGES.msg("error.viewer-cancel"))
        state = get_visible(self.ctx, caller, RESERVATION, rid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(MESSAGES.msg("error.not-own", id=rid, node=state.origin))
        if state.fields.get("status") == "cancelled":
            raise Conflict(MESSAGES.msg("error.cancelled", id=rid))
        self.ctx.events.append(
            [
                Draft(
                    RESERVATION,
                    rid,
                    "patch",
                    state.label,
                    {"status": "cancelled", "cancel_reason": reason},
                    author=caller.name,
                )
            ]
        )
        self.ctx.audit.append("reservation.cancel", caller.name, "ok", id=rid)
        return self.get(caller, rid)

    # -- checks ---------------------------------------------------------------------------

    def _within_place(self, label: Label, place_label: str) -> None:
        """A reservation carries its place's geometry: it may not reach further than the
        place's label (its originator aside)."""
        outer = parse_label(place_label, groups=self.ctx.groups)
        wider = set(widenings(outer, label, self.ctx.groups)) - {ORIGINATOR}
        if wider:
            raise Invalid(
                MESSAGES.msg("error.wider", area=place_label, wider=", ".join(sorted(wider))),
                errors=["label: wider than the area's"],
            )

    @staticmethod
    def _window(start_text: str, end_text: str) -> tuple[float, float]:
        start, end = parse_iso(start_text), parse_iso(end_text)
        if end <= start:
            raise Invalid(MESSAGES.msg("error.end-before-start"), errors=["end: not after start"])
        if end - start > MAX_DAYS * 86400:
            raise Invalid(MESSAGES.msg("error.too-long", days=MAX_DAYS), errors=["end: too late"])
        return start, end

    @staticmethod
    def _band(data: ReservationIn, place: Any) -> tuple[float, float | None]:
        if data.altitude is None:
            return float(place.floor_m), place.ceiling_m
        try:
            floor, ceiling = rules.band_of(
                data.altitude.floor, data.altitude.ceiling, data.altitude.unit
            )
        except RuleError as exc:
            raise Invalid(exc.message, errors=["altitude: ceiling not above floor"]) from None
        area_ceiling = place.ceiling_m
        if floor < place.floor_m or (
            area_ceiling is not None and (ceiling is None or ceiling > area_ceiling)
        ):
            floor_m = f"{place.floor_m:g}"
            raise Invalid(
                MESSAGES.msg("error.outside-band-unlimited", floor=floor_m)
                if area_ceiling is None
                else MESSAGES.msg("error.outside-band", floor=floor_m, ceiling=f"{area_ceiling:g}"),
                errors=["altitude: outside the area's band"],
            )
        return floor, ceiling

    def _refusal(self, caller: Caller, hits: Sequence[RecordState]) -> Conflict:
        seen = [h for h in hits if may_release(h.label, caller.principal)]
        parts = [describe(h) for h in seen]
        if len(seen) < len(hits):
            parts.append("a reservation you may not see")
        self.ctx.refuse("reservation_conflict", caller.name, conflicts=len(hits))
        return Conflict(
            "conflicts with " + "; ".join(parts) + " (place, altitude and time overlap)",
            conflicts=[h.record_id for h in seen],
        )

    # -- peers' reservations and pushes ---------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        ids = dict.fromkeys(e.record_id for e in events if e.record_type == RESERVATION)
        for rid in ids:
            state = self.ctx.events.get(RESERVATION, rid)
            if state is None:
                continue
            try:
                if state.origin != self.ctx.node_id and not state.deleted:
                    self._flag(state)
                self._push(state)
            except Exception:
                log.exception("reservations.commit_failed", record_id=rid)

    def _flag(self, state: RecordState) -> None:
        """A peer's reservation that conflicts here: flagged (never refused: its origin
        owns it), audited, shown on both."""
        if state.fields.get("status", "active") != "active":
            return
        for other in self._conflicts(self._slot(state)):
            pair = (state.record_id, other.record_id)
            if pair in self.flagged:
                continue
            self.flagged.add(pair)
            self.ctx.audit.append(
                "reservation.conflict",
                f"node:{state.origin}",
                "flagged",
                id=state.record_id,
                with_=[other.record_id],
            )
            log.warning("reservation.conflict_flagged", id=state.record_id, other=other.record_id)

    def _push(self, state: RecordState) -> None:
        if self.ctx.bus.subscribers == 0:
            return
        item = (
            {"id": state.record_id, "deleted": True}
            if state.deleted
            else msgspec.to_builtins(self.view(state))
        )
        # Conflicts are per reader: the push names none, a reader fetches its view.
        if isinstance(item, dict) and "conflicts" in item:
            item["conflicts"] = []
        self.ctx.bus.publish(RESERVATION, item, state.label)

    def visible_states(self, reader: Any) -> Iterable[RecordState]:
        """Active and cancelled reservations ``reader`` (a Principal) may see."""
        for state in self.ctx.events.scan(RESERVATION):
            if not state.deleted and may_release(state.label, reader):
                yield state


def describe(state: RecordState) -> str:
    f = state.fields
    place = (f.get("place") or {}).get("name") or {}
    where = place.get("en") or place.get("ja") or (f.get("place") or {}).get("id", "")
    return (
        f"reservation {state.record_id} ({f.get('nation', '')} {f.get('unit', '')}, "
        f"{f.get('activity', '')} at {where}, {iso(float(f.get('start', 0.0)))} to "
        f"{iso(float(f.get('end', 0.0)))})"
    )


def conflict_view(state: RecordState) -> ConflictOut:
    f = state.fields
    return ConflictOut(
        id=state.record_id,
        origin=state.origin,
        place_id=str((f.get("place") or {}).get("id", "")),
        start=iso(float(f.get("start", 0.0))),
        end=iso(float(f.get("end", 0.0))),
        activity=str(f.get("activity", "")),
        nation=str(f.get("nation", "")),
        unit=str(f.get("unit", "")),
    )
