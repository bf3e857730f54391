"""The node API's OpenAPI document, built without a running server.

``python -m kizuna.api.openapi [OUT]`` writes the document as JSON (sorted keys, so the
output is stable) to OUT, or to stdout. The web app's types (web/src/generated/api.ts)
are generated from it by ``make web``.

The document is built from a throwaway node directory with every installed plugin
started (CoT off: it would open a listener), the same routes ``kizuna serve`` mounts.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kizuna.api.app import create_app
from kizuna.api.document import refine
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.contract import Domain
from kizuna.node.runtime import Node
from kizuna.node.setup import init_node

# Fixed so that nothing node-specific varies between runs.
NODE_ID = "openapi"
NATION = "JPN"


def _federation_routes(node: Node) -> list[Any]:
    """The routes federation adds to the node API, as ``kizuna serve`` mounts them."""
    try:
        from kizuna.federation.service import Federation
    except ImportError as exc:  # a node without federation still has an API; say so loudly
        print(f"kizuna.api.openapi: without federation routes: {exc!r}", file=sys.stderr)
        return []
    return list(Federation(node).routes())


def document(domains: Sequence[Domain] | None = None) -> dict[str, Any]:
    """The OpenAPI document of a node with every installed plugin (or only ``domains``)."""
    with tempfile.TemporaryDirectory(prefix="kizuna-openapi-") as tmp:
        root = Path(tmp) / "node"
        init_node(
            NodeDir(root),
            NodeConfig(node_id=NODE_ID, nation=NATION, plugins={"cot": {"enabled": False}}),
        )
        node = Node(root, domains=domains)
        try:
            app = create_app(node, _federation_routes(node))
            schema = refine(app.openapi_schema.to_schema(), app, node.nation, node.groups)
        finally:
            node.close()
    return schema


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print("usage: python -m kizuna.api.openapi [OUT]", file=sys.stderr)
        return 2
    text = dumps(document())
    if args and args[0] != "-":
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
