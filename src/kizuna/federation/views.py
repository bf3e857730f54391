"""Federation routes on the API port (for operators; peers use the federation port)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from kizuna.core.catalog import Catalog
from kizuna.core.errors import Forbidden
from kizuna.federation.digest import Digest
from kizuna.federation.live import is_operator
from kizuna.federation.status import NetworkStatus
from kizuna.kernel.context import CallerDep

CATALOG = Catalog("kizuna.federation")


@runtime_checkable
class Digests(Protocol):
    """The federation service, as the routes need it."""

    def shared(self, peer_id: str) -> Digest: ...

    def network(self) -> NetworkStatus: ...


@get(
    "/federation/v1/digest",
    tags=["federation"],
    summary="Digest of what this node and a peer should share",
)
async def digest_route(
    peer: FromQuery[str], caller: CallerDep, federation: NamedDependency[Digests]
) -> Digest:
    return federation.shared(peer)


@get(
    "/api/v1/network",
    tags=["federation"],
    summary="Network status: each peer's link, queues by precedence, digest; active alerts",
    description="For operators (role watch or admin); the same status is pushed on the "
    "WebSocket as topic `network` whenever it changes (ADR 0020).",
)
async def network_route(caller: CallerDep, federation: NamedDependency[Digests]) -> NetworkStatus:
    if not is_operator(caller.user.roles):
        raise Forbidden(CATALOG.msg("network.forbidden"))
    return federation.network()
