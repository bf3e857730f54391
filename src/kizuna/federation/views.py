"""Federation routes on the API port (for operators; peers use the federation port)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from litestar import get

from kizuna.federation.digest import Digest
from kizuna.kernel.context import Caller


@runtime_checkable
class Digests(Protocol):
    """The federation service, as the route needs it."""

    def shared(self, peer_id: str) -> Digest: ...


@get(
    "/federation/v1/digest",
    tags=["federation"],
    summary="Digest of what this node and a peer should share",
)
async def digest_route(peer: str, caller: Caller, federation: Digests) -> Digest:
    return federation.shared(peer)
