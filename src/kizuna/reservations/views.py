"""HTTP routes of reservations under ``/api/v1/reservations``: the calendar, reserving,
cancelling, and the weekly schedule notice (JSON and CSV)."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.core.errors import KizunaError
from kizuna.core.time import DATE_TIME, parse_iso
from kizuna.kernel.context import CallerDep
from kizuna.reservations.models import CancelIn, ReservationIn, ReservationOut, ScheduleOut
from kizuna.reservations.rules import MESSAGES
from kizuna.reservations.service import ReservationService

ReservationsDep: TypeAlias = NamedDependency[ReservationService]
CSV = "text/csv; charset=utf-8"

TimeQuery = Annotated[
    str | None,
    QueryParameter(description="ISO 8601 date and time", schema_extra={"pattern": DATE_TIME}),
]
WeekQuery = Annotated[
    str | None,
    QueryParameter(
        description="ISO week in Japan, YYYY-Www (default: next week)",
        schema_extra={"pattern": r"^\d{4}-W\d{2}$"},
    ),
]
IdQuery = Annotated[str | None, QueryParameter(max_length=128)]


def _time(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        detail = MESSAGES.msg("error.bad-time", name=name, text=repr(value[:60]))
        raise KizunaError(detail, parameter=name) from None


class ReservationController(Controller):
    path = "/api/v1/reservations"
    tags = ["reservations"]  # noqa: RUF012

    @get("/", summary="Reservations the caller may see, by start (each with its conflicts)")
    async def list_reservations(
        self,
        caller: CallerDep,
        service: ReservationsDep,
        place: IdQuery = None,
        exercise: IdQuery = None,
        after: TimeQuery = None,
        before: TimeQuery = None,
    ) -> list[ReservationOut]:
        return service.list(
            caller,
            place_id=place,
            exercise_id=exercise,
            after=_time(after, "after"),
            before=_time(before, "before"),
        )

    @post(
        "/",
        status_code=201,
        summary="Reserve a facility or area (checked against access arrangements and conflicts)",
        opt={"problems": (409,)},
    )
    async def create_reservation(
        self, data: JSONBody[ReservationIn], caller: CallerDep, service: ReservationsDep
    ) -> ReservationOut:
        return service.create(caller, data)

    @get("/schedule", summary="The weekly schedule notice: the week's active reservations")
    async def weekly_schedule(
        self, caller: CallerDep, service: ReservationsDep, week: WeekQuery = None
    ) -> ScheduleOut:
        return service.schedule(caller, week)

    @get(
        "/schedule.csv",
        summary="The weekly schedule notice as CSV (a label on every row)",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                description="CSV: a header row, one row per reservation",
                media_type=CSV,
                generate_examples=False,
            )
        },
    )
    async def weekly_schedule_csv(
        self, caller: CallerDep, service: ReservationsDep, week: WeekQuery = None
    ) -> Response[bytes]:
        text, highest = service.schedule_csv(caller, week)
        return Response(
            text.encode("utf-8"),
            media_type=CSV,
            headers={
                "Content-Disposition": 'attachment; filename="reservations-schedule.csv"',
                "X-Content-Type-Options": "nosniff",
                "X-Kizuna-Classification": highest,
            },
        )

    @get("/{reservation_id:str}", summary="One reservation")
    async def get_reservation(
        self, reservation_id: FromPath[str], caller: CallerDep, service: ReservationsDep
    ) -> ReservationOut:
        return service.get(caller, reservation_id)

    @post(
        "/{reservation_id:str}/cancel",
        status_code=200,
        summary="Cancel a reservation this node made",
        opt={"problems": (409,)},
    )
    async def cancel_reservation(
        self,
        reservation_id: FromPath[str],
        data: JSONBody[CancelIn],
        caller: CallerDep,
        service: ReservationsDep,
    ) -> ReservationOut:
        return service.cancel(caller, reservation_id, data.reason)
