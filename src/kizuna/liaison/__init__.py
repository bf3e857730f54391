"""The liaison workspace of the cooperation team (issue 15).

Record type ``liaison_entry`` (the shared log, its author's node's); routes under
``/api/v1/liaison``: the log, glossary-backed terms and today's desk of open items that
involve both chains, read from the coordination, assistance, workgroups and exercises
services.

Settings, the ``[liaison]`` table: ``glossary`` names the glossary CSV (``en,ja,status``;
a path relative to the node directory, or absolute); without it the ``KIZUNA_GLOSSARY``
environment variable is read, and without either no term is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, PluginSettings, RecordType
from kizuna.liaison.models import LIAISON_ENTRY

if TYPE_CHECKING:
    from kizuna.liaison.service import LiaisonService


class LiaisonSettings(PluginSettings, kw_only=True):
    glossary: str = ""  # en,ja,status


class Liaison(Domain):
    name = "liaison"
    requires = ("coordination", "assistance", "workgroups", "exercises")
    settings = LiaisonSettings

    def record_types(self) -> Sequence[RecordType]:
        return (RecordType(name=LIAISON_ENTRY),)

    def start(self, ctx: NodeContext) -> LiaisonService:
        from kizuna.liaison.service import LiaisonService

        return LiaisonService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.liaison.views import LiaisonController

        return (LiaisonController,)


plugin = Liaison()
