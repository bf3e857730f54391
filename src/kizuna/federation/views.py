"""Federation routes on the API port (for operators; peers use the federation port)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from kizuna.federation.digest import Digest
from kizuna.kernel.context import CallerDep


@runtime_checkable
class Digests(Protocol):
    """The federation service, as the route needs it."""

    def shared(self, peer_id: str) -> Digest: ...


@get(
    "/federation/v1/digest",
    tags=["federation"],
    summary="Digest of what this node and a peer should share",
)
async def digest_route(
    peer: FromQuery[str], caller: CallerDep, federation: NamedDependency[Digests]
) -> Digest:
    return federation.shared(peer)
