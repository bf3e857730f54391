"""Exercises, the MSEL and real-world overrides through the event log.

Sovereignty: an exercise is its lead node's (STARTEX, pause, ENDEX, its tracks); an
inject is the node's whose exercise control wrote it, and that node delivers it; an
override is the declaring node's. Every record of an exercise carries the EXERCISE
marking (forced at write) and every read goes through the release check.

Delivery: the owning node's job delivers each APPROVED inject once STARTEX + its offset
has passed and the exercise is running (not paused): as a coordination request to its
addressee node or as a report (``ctx.require("coordination")`` / ``("reports")``), under
the inject's EXERCISE label, then moves it to DELIVERED naming what it made.

Overrides: a node holding an ACTIVE override of an exercise by any participating node
shows the exercise paused, delivers nothing of it and marks its open injects held.

ENDEX: when a node holds the exercise FINISHED it quarantines it: the exercise's
records leave players' lists and its tracks leave the live picture (a predicate the
picture applies to every view), kept for exercise control; and the node writes the
archive of what it holds, hash-chained and signed (:mod:`kizuna.exercises.archive`),
deleted with the quarantined access once the lead's retention period has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
import structlog

from kizuna.core import lifecycle as lc
from kizuna.core.catalog import Catalog, Message
from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Classification, GroupRegistry, Label, LabelError
from kizuna.core.records import Event, Position, Precedence, RecordState, Text
from kizuna.core.release import make_principal, may_release
from kizuna.core.time import iso, parse_iso
from kizuna.exercises import archive as arch
from kizuna.exercises import rules
from kizuna.exercises.messages import Joined
from kizuna.exercises.models import (
    CARRIED,
    EXERCISE,
    INJECT,
    OVERRIDE,
    STAGES,
    Archive,
    ArchiveItem,
    ArchiveLabel,
    ExerciseIn,
    ExerciseOut,
    ExerciseStateIn,
    ExerciseStatus,
    ImportResult,
    InjectIn,
    InjectOut,
    InjectStatus,
    InjectTransitionIn,
    OverrideIn,
    OverrideOut,
    OverrideStatus,
    TracksIn,
    VerifyOut,
)
from kizuna.exercises.msel import MselError, parse_msel
from kizuna.exercises.rules import EXERCISE_LIFECYCLE, INJECT_LIFECYCLE, OVERRIDE_LIFECYCLE
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import reach
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.ingress import rule
from kizuna.store.base import Draft, User

log = structlog.get_logger("kizuna.exercises")
CATALOG = Catalog("kizuna.exercises")
# Exercise control's roles, as refusals name them.
CONTROL = ", ".join(sorted(rules.CONTROL_ROLES))
TOPIC = "exercise"
OPEN_INJECT = frozenset({InjectStatus.DRAFT, InjectStatus.APPROVED})


def _when(text: str, name: str) -> float:
    try:
        return parse_iso(text)
    except (ValueError, TypeError):
        raise Invalid(CATALOG.msg("error.bad-time", name=name, text=repr(text))) from None


def _dt(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _text(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {"en": str(value.get("en", "")), "ja": str(value.get("ja", ""))}
    return {"en": "", "ja": ""}


def _stamps(state: RecordState) -> dict[str, Any]:
    return {
        **label_fields(state.label),
        "created_at": iso(to_seconds(state.created_hlc)),
        "updated_at": iso(to_seconds(state.updated_hlc)),
    }


@dataclass
class _RequestData:
    """What the coordination service reads of a new request (duck-typed: no domain import)."""

    addressees: list[str]
    label: str
    title: Text
    body: Text
    kind: str = "information"
    precedence: str = "ROUTINE"
    due: str | None = None
    links: list[Any] = field(default_factory=list)
    attachments: list[Any] = field(default_factory=list)


@dataclass
class _ReportData:
    """What the reports service reads of a new report."""

    label: str
    title: Text
    body: Text
    position: Position | None = None
    precedence: str = "ROUTINE"


class ExerciseService:
    """The exercises domain on one node, started with the plugin's :class:`NodeContext`."""

    def __init__(self, ctx: NodeContext, *, clock: Any = time.time) -> None:
        self.ctx = ctx
        self.clock = clock
        self._lock = threading.RLock()
        self._quarantined: dict[str, tuple[frozenset[str], tuple[str, ...]]] | None = None
        self._held: frozenset[tuple[str, str]] | None = None  # requests and reports of injects
        self.dir = Path(ctx.root) / "exercises"
        picture = self._service("picture")
        if picture is not None and hasattr(picture, "quarantine"):
            picture.quarantine(self._track_quarantined)
        ctx.events.on_commit(self._committed)
        ctx.quarantine.add(self._records_held_back)

    def _service(self, name: str) -> Any:
        try:
            return self.ctx.require(name)
        except LookupError:
            return None

    # -- who -------------------------------------------------------------------------

    def node_caller(self) -> Caller:
        """This node acting for itself (scheduled delivery, the CLI): exercise control."""
        name = f"node:{self.ctx.node_id}"
        user = User(name=name, nation=self.ctx.nation, clearance="TOP_SECRET", roles=[])
        return Caller(user, self.ctx.node_principal())

    def _control(self, caller: Caller) -> bool:
        return caller.name == f"node:{self.ctx.node_id}" or rules.is_control(caller.user.roles)

    def _need_control(self, caller: Caller, refusal: Message) -> None:
        """Forbidden with ``refusal`` (a ``control.*`` message) unless exercise control."""
        if not self._control(caller):
            raise Forbidden(refusal)

    # -- quarantine -----------------------------------------------------------------------

    def _matchers(self) -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
        with self._lock:
            if self._quarantined is None:
                found = {}
                for s in self.ctx.events.scan(EXERCISE):
                    if self._is_quarantined(s):
                        ids = rules.field(s, "track_ids", []) or []
                        prefixes = rules.field(s, "track_prefixes", []) or []
                        found[s.record_id] = (frozenset(map(str, ids)), tuple(map(str, prefixes)))
                self._quarantined = found
            return self._quarantined

    def _records_held_back(self) -> frozenset[tuple[str, str]]:
        """The node's quarantine provider: the requests and reports that injects of a
        finished exercise were delivered as leave every domain's lists too."""
        with self._lock:
            if self._held is None:
                ended = set(self._matchers())
                held: set[tuple[str, str]] = set()
                for s in self.ctx.events.scan(INJECT) if ended else ():
                    made = rules.field(s, "delivered_as")
                    if rules.field(s, "exercise_id") in ended and isinstance(made, dict):
                        held.add((str(made.get("type")), str(made.get("id"))))
                self._held = frozenset(held)
            return self._held

    def _is_quarantined(self, exercise: RecordState) -> bool:
        return lc.is_complete(exercise) and (
            lc.status_of(EXERCISE_LIFECYCLE, exercise) == ExerciseStatus.FINISHED
        )

    def _track_quarantined(self, track: Any) -> bool:
        """The picture's predicate: an exercise-marked track of a finished exercise."""
        marked = bool(getattr(track, "exercise", False) or track.label.exercise)
        if not marked:
            return False
        return any(
            rules.track_belongs(track.id, True, ids, prefixes)
            for ids, prefixes in self._matchers().values()
        )

    # -- change feed ------------------------------------------------------------------

    def _committed(self, events: Sequence[Event]) -> None:
        """After each commit: refresh the quarantine, archive what just finished, push."""
        touched: dict[str, None] = {}
        finished: list[str] = []
        for e in events:
            if e.record_type == EXERCISE:
                touched[e.record_id] = None
                payload = e.payload if isinstance(e.payload, dict) else {}
                if payload.get("to") == ExerciseStatus.FINISHED or payload.get("set", {}).get(
                    "track_ids"
                ):
                    finished.append(e.record_id)
            elif e.record_type in (INJECT, OVERRIDE):
                if e.record_type == INJECT:
                    with self._lock:
                        self._held = None
                payload = e.payload if isinstance(e.payload, dict) else {}
                eid = payload.get("set", {}).get("exercise_id")
                state = self.ctx.events.get(e.record_type, e.record_id)
                eid = eid or (rules.field(state, "exercise_id") if state is not None else None)
                if isinstance(eid, str):
                    touched[eid] = None
        if not touched:
            return
        if finished:
            with self._lock:
                self._quarantined = None
                self._held = None
            picture = self._service("picture")
            for eid in finished:
                state = self.ctx.events.get(EXERCISE, eid)
                if state is None or not self._is_quarantined(state):
                    continue
                try:
                    self._write_archive(state)
                except Exception:
                    log.exception("exercise archive failed", exercise=eid)
            if picture is not None and hasattr(picture, "requarantine"):
                try:
                    picture.requarantine()
                except Exception:
                    log.exception("requarantine failed")
        if self.ctx.bus.subscribers <= 0:
            return
        for eid in touched:
            state = self.ctx.events.get(EXERCISE, eid)
            if state is None or not lc.is_complete(state):
                continue
            try:
                view = self._exercise_view(state, None)
                self.ctx.bus.publish(TOPIC, msgspec.to_builtins(view), state.label)
            except Exception:
                log.exception("exercise push failed", exercise=eid)

    # -- reads: helpers -----------------------------------------------------------------

    def _complete(self, record_type: str) -> list[RecordState]:
        return [s for s in self.ctx.events.scan(record_type) if lc.is_complete(s)]

    def _exercise(self, caller: Caller, eid: str) -> RecordState:
        state = get_visible(self.ctx, caller, EXERCISE, eid)
        if not lc.is_complete(state) or (self._is_quarantined(state) and not self._control(caller)):
            raise NotFound(CATALOG.msg("error.no-exercise", id=eid))
        return state

    def _overrides_of(self, eid: str) -> list[RecordState]:
        return [s for s in self._complete(OVERRIDE) if rules.field(s, "exercise_id") == eid]

    def _active_overrides(self, exercise: RecordState) -> list[RecordState]:
        parties = rules.participant_nodes(exercise) | {exercise.origin}
        return [
            s
            for s in self._overrides_of(exercise.record_id)
            if rules.active_override(s) and s.origin in parties
        ]

    def state_of(self, exercise: RecordState) -> str:
        return rules.exercise_state(exercise, self._active_overrides(exercise))

    def _participants(self, exercise: RecordState) -> list[dict[str, Any]]:
        parts = rules.field(exercise, "participants", []) or []
        return [p for p in parts if isinstance(p, dict)]

    # -- views --------------------------------------------------------------------------

    def _override_view(self, state: RecordState) -> OverrideOut:
        status = lc.status_of(OVERRIDE_LIFECYCLE, state)
        entry = lc.status_entry(state)
        view = {
            **label_fields(state.label),
            "id": state.record_id,
            "exercise_id": str(rules.field(state, "exercise_id", "")),
            "node": state.origin,
            "nation": str(rules.field(state, "nation", state.label.originator)),
            "reason": _text(rules.field(state, "reason")),
            "status": str(status),
            "declared_by": state.created_by,
            "declared_at": iso(to_seconds(state.created_hlc)),
            "lifted_at": iso(to_seconds(entry["hlc"])) if entry and status == "LIFTED" else None,
        }
        return msgspec.convert(view, OverrideOut)

    def _exercise_view(self, state: RecordState, caller: Caller | None) -> ExerciseOut:
        def f(key: str, default: Any = None) -> Any:
            return rules.field(state, key, default)

        status = lc.status_of(EXERCISE_LIFECYCLE, state)
        overrides = [
            o
            for o in self._overrides_of(state.record_id)
            if caller is None or may_release(o.label, caller.principal)
        ]
        if caller is None:  # a push: only overrides every reader of the exercise may see
            overrides = [o for o in overrides if _covers(state.label, o.label, self.ctx.groups)]
        active = [o for o in self._active_overrides(state) if o in overrides]
        st = self.state_of(state)
        reason = str(f("paused_reason", "") or "") if f("paused", False) else ""
        if active:
            first = _text(rules.field(active[0], "reason"))
            reason = first["en"] or first["ja"]
        control = caller is not None and self._control(caller)
        lead = control and state.origin == self.ctx.node_id
        ordered = sorted(
            overrides,
            key=lambda o: (not rules.active_override(o), -o.created_hlc),
        )
        view = {
            **_stamps(state),
            "id": state.record_id,
            "name": _text(f("name")),
            "lead_nation": str(f("lead_nation", state.label.originator)),
            "lead_node": state.origin,
            "participants": [
                {
                    "nation": str(p.get("nation", "")),
                    "node": str(p.get("node", "")),
                    "units": [str(u) for u in p.get("units", [])],
                    "instrument": p.get("instrument"),
                }
                for p in self._participants(state)
            ],
            "stages": [
                {"stage": s["stage"], "start": iso(s["start"]), "end": iso(s["end"])}
                for s in f("stages", []) or []
            ],
            "milestones": [
                {"stage": m["stage"], "name": _text(m.get("name")), "at": iso(m["at"])}
                for m in f("milestones", []) or []
            ],
            "startex": iso(float(f("startex", 0.0))),
            "endex": iso(float(f("endex", 0.0))),
            "facilities": list(f("facilities", []) or []),
            "retention_days": float(f("retention_days", 0.0)),
            "track_prefixes": list(f("track_prefixes", []) or []),
            "track_ids": sorted(f("track_ids", []) or []),
            "area": list(f("area", []) or []),
            "status": str(status),
            "state": st,
            "state_name": CATALOG.text(f"state.{st}"),
            "paused_reason": reason,
            "overrides": [self._override_view(o) for o in ordered],
            "quarantined": self._is_quarantined(state),
            "control": control,
            "allowed_actions": rules.allowed_actions(str(status), bool(f("paused", False)))
            if lead
            else [],
        }
        return msgspec.convert(view, ExerciseOut)

    def _inject_view(
        self, state: RecordState, exercise: RecordState | None, caller: Caller | None
    ) -> InjectOut:
        def f(key: str, default: Any = None) -> Any:
            return rules.field(state, key, default)

        status = lc.status_of(INJECT_LIFECYCLE, state)
        due_at = rules.due(exercise, state) if exercise is not None else float(f("offset", 0.0))
        held = (
            exercise is not None
            and self.state_of(exercise) == "paused"
            and status in (InjectStatus.APPROVED, InjectStatus.DELIVERED)
        )
        allowed: list[str] = []
        if caller is not None and self._control(caller) and state.origin == self.ctx.node_id:
            allowed = lc.allowed_transitions(
                INJECT_LIFECYCLE, status, {rules.CONTROL}, [rules.EXERCISE_CONTROL]
            )
        position = f("position")
        view = {
            **label_fields(state.label),
            "id": state.record_id,
            "exercise_id": str(f("exercise_id", "")),
            "seq": int(f("seq", 0)),
            "offset_minutes": float(f("offset", 0.0)) / 60.0,
            "due_at": iso(due_at),
            "move": str(f("move", "")),
            "from_org": str(f("from_org", "")),
            "to_org": str(f("to_org", "")),
            "to_node": f("to_node"),
            "delivery": str(f("delivery", "request")),
            "description": _text(f("description")),
            "expected_action": _text(f("expected_action")),
            "hidden": bool(f("hidden", False)),
            "state": str(status),
            "state_name": CATALOG.text(f"inject.{status}"),
            "held": held,
            "delivered_as": f("delivered_as"),
            "position": position,
            "origin": state.origin,
            "allowed_transitions": allowed,
            "updated_at": iso(to_seconds(state.updated_hlc)),
        }
        return msgspec.convert(view, InjectOut)

    # -- reads ------------------------------------------------------------------------

    def exercises(self, caller: Caller) -> list[ExerciseOut]:
        """The exercises the caller may see; after ENDEX only exercise control sees them."""
        control = self._control(caller)
        out = [
            self._exercise_view(s, caller)
            for s in filter_visible(self.ctx, caller, self._complete(EXERCISE))
            if control or not self._is_quarantined(s)
        ]
        return sorted(out, key=lambda e: e.startex)

    def exercise(self, caller: Caller, eid: str) -> ExerciseOut:
        return self._exercise_view(self._exercise(caller, eid), caller)

    def _visible_injects(self, caller: Caller, exercise: RecordState) -> list[RecordState]:
        control = self._control(caller)
        return [
            s
            for s in filter_visible(self.ctx, caller, self._complete(INJECT))
            if rules.field(s, "exercise_id") == exercise.record_id
            and (control or not rules.field(s, "hidden", False))
        ]

    def injects(self, caller: Caller, eid: str) -> list[InjectOut]:
        """The MSEL as the caller may see it: hidden lines only for exercise control."""
        exercise = self._exercise(caller, eid)
        out = [
            self._inject_view(s, exercise, caller) for s in self._visible_injects(caller, exercise)
        ]
        return sorted(out, key=lambda i: (i.offset_minutes, i.seq))

    def inject(self, caller: Caller, iid: str) -> InjectOut:
        state, exercise = self._inject(caller, iid)
        return self._inject_view(state, exercise, caller)

    def _inject(self, caller: Caller, iid: str) -> tuple[RecordState, RecordState]:
        state = get_visible(self.ctx, caller, INJECT, iid)
        if not lc.is_complete(state) or (
            rules.field(state, "hidden", False) and not self._control(caller)
        ):
            raise NotFound(CATALOG.msg("error.no-inject", id=iid))
        exercise = self._exercise(caller, str(rules.field(state, "exercise_id", "")))
        return state, exercise

    def active_injects(self, caller: Caller) -> list[InjectOut]:
        """Injects releasable to ``caller`` that are in play (APPROVED or DELIVERED) in
        exercises not quarantined; hidden ones only for exercise control."""
        control = self._control(caller)
        exercises = {
            s.record_id: s
            for s in filter_visible(self.ctx, caller, self._complete(EXERCISE))
            if not self._is_quarantined(s)
        }
        out = []
        for s in filter_visible(self.ctx, caller, self._complete(INJECT)):
            exercise = exercises.get(str(rules.field(s, "exercise_id", "")))
            if exercise is None or (rules.field(s, "hidden", False) and not control):
                continue
            if lc.status_of(INJECT_LIFECYCLE, s) in (InjectStatus.APPROVED, InjectStatus.DELIVERED):
                out.append(self._inject_view(s, exercise, caller))
        return sorted(out, key=lambda i: (i.due_at, i.seq))

    def quarantined_tracks(self, caller: Caller, eid: str) -> list[dict[str, Any]]:
        """Exercise control's view of an exercise's tracks held out of the live picture."""
        exercise = self._exercise(caller, eid)
        self._need_control(caller, CATALOG.msg("control.tracks", roles=CONTROL))
        if self._purged(eid):
            raise NotFound(CATALOG.msg("error.purged", id=eid))
        picture = self._service("picture")
        if picture is None:
            return []
        ids = frozenset(map(str, rules.field(exercise, "track_ids", []) or []))
        prefixes = tuple(map(str, rules.field(exercise, "track_prefixes", []) or []))
        now = self.clock()
        out = []
        for tid, observations in picture.candidates(None):
            view = picture.view_of(observations, caller.principal, now, quarantined=True)
            if view is None or not rules.track_belongs(
                tid, bool(view.exercise or view.label.exercise), ids, prefixes
            ):
                continue
            out.append(
                {
                    "id": view.id,
                    "callsign": view.callsign,
                    "lat": view.lat,
                    "lon": view.lon,
                    "sidc": view.sidc,
                    "observed_at": iso(view.observed_at),
                    **label_fields(view.label),
                }
            )
        return sorted(out, key=lambda t: str(t["id"]))

    # -- writes: helpers --------------------------------------------------------------

    def _commit(self, drafts: list[Draft], action: str, caller: Caller, **details: Any) -> None:
        self.ctx.events.append(drafts)
        self.ctx.audit.append(action, caller.name, "ok", **details)

    def _patch(
        self, record_type: str, state: RecordState, payload: dict[str, Any], caller: Caller
    ) -> Draft:
        return Draft(
            record_type,
            state.record_id,
            "patch",
            state.label,
            payload,
            precedence=state.precedence,
            author=caller.name,
        )

    def _exercise_label(self, caller: Caller, marking: str) -> Label:
        """The caller's marking, checked by the ingress rule, with the EXERCISE marking."""
        label = label_for_write(self.ctx, caller, marking)
        return label if label.exercise else msgspec.structs.replace(label, exercise=True)

    def _nation_principal(self, nation: str) -> Any:
        try:
            return make_principal(nation, Classification.TOP_SECRET, registry=self.ctx.groups)
        except LabelError as exc:
            raise Invalid(CATALOG.msg("error.participant", error=exc)) from None

    def _check_reach(
        self, label: Label, nations: Iterable[str], what: Literal["exercise", "inject", "override"]
    ) -> None:
        shut = sorted(n for n in set(nations) if not may_release(label, self._nation_principal(n)))
        if shut:
            # reach.exercise, reach.inject, reach.override
            detail = CATALOG.msg(f"reach.{what}", label=label.render(), nations=", ".join(shut))
            raise Invalid(detail, nations=shut)

    def _participation(
        self, nations: Iterable[str], facilities: list[str], start: float, end: float
    ) -> dict[str, str | None]:
        """Each nation's covering access instrument (the access domain's check: activity
        ``training`` at each facility over the exercise's dates); Invalid naming the
        reason and the instrument that would be needed for the first one refused."""
        access = self._service("access")
        check = getattr(access, "check", None)
        if check is None:
            log.warning("no access service: participation not checked")
            return {}
        found: dict[str, str | None] = {}
        for nation in sorted(set(nations)):
            places: list[str | None] = list(facilities) or [None]
            for facility in places:
                verdict = check(nation, "training", facility, _dt(start), _dt(end))
                if not verdict.allowed:
                    text = dict(getattr(verdict, "detail", {}) or {})
                    # The access check's own text in each language (``reason_ja`` holds
                    # what would be needed already).
                    why = {
                        "nation": nation,
                        "reason": text.get("en") or verdict.reason,
                        "reason_ja": text.get("ja") or text.get("en") or verdict.reason,
                    }
                    raise Invalid(
                        CATALOG.msg("error.not-participant-needed", **why, needed=verdict.needed)
                        if verdict.needed
                        else CATALOG.msg("error.not-participant", **why),
                        nation=nation,
                        facility=facility,
                        reason=verdict.reason,
                        needed=verdict.needed,
                        instrument=verdict.instrument,
                        detail_ja=text.get("ja", ""),
                    )
                found.setdefault(nation, verdict.instrument)
        return found

    # -- writes: exercises ------------------------------------------------------------

    def create_exercise(self, caller: Caller, data: ExerciseIn) -> ExerciseOut:
        self._need_control(caller, CATALOG.msg("control.plan", roles=CONTROL))
        if not (data.name.en.strip() or data.name.ja.strip()):
            raise Invalid(CATALOG.msg("error.exercise-name"))
        startex, endex = _when(data.startex, "startex"), _when(data.endex, "endex")
        if endex <= startex:
            raise Invalid(CATALOG.msg("error.endex-before-startex"))
        problems: list[Message] = []
        stages = []
        for s in data.stages:
            start, end = (
                _when(s.start, f"stage {s.stage} start"),
                _when(s.end, f"stage {s.stage} end"),
            )
            if end < start:
                problems.append(CATALOG.msg("problem.stage-ends-first", stage=s.stage))
            stages.append({"stage": s.stage, "start": start, "end": end})
        if len({s["stage"] for s in stages}) != len(stages):
            problems.append(CATALOG.msg("problem.stage-twice"))
        stages.sort(key=lambda s: STAGES.index(s["stage"]))
        milestones = sorted(
            (
                {
                    "stage": m.stage,
                    "name": msgspec.to_builtins(m.name),
                    "at": _when(m.at, "milestone"),
                }
                for m in data.milestones
            ),
            key=lambda m: m["at"],
        )
        parts: dict[str, dict[str, Any]] = {}
        for p in data.participants:
            if p.node in parts:
                problems.append(CATALOG.msg("problem.participant-twice", node=p.node))
            parts[p.node] = {"nation": p.nation, "node": p.node, "units": list(p.units)}
        if self.ctx.node_id not in parts:
            parts[self.ctx.node_id] = {
                "nation": self.ctx.nation,
                "node": self.ctx.node_id,
                "units": [],
            }
        elif parts[self.ctx.node_id]["nation"] != self.ctx.nation:
            problems.append(
                CATALOG.msg("problem.node-nation", node=self.ctx.node_id, nation=self.ctx.nation)
            )
        if len(data.area) in (1, 2):
            problems.append(CATALOG.msg("problem.area-points"))
        if problems:
            raise Invalid(Joined(problems), errors=[str(p) for p in problems])
        label = self._exercise_label(caller, data.label)
        nations = {part["nation"] for part in parts.values()}
        self._check_reach(label, nations, "exercise")
        instruments = self._participation(nations, list(data.facilities), startex, endex)
        for part in parts.values():
            part["instrument"] = instruments.get(part["nation"])
        sets = {
            "name": msgspec.to_builtins(data.name),
            "lead_nation": self.ctx.nation,
            "lead_node": self.ctx.node_id,
            "participants": list(parts.values()),
            "stages": stages,
            "milestones": milestones,
            "startex": startex,
            "endex": endex,
            "facilities": list(dict.fromkeys(data.facilities)),
            "retention_days": data.retention_days,
            "track_prefixes": list(dict.fromkeys(data.track_prefixes)),
            "track_ids": [],
            "area": msgspec.to_builtins(data.area),
            "paused": False,
            "paused_reason": "",
        }
        eid = new_id()
        draft = Draft(
            EXERCISE,
            eid,
            "create",
            label,
            {"action": "create", "set": sets},
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "exercise.create", caller, id=eid, label=label.render())
        return self.exercise(caller, eid)

    def act(self, caller: Caller, eid: str, data: ExerciseStateIn) -> ExerciseOut:
        """The lead's moves: start, pause, resume, ENDEX, cancel."""
        state = self._exercise(caller, eid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.led-elsewhere-state", id=eid, node=state.origin))
        self._need_control(caller, CATALOG.msg("control.move", roles=CONTROL))
        status = lc.status_of(EXERCISE_LIFECYCLE, state)
        paused = bool(rules.field(state, "paused", False))
        allowed = rules.allowed_actions(str(status), paused)
        if data.action not in allowed:
            key = "error.cannot-act-paused" if paused else "error.cannot-act"
            raise Conflict(
                CATALOG.msg(key, state=str(status).lower(), action=data.action),
                allowed_actions=allowed,
            )
        _frm, to = rules.ACTIONS[data.action]
        drafts: list[Draft] = []
        sets: dict[str, Any] = {}
        if data.action == "pause":
            sets = {"paused": True, "paused_reason": data.reason.strip()}
        elif data.action == "resume":
            sets = {"paused": False, "paused_reason": ""}
        if to is None:
            drafts.append(self._patch(EXERCISE, state, {"action": "set", "set": sets}, caller))
        else:
            payload: dict[str, Any] = {"action": "transition", "from": str(status), "to": str(to)}
            payload["reason"] = data.reason.strip()
            if to in (ExerciseStatus.FINISHED, ExerciseStatus.CANCELLED):
                payload["set"] = {"finished_at": self.clock()}
                drafts += self._expire_own(state, caller)
            drafts.insert(0, self._patch(EXERCISE, state, payload, caller))
        self._commit(drafts, f"exercise.{data.action}", caller, id=eid, reason=data.reason.strip())
        return self.exercise(caller, eid)

    def _expire_own(self, exercise: RecordState, caller: Caller) -> list[Draft]:
        """This node's injects of an ending exercise not yet delivered: EXPIRED."""
        out = []
        for s in self._complete(INJECT):
            if s.origin != self.ctx.node_id or rules.field(s, "exercise_id") != exercise.record_id:
                continue
            status = lc.status_of(INJECT_LIFECYCLE, s)
            if status in OPEN_INJECT:
                step = {
                    "action": "transition",
                    "from": str(status),
                    "to": InjectStatus.EXPIRED.value,
                }
                out.append(self._patch(INJECT, s, step, caller))
        return out

    def add_tracks(self, caller: Caller, eid: str, data: TracksIn) -> ExerciseOut:
        state = self._exercise(caller, eid)
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.led-elsewhere", id=eid, node=state.origin))
        self._need_control(caller, CATALOG.msg("control.name-tracks", roles=CONTROL))
        ids = sorted(set(rules.field(state, "track_ids", []) or []) | set(data.track_ids))
        payload = {"action": "set", "set": {"track_ids": ids}}
        self._commit(
            [self._patch(EXERCISE, state, payload, caller)], "exercise.tracks", caller, id=eid
        )
        return self.exercise(caller, eid)

    # -- writes: injects --------------------------------------------------------------

    def _inject_draft(
        self, caller: Caller, exercise: RecordState, data: InjectIn, taken: set[int]
    ) -> Draft:
        problems: list[Message] = []
        if data.seq in taken:
            problems.append(CATALOG.msg("problem.seq-taken", seq=data.seq))
        if not (data.description.en.strip() or data.description.ja.strip()):
            problems.append(CATALOG.msg("problem.inject-description"))
        nodes = {str(p.get("node")): str(p.get("nation")) for p in self._participants(exercise)}
        if data.to_node is not None and data.to_node not in nodes:
            problems.append(CATALOG.msg("problem.to-node", node=data.to_node))
        if data.delivery == "request" and data.to_node is None:
            problems.append(CATALOG.msg("problem.request-to-node"))
        if problems:
            raise Invalid(Joined(problems), errors=[str(p) for p in problems])
        label = (
            self._exercise_label(caller, data.label)
            if data.label.strip()
            else self._own_label(exercise.label)
        )
        if data.to_node is not None:
            self._check_reach(label, [nodes[data.to_node]], "inject")
        sets = {
            "exercise_id": exercise.record_id,
            "seq": data.seq,
            "offset": data.offset_minutes * 60.0,
            "move": data.move,
            "from_org": data.from_org,
            "to_org": data.to_org,
            "to_node": data.to_node,
            "delivery": data.delivery,
            "description": msgspec.to_builtins(data.description),
            "expected_action": msgspec.to_builtins(data.expected_action),
            "hidden": data.hidden,
            "position": msgspec.to_builtins(data.position),
        }
        return Draft(
            INJECT,
            new_id(),
            "create",
            label,
            {"action": "create", "set": sets},
            author=caller.name,
            new_record=True,
        )

    def _own_label(self, label: Label) -> Label:
        """An exercise's label as this node writes it (its nation originates what it writes)."""
        if label.originator == self.ctx.nation:
            return label
        return rule(self.ctx.nation, self.ctx.groups).label(
            label.classification, rel_to=label.rel_to, noforn=label.noforn, exercise=True
        )

    def _taken(self, eid: str) -> set[int]:
        return {
            int(rules.field(s, "seq", 0))
            for s in self._complete(INJECT)
            if rules.field(s, "exercise_id") == eid
        }

    def _writable_exercise(self, caller: Caller, eid: str) -> RecordState:
        exercise = self._exercise(caller, eid)
        self._need_control(caller, CATALOG.msg("control.msel", roles=CONTROL))
        if self.ctx.node_id not in rules.participant_nodes(exercise) | {exercise.origin}:
            raise Forbidden(CATALOG.msg("error.not-taking-part", id=eid))
        if lc.status_of(EXERCISE_LIFECYCLE, exercise) in EXERCISE_LIFECYCLE.terminal:
            raise Conflict(CATALOG.msg("error.ended", id=eid))
        return exercise

    def create_inject(self, caller: Caller, eid: str, data: InjectIn) -> InjectOut:
        exercise = self._writable_exercise(caller, eid)
        draft = self._inject_draft(caller, exercise, data, self._taken(eid))
        self._commit(
            [draft], "inject.create", caller, id=draft.record_id, exercise=eid, seq=data.seq
        )
        return self.inject(caller, draft.record_id)

    def import_msel(self, caller: Caller, eid: str, text: str) -> ImportResult:
        """An MSEL from CSV: every row checked first, so all land or none (row numbers)."""
        exercise = self._writable_exercise(caller, eid)
        try:
            rows = parse_msel(text)
        except MselError as exc:
            raise Invalid(
                CATALOG.msg("error.msel", problems=exc.message),
                errors=exc.problems,
            ) from None
        taken = self._taken(eid)
        drafts: list[Draft] = []
        problems: list[Message] = []
        for n, data in enumerate(rows):
            try:
                drafts.append(self._inject_draft(caller, exercise, data, taken))
                taken.add(data.seq)
            except (Invalid, Forbidden) as exc:
                why = exc.message or exc.detail
                problems.append(
                    CATALOG.msg("msel.inject-row", seq=data.seq, row=n + 1, problem=why)
                )
        if problems:
            detail = CATALOG.msg("error.msel", problems=Joined(problems[:20]))
            raise Invalid(detail, errors=[str(p) for p in problems])
        self._commit(drafts, "inject.import", caller, exercise=eid, count=len(drafts))
        out = [self.inject(caller, d.record_id) for d in drafts]
        return ImportResult(imported=len(out), injects=out)

    def transition_inject(self, caller: Caller, iid: str, data: InjectTransitionIn) -> InjectOut:
        state, exercise = self._inject(caller, iid)
        self._need_control(caller, CATALOG.msg("control.injects", roles=CONTROL))
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.inject-elsewhere", id=iid, node=state.origin))
        status = lc.status_of(INJECT_LIFECYCLE, state)
        try:
            to = lc.check_transition(
                INJECT_LIFECYCLE, status, data.to, {rules.CONTROL}, [rules.EXERCISE_CONTROL], ""
            )
        except (Invalid, Conflict, Forbidden) as exc:
            self.ctx.audit.append(
                "inject.transition", caller.name, "refused", id=iid, reason=str(exc)
            )
            raise
        if to == InjectStatus.DELIVERED:
            ex_state = self.state_of(exercise)
            if ex_state != "running":
                raise Conflict(CATALOG.msg("error.not-running", state=ex_state))
            self._deliver(exercise, state, caller)
        else:
            payload: dict[str, Any] = {"action": "transition", "from": str(status), "to": str(to)}
            if data.note.strip():
                payload["set"] = {"note": data.note.strip()}
            self._commit(
                [self._patch(INJECT, state, payload, caller)],
                "inject.transition",
                caller,
                id=iid,
                frm=str(status),
                to=str(to),
            )
        return self.inject(caller, iid)

    def _deliver(self, exercise: RecordState, inject: RecordState, caller: Caller) -> None:
        """Carry the inject to its addressee (a request or a report marked EXERCISE), then
        move it to DELIVERED naming the record made; once, whoever gets there first (the
        schedule's thread or exercise control's request)."""
        with self._lock:
            fresh = self.ctx.events.get(INJECT, inject.record_id)
            if fresh is None or lc.status_of(INJECT_LIFECYCLE, fresh) != InjectStatus.APPROVED:
                raise Conflict(CATALOG.msg("error.no-longer-approved", id=inject.record_id))
            self._carry(exercise, fresh, caller)

    def _carry(self, exercise: RecordState, inject: RecordState, caller: Caller) -> None:
        def f(key: str, default: Any = None) -> Any:
            return rules.field(inject, key, default)

        method = str(f("delivery", "request"))
        name = _text(rules.field(exercise, "name"))
        desc = _text(f("description"))
        values = {"seq": f("seq", 0), "frm": f("from_org", ""), "to": f("to_org", "")}
        title = Text(
            en=CATALOG.get("en", "delivered.title", name=name["en"] or name["ja"], **values),
            ja=CATALOG.get("ja", "delivered.title", name=name["ja"] or name["en"], **values),
        )
        body = Text(en=desc["en"], ja=desc["ja"])
        marking = inject.label.render()
        made: dict[str, str] | None = None
        # Exercise control delivers for its node: as a requester of no particular role.
        actor = Caller(
            User(name=caller.name, nation=self.ctx.nation, clearance="TOP_SECRET", roles=[]),
            caller.principal,
        )
        if method in CARRIED:
            if method == "request":
                coordination = self._service("coordination")
                if coordination is None:
                    raise Conflict(CATALOG.msg("error.no-coordination"))
                data = _RequestData(
                    addressees=[str(f("to_node"))], label=marking, title=title, body=body
                )
                record = coordination.create(actor, data)
                # Submitted at once: the addressee sees it in its requests, marked EXERCISE.
                coordination.transition(actor, record.record_id, _Transition(to="SUBMITTED"))
            else:
                reports = self._service("reports")
                if reports is None:
                    raise Conflict(CATALOG.msg("error.no-reports"))
                pos = f("position")
                position = msgspec.convert(pos, Position) if pos else None
                record = reports.create(
                    actor, _ReportData(label=marking, title=title, body=body, position=position)
                )
            made = {"type": method, "id": record.record_id}
        payload = {
            "action": "transition",
            "from": InjectStatus.APPROVED.value,
            "to": InjectStatus.DELIVERED.value,
            "set": {"delivered_as": made},
        }
        self._commit(
            [self._patch(INJECT, inject, payload, caller)],
            "inject.deliver",
            caller,
            id=inject.record_id,
            delivered_as=made,
        )

    # -- writes: overrides ------------------------------------------------------------

    def declare_override(self, caller: Caller, eid: str, data: OverrideIn) -> OverrideOut:
        """A real-world emergency on this node: the exercise pauses on every participating node."""
        exercise = self._exercise(caller, eid)
        if not rules.may_declare(caller.user.roles):
            raise Forbidden(CATALOG.msg("error.may-not-declare"))
        if self.ctx.node_id not in rules.participant_nodes(exercise) | {exercise.origin}:
            raise Forbidden(CATALOG.msg("error.not-taking-part", id=eid))
        if lc.status_of(EXERCISE_LIFECYCLE, exercise) != ExerciseStatus.RUNNING:
            raise Conflict(CATALOG.msg("error.override-not-running"))
        if not (data.reason.en.strip() or data.reason.ja.strip()):
            raise Invalid(CATALOG.msg("error.override-reason"))
        if data.label.strip():
            label = self._exercise_label(caller, data.label)
        else:
            label = self._own_label(exercise.label)
            refusal = rule(self.ctx.nation, self.ctx.groups).refusal(label, caller.principal)
            if refusal is not None:
                raise Forbidden(refusal.message)
        nations = {str(p.get("nation")) for p in self._participants(exercise)}
        self._check_reach(label, nations, "override")
        sets = {
            "exercise_id": eid,
            "nation": self.ctx.nation,
            "reason": msgspec.to_builtins(data.reason),
        }
        oid = new_id()
        draft = Draft(
            OVERRIDE,
            oid,
            "create",
            label,
            {"action": "create", "set": sets},
            precedence=Precedence.FLASH,
            author=caller.name,
            new_record=True,
        )
        self._commit([draft], "exercise.override", caller, id=oid, exercise=eid)
        state = self.ctx.events.get(OVERRIDE, oid)
        assert state is not None
        return self._override_view(state)

    def lift_override(self, caller: Caller, oid: str) -> OverrideOut:
        state = get_visible(self.ctx, caller, OVERRIDE, oid)
        if not lc.is_complete(state):
            raise NotFound(CATALOG.msg("error.no-override", id=oid))
        if state.origin != self.ctx.node_id:
            raise Forbidden(CATALOG.msg("error.override-elsewhere", id=oid, node=state.origin))
        if not rules.may_declare(caller.user.roles):
            raise Forbidden(CATALOG.msg("error.may-not-lift"))
        if lc.status_of(OVERRIDE_LIFECYCLE, state) != OverrideStatus.ACTIVE:
            raise Conflict(CATALOG.msg("error.lifted", id=oid))
        step = {"action": "transition", "from": "ACTIVE", "to": "LIFTED"}
        self._commit(
            [self._patch(OVERRIDE, state, step, caller)], "exercise.override_lift", caller, id=oid
        )
        fresh = self.ctx.events.get(OVERRIDE, oid)
        assert fresh is not None
        return self._override_view(fresh)

    # -- the schedule ----------------------------------------------------------------

    def tick(self, now: float | None = None) -> int:
        """Deliver this node's due injects of running exercises and purge archives past their
        retention; how many injects were delivered."""
        now = self.clock() if now is None else now
        delivered = 0
        exercises = {s.record_id: s for s in self._complete(EXERCISE)}
        caller = self.node_caller()
        for s in self._complete(INJECT):
            if s.origin != self.ctx.node_id:
                continue
            exercise = exercises.get(str(rules.field(s, "exercise_id", "")))
            if exercise is None:
                continue
            status = lc.status_of(INJECT_LIFECYCLE, s)
            if rules.deliverable(self.state_of(exercise), status, rules.due(exercise, s), now):
                try:
                    self._deliver(exercise, s, caller)
                    delivered += 1
                except Conflict:
                    continue  # delivered meanwhile by exercise control
                except Exception:
                    log.exception("inject delivery failed", inject=s.record_id)
        self.purge_due(now)
        return delivered

    async def run(self, interval: float = 2.0) -> None:
        while True:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.tick)
            await asyncio.sleep(interval)

    # -- the archive -------------------------------------------------------------------

    def _archive_path(self, eid: str) -> Path:
        return self.dir / f"{eid}.archive.json"

    def _purged(self, eid: str) -> bool:
        return (self.dir / f"{eid}.purged").exists()

    def _archive_items(self, exercise: RecordState) -> list[ArchiveItem]:
        eid = exercise.record_id
        items: list[ArchiveItem] = []

        def add(record_type: str, rid: str, origin: str, label: Label, view: Any) -> None:
            items.append(
                ArchiveItem(
                    record_type=record_type,
                    id=rid,
                    origin=origin,
                    label=label.render(),
                    label_parts=msgspec.convert(lc.label_to_dict(label), ArchiveLabel),
                    record=arch.canonical(msgspec.to_builtins(view)),
                )
            )

        def record(state: RecordState, view: Any) -> None:
            add(state.record_type, state.record_id, state.origin, state.label, view)

        record(exercise, self._exercise_view(exercise, None))
        injects = sorted(
            (s for s in self._complete(INJECT) if rules.field(s, "exercise_id") == eid),
            key=lambda s: (float(rules.field(s, "offset", 0.0)), int(rules.field(s, "seq", 0))),
        )
        for s in injects:
            record(s, self._inject_view(s, exercise, None))
            made = rules.field(s, "delivered_as")
            if isinstance(made, dict) and made.get("type") in CARRIED:
                held = self.ctx.events.get(str(made["type"]), str(made["id"]))
                if held is not None:
                    record(held, held.fields)
        for s in sorted(self._overrides_of(eid), key=lambda o: o.created_hlc):
            record(s, self._override_view(s))
        picture = self._service("picture")
        if picture is not None:
            ids = frozenset(map(str, rules.field(exercise, "track_ids", []) or []))
            prefixes = tuple(map(str, rules.field(exercise, "track_prefixes", []) or []))
            for tid, observations in sorted(picture.candidates(None), key=lambda r: r[0]):
                for obs in observations:
                    marked = bool(obs.exercise or obs.label.exercise)
                    if rules.track_belongs(tid, marked, ids, prefixes):
                        add("track", tid, obs.source, obs.label, obs)
        return items

    def _write_archive(self, exercise: RecordState) -> Archive:
        eid = exercise.record_id
        path = self._archive_path(eid)
        if path.exists() or self._purged(eid):
            return (
                msgspec.json.decode(path.read_bytes(), type=Archive)
                if path.exists()
                else self._missing(eid)
            )
        finished = float(rules.field(exercise, "finished_at", 0.0) or self.clock())
        retention = float(rules.field(exercise, "retention_days", 0.0)) * 86400.0
        key, cert = arch.node_key(Path(self.ctx.root))
        archive = arch.build(
            exercise_id=eid,
            node=self.ctx.node_id,
            nation=self.ctx.nation,
            created_at=iso(self.clock()),
            purge_after=iso(finished + retention),
            items=self._archive_items(exercise),
            key=key,
            cert_pem=cert,
        )
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(archive))
        tmp.replace(path)
        self.ctx.audit.append(
            "exercise.archive",
            f"node:{self.ctx.node_id}",
            "ok",
            id=eid,
            entries=len(archive.entries),
            head=archive.head,
        )
        return archive

    def _missing(self, eid: str) -> Archive:
        raise NotFound(CATALOG.msg("error.purged", id=eid))

    def archive(self, caller: Caller, eid: str) -> Archive:
        """The node's signed archive of a finished exercise, for exercise control whose
        clearance covers every record in it."""
        exercise = self._exercise(caller, eid)
        self._need_control(caller, CATALOG.msg("control.archive", roles=CONTROL))
        if not self._is_quarantined(exercise):
            raise Conflict(CATALOG.msg("error.archive-at-endex"))
        if self._purged(eid):
            raise NotFound(CATALOG.msg("error.purged", id=eid))
        archive = self._write_archive(exercise)
        for entry in archive.entries:
            label = lc.label_from_dict(msgspec.to_builtins(entry.item.label_parts))
            if label is None or not may_release(label, caller.principal):
                # The signature covers every entry: a partial archive would not verify.
                raise Forbidden(CATALOG.msg("error.archive-unseen"))
        return archive

    def verify_archive(self, caller: Caller, eid: str) -> VerifyOut:
        archive = self.archive(caller, eid)
        return arch.verify(archive)

    def purge_due(self, now: float | None = None) -> list[str]:
        """Delete the archives (and the quarantined access) of finished exercises past the
        lead nation's retention period; the ids purged."""
        now = self.clock() if now is None else now
        purged = []
        for s in self._complete(EXERCISE):
            if not self._is_quarantined(s) or self._purged(s.record_id):
                continue
            finished = rules.field(s, "finished_at")
            if finished is None:
                continue
            limit = float(finished) + float(rules.field(s, "retention_days", 0.0)) * 86400.0
            if now < limit:
                continue
            self.dir.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self._archive_path(s.record_id).unlink()
            (self.dir / f"{s.record_id}.purged").write_text(iso(now), encoding="utf-8")
            self.ctx.audit.append(
                "exercise.purge", f"node:{self.ctx.node_id}", "ok", id=s.record_id
            )
            purged.append(s.record_id)
        return purged

    # -- map features -------------------------------------------------------------------

    def features(self, principal: Any) -> list[dict[str, Any]]:
        """Exercise areas and placed injects ``principal`` may see (players: no hidden ones),
        of exercises not quarantined."""
        out: list[dict[str, Any]] = []
        live = {
            s.record_id: s
            for s in self._complete(EXERCISE)
            if may_release(s.label, principal) and not self._is_quarantined(s)
        }
        for eid, s in live.items():
            ring = [[p["lon"], p["lat"]] for p in rules.field(s, "area", []) or []]
            if len(ring) >= 3:
                out.append(
                    {
                        "id": eid,
                        "record_type": EXERCISE,
                        "name": _text(rules.field(s, "name")),
                        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                        "label": s.label.render(),
                        "properties": {"state": self.state_of(s), "lead_node": s.origin},
                        "time": iso(float(rules.field(s, "startex", 0.0))),
                        "end": iso(float(rules.field(s, "endex", 0.0))),
                    }
                )
        for s in self._complete(INJECT):
            exercise = live.get(str(rules.field(s, "exercise_id", "")))
            pos = rules.field(s, "position")
            if exercise is None or not pos or rules.field(s, "hidden", False):
                continue
            if not may_release(s.label, principal):
                continue
            seq = int(rules.field(s, "seq", 0))
            out.append(
                {
                    "id": s.record_id,
                    "record_type": INJECT,
                    "name": {"en": f"Inject {seq}", "ja": f"状況付与 {seq}"},
                    "description": _text(rules.field(s, "description")),
                    "geometry": {"type": "Point", "coordinates": [pos["lon"], pos["lat"]]},
                    "label": s.label.render(),
                    "properties": {"exercise_id": exercise.record_id, "seq": seq},
                    "time": iso(rules.due(exercise, s)),
                }
            )
        return out


@dataclass
class _Transition:
    """What the coordination service reads of a transition."""

    to: str
    reason: str = ""
    response: Text | None = None


def _covers(outer: Label, inner: Label, groups: GroupRegistry) -> bool:
    """Whether every reader of ``outer`` may also read ``inner`` (so ``inner`` may travel
    in a push under ``outer``)."""
    if inner.classification > outer.classification:
        return False
    wide, narrow = reach(inner, groups), reach(outer, groups)
    return wide is None or (narrow is not None and narrow <= wide)


__all__ = ["ExerciseService"]
