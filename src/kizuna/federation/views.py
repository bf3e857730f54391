"""Federation routes on the API port (for operators; peers use the mTLS port)."""

from __future__ import annotations

from typing import Any

from litestar import get

from kizuna.federation.digest import digest
from kizuna.node.runtime import Caller, Node


@get(
    "/federation/v1/digest",
    tags=["federation"],
    summary="Digest of what this node and a peer should share",
)
async def digest_route(peer: str, caller: Caller, node: Node) -> dict[str, Any]:
    return digest(node, peer)
