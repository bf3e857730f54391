from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.kernel.pki import create_ca, issue_cert, write_cert, write_key
from kizuna.sources.cot.certs import server_ssl_context, write_client_cert


class Pki:
    def __init__(self, root: Path) -> None:
        self.root = root
        ca, ca_key = create_ca("node-usa-1", "USA")
        self.ca, self.ca_key = root / "ca.pem", root / "ca.key"
        write_cert(self.ca, ca)
        write_key(self.ca_key, ca_key)
        cert, key = issue_cert(ca, ca_key, common_name="localhost", nation="USA", server=True)
        self.server_cert, self.server_key = root / "server.pem", root / "server.key"
        write_cert(self.server_cert, cert)
        write_key(self.server_key, key)

    def ssl_context(self):
        return server_ssl_context(self.server_cert, self.server_key, self.ca)

    def client(self, name: str, nation: str, clearance: str, groups=()) -> dict[str, Path]:
        return write_client_cert(
            self.ca, self.ca_key, name, nation, clearance, list(groups), self.root / name
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))
