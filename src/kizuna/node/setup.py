"""Create a node directory: config, CA, node certificate."""

from __future__ import annotations

from kizuna.kernel import pki
from kizuna.kernel.config import NodeConfig, NodeDir, validate


def init_node(directory: NodeDir, config: NodeConfig) -> NodeConfig:
    if directory.exists():
        raise FileExistsError(f"{directory.root} already holds a node (node.toml exists)")
    validate(config)
    directory.root.mkdir(parents=True, exist_ok=True)
    directory.peers.mkdir(exist_ok=True)
    ca_cert, ca_key = pki.create_ca(config.node_id, config.nation)
    pki.write_cert(directory.ca_cert, ca_cert)
    pki.write_key(directory.ca_key, ca_key)
    cert, key = pki.issue_cert(
        ca_cert,
        ca_key,
        common_name=config.node_id,
        nation=config.nation,
        clearance="TOP_SECRET",
        server=True,
    )
    pki.write_cert(directory.node_cert, cert)
    pki.write_key(directory.node_key, key)
    directory.save(config)
    return config
