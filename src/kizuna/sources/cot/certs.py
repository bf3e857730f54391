"""TAK client certificates from the node's CA, and the server's TLS context.

``write_client_cert`` writes ``<name>.pem``, ``<name>.key``, ``ca.pem`` and
``<name>.p12`` (PKCS#12, password ``atakatak`` by default, as TAK clients
expect one). For pytak::

    PYTAK_TLS_CLIENT_CERT=<name>.pem PYTAK_TLS_CLIENT_KEY=<name>.key
    PYTAK_TLS_CLIENT_CAFILE=ca.pem
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from kizuna.core.labels import DEFAULT_GROUPS, Classification, GroupRegistry
from kizuna.core.release import make_principal
from kizuna.kernel.pki import issue_cert, load_cert, load_key, write_cert, write_key

DEFAULT_P12_PASSWORD = "atakatak"


def write_client_cert(
    ca_cert_path: Path,
    ca_key_path: Path,
    name: str,
    nation: str,
    clearance: str,
    groups: Iterable[str],
    out_dir: Path,
    *,
    registry: GroupRegistry = DEFAULT_GROUPS,
    p12_password: str = DEFAULT_P12_PASSWORD,
) -> dict[str, Path]:
    """Issue a client certificate for a TAK user; returns paths keyed cert/key/ca/p12.

    Nation, clearance and groups are validated the same way the server will
    read them back (``make_principal`` with the node's group ``registry``), so
    a bad request (an unknown group, one the nation is not a member of) fails
    here with :class:`LabelError`.
    """
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_.")
    if not safe or safe != name:
        raise ValueError(f"name {name!r} must be letters, digits, '-', '_' or '.'")
    level = Classification.parse(clearance)
    principal = make_principal(nation, level, groups, registry=registry)
    claimed = sorted({g.strip().upper() for g in groups})
    ca_cert, ca_key = load_cert(Path(ca_cert_path)), load_key(Path(ca_key_path))
    cert, key = issue_cert(
        ca_cert,
        ca_key,
        common_name=name,
        nation=principal.nation,
        clearance=level.name,
        groups=claimed,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "cert": out / f"{name}.pem",
        "key": out / f"{name}.key",
        "ca": out / "ca.pem",
        "p12": out / f"{name}.p12",
    }
    write_cert(paths["cert"], cert)
    write_key(paths["key"], key)
    if Path(ca_cert_path).resolve() != paths["ca"].resolve():
        shutil.copyfile(ca_cert_path, paths["ca"])
    p12 = pkcs12.serialize_key_and_certificates(
        name.encode(),
        key,
        cert,
        [ca_cert],
        serialization.BestAvailableEncryption(p12_password.encode())
        if p12_password
        else serialization.NoEncryption(),
    )
    paths["p12"].write_bytes(p12)
    paths["p12"].chmod(0o600)
    return paths


def server_ssl_context(cert_path: Path, key_path: Path, ca_path: Path) -> ssl.SSLContext:
    """TLS for port 8089: our node certificate, client certificates required from our CA."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca_path))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert_path), str(key_path))
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
