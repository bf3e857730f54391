"""Access arrangements: the instruments under which a nation's forces operate in Japan (issue 14).

Record type ``access_arrangement`` (federated under its label, owned by its origin): the
U.S.–Japan SOFA and the RAAs with Australia, the UK and the Philippines, seeded on a
node's first start from ``data/arrangements.toml``, kept by the node's administrators
(role ``admin``) through ``/api/v1/access/arrangements`` and ``kizuna access load``.

The service's :meth:`~kizuna.access.service.AccessService.check` (nation × activity ×
facility × dates → :class:`~kizuna.access.models.AccessVerdict`) is what reservations and
exercises ask (``requires = ("access",)``); ``POST /api/v1/access/check`` answers it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, OpenNode, RecordType, origin_owns

if TYPE_CHECKING:
    import typer

    from kizuna.access.service import AccessService


class Access(Domain):
    name = "access"
    requires = ("facilities",)

    def record_types(self) -> Sequence[RecordType]:
        from kizuna.access.models import ACCESS_ARRANGEMENT

        return (RecordType(name=ACCESS_ARRANGEMENT, owner=origin_owns),)

    def start(self, ctx: NodeContext) -> AccessService:
        from kizuna.access.service import AccessService

        return AccessService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.access.views import AccessController

        return (AccessController,)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.access.cli import access_app

        return {"access": access_app(open_node)}


plugin = Access()
