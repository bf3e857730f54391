"""HTTP routes: /api/v1/exercises, /api/v1/injects, /api/v1/overrides."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kizuna.core.label_view import LabelView
from kizuna.exercises.models import (
    Archive,
    ExerciseIn,
    ExerciseOut,
    ExerciseStateIn,
    ImportResult,
    InjectIn,
    InjectOut,
    InjectTransitionIn,
    OverrideIn,
    OverrideOut,
    TracksIn,
    VerifyOut,
)
from kizuna.exercises.msel import MAX_BYTES
from kizuna.exercises.service import ExerciseService
from kizuna.kernel.context import CallerDep

ServiceDep: TypeAlias = NamedDependency[ExerciseService]
_409 = {"problems": (409,)}


class MselIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An MSEL as CSV text (columns: kizuna.exercises.msel)."""

    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_BYTES)]


class QuarantinedTrackOut(LabelView, kw_only=True):
    id: str
    callsign: str
    lat: float
    lon: float
    sidc: str
    observed_at: str


class ExerciseController(Controller):
    path = "/api/v1/exercises"
    tags = ["exercises"]  # noqa: RUF012

    @post("/", status_code=201, summary="Plan an exercise (lead node; participation checked)")
    async def create(
        self, data: JSONBody[ExerciseIn], caller: CallerDep, service: ServiceDep
    ) -> ExerciseOut:
        return service.create_exercise(caller, data)

    @get("/", summary="Exercises the caller may see (after ENDEX: exercise control only)")
    async def list_exercises(self, caller: CallerDep, service: ServiceDep) -> list[ExerciseOut]:
        return service.exercises(caller)

    @get("/{exercise_id:str}", summary="One exercise")
    async def get_exercise(
        self, exercise_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> ExerciseOut:
        return service.exercise(caller, exercise_id)

    @post(
        "/{exercise_id:str}/state",
        status_code=200,
        summary="STARTEX, pause, resume, ENDEX or cancel (the lead's exercise control)",
        opt=_409,
    )
    async def act(
        self,
        exercise_id: FromPath[str],
        data: JSONBody[ExerciseStateIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> ExerciseOut:
        return service.act(caller, exercise_id, data)

    @post("/{exercise_id:str}/tracks", status_code=200, summary="Name the exercise's tracks")
    async def add_tracks(
        self,
        exercise_id: FromPath[str],
        data: JSONBody[TracksIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> ExerciseOut:
        return service.add_tracks(caller, exercise_id, data)

    @get(
        "/{exercise_id:str}/tracks",
        summary="The exercise's tracks held out of the live picture (exercise control)",
    )
    async def tracks(
        self, exercise_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> list[QuarantinedTrackOut]:
        rows = service.quarantined_tracks(caller, exercise_id)
        return [msgspec.convert(r, QuarantinedTrackOut) for r in rows]

    @get("/{exercise_id:str}/injects", summary="The MSEL as the caller may see it")
    async def injects(
        self, exercise_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> list[InjectOut]:
        return service.injects(caller, exercise_id)

    @post("/{exercise_id:str}/injects", status_code=201, summary="Add an inject (exercise control)")
    async def create_inject(
        self,
        exercise_id: FromPath[str],
        data: JSONBody[InjectIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> InjectOut:
        return service.create_inject(caller, exercise_id, data)

    @post(
        "/{exercise_id:str}/msel",
        status_code=201,
        summary="Import an MSEL from CSV: all rows or none, bad rows named",
    )
    async def import_msel(
        self,
        exercise_id: FromPath[str],
        data: JSONBody[MselIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> ImportResult:
        return service.import_msel(caller, exercise_id, data.csv)

    @post(
        "/{exercise_id:str}/overrides",
        status_code=201,
        summary="Declare a real-world emergency: the exercise pauses on every node",
        opt=_409,
    )
    async def declare(
        self,
        exercise_id: FromPath[str],
        data: JSONBody[OverrideIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> OverrideOut:
        return service.declare_override(caller, exercise_id, data)

    @get("/{exercise_id:str}/archive", summary="This node's signed archive (after ENDEX)")
    async def archive(
        self, exercise_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> Archive:
        return service.archive(caller, exercise_id)

    @get("/{exercise_id:str}/archive/verify", summary="Verify this node's archive")
    async def verify(
        self, exercise_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> VerifyOut:
        return service.verify_archive(caller, exercise_id)


class InjectController(Controller):
    path = "/api/v1/injects"
    tags = ["exercises"]  # noqa: RUF012

    @get("/", summary="Injects in play the caller may see (approved or delivered)")
    async def active(self, caller: CallerDep, service: ServiceDep) -> list[InjectOut]:
        return service.active_injects(caller)

    @get("/{inject_id:str}", summary="One inject")
    async def get_inject(
        self, inject_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> InjectOut:
        return service.inject(caller, inject_id)

    @post(
        "/{inject_id:str}/transition",
        status_code=200,
        summary="Approve, deliver, complete, fail or expire (exercise control)",
        opt=_409,
    )
    async def transition(
        self,
        inject_id: FromPath[str],
        data: JSONBody[InjectTransitionIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> InjectOut:
        return service.transition_inject(caller, inject_id, data)


class OverrideController(Controller):
    path = "/api/v1/overrides"
    tags = ["exercises"]  # noqa: RUF012

    @post(
        "/{override_id:str}/lift", status_code=200, summary="Lift a real-world override", opt=_409
    )
    async def lift(
        self, override_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> OverrideOut:
        return service.lift_override(caller, override_id)
