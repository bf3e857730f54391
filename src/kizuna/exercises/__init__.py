"""Multilateral exercises (issue 14): exercises, the MSEL's injects, real-world overrides, ENDEX.

Record types ``exercise`` (the lead node's), ``inject`` (its exercise control node's) and
``exercise_override`` (the declaring node's), each a lifecycle of :mod:`kizuna.core.lifecycle`
(see :mod:`kizuna.exercises.rules`); bus topic ``exercise``; routes under
``/api/v1/exercises``, ``/api/v1/injects`` and ``/api/v1/overrides``; ``kizuna exercise``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kizuna.exercises.models import EXERCISE, INJECT, OVERRIDE
from kizuna.exercises.rules import (
    exercise_owner,
    inject_owner,
    merge_exercise,
    merge_inject,
    merge_override,
    override_owner,
)
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, Job, OpenNode, PluginSettings, RecordType

if TYPE_CHECKING:
    import typer

    from kizuna.exercises.service import ExerciseService


class ExerciseSettings(PluginSettings, kw_only=True):
    interval: float = 2.0  # seconds between schedule ticks (delivery, purge)


class Exercises(Domain):
    name = "exercises"
    requires = ("coordination", "reports", "picture", "access")
    settings = ExerciseSettings

    def record_types(self) -> Sequence[RecordType]:
        return (
            RecordType(name=EXERCISE, merge=merge_exercise, owner=exercise_owner),
            RecordType(name=INJECT, merge=merge_inject, owner=inject_owner),
            RecordType(name=OVERRIDE, merge=merge_override, owner=override_owner),
        )

    def start(self, ctx: NodeContext) -> ExerciseService:
        from kizuna.exercises.service import ExerciseService

        return ExerciseService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.exercises.views import ExerciseController, InjectController, OverrideController

        return (ExerciseController, InjectController, OverrideController)

    def jobs(self, service: ExerciseService) -> Sequence[Job]:
        settings = service.ctx.settings
        interval = settings.interval if isinstance(settings, ExerciseSettings) else 2.0
        return (service.run(interval),)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.exercises.cli import exercise_app

        return {"exercise": exercise_app(open_node)}

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        return [Feature(**f) for f in service.features(caller)]


plugin = Exercises()
