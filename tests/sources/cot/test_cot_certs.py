import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from kizuna.core.labels import LabelError
from kizuna.kernel.pki import identity_of, load_cert
from kizuna.sources.cot.certs import DEFAULT_P12_PASSWORD


def test_client_cert_files_and_identity(pki) -> None:
    paths = pki.client("KESTREL", "AUS", "SECRET", ["FVEY"])
    assert {p.name for p in paths.values()} == {
        "KESTREL.pem",
        "KESTREL.key",
        "ca.pem",
        "KESTREL.p12",
    }
    ident = identity_of(load_cert(paths["cert"]))
    assert (ident.common_name, ident.nation, ident.clearance, ident.groups) == (
        "KESTREL",
        "AUS",
        "SECRET",
        ["FVEY"],
    )
    key, cert, cas = pkcs12.load_key_and_certificates(
        paths["p12"].read_bytes(), DEFAULT_P12_PASSWORD.encode()
    )
    assert key is not None and cert == load_cert(paths["cert"]) and len(cas) == 1
    assert paths["key"].stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "nation", "clearance", "groups"),
    [
        ("A", "JPN", "SECRET", ["FVEY"]),
        ("B", "XXX", "SECRET", []),
        ("C", "USA", "ULTRA", []),
        ("../D", "USA", "SECRET", []),
    ],
)
def test_bad_requests_fail_before_issuing(pki, name, nation, clearance, groups) -> None:
    with pytest.raises((LabelError, ValueError)):
        pki.client(name, nation, clearance, groups)
