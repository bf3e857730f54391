"""The node's own certificate authority: node certificates and TAK client certificates,
and signatures with a node's key (the audit trail's heads, witness receipts).

Identity attributes ride in the subject: C = nation, CN = node id or callsign,
OU = ``CLEARANCE=SECRET`` and ``GROUP=ACM`` entries for client certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from pathlib import Path

import iso3166
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=3650)


class CertIdentity:
    """What a certificate says about its holder."""

    def __init__(self, common_name: str, nation: str, clearance: str, groups: list[str]) -> None:
        self.common_name = common_name
        self.nation = nation
        self.clearance = clearance
        self.groups = groups


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def _name(cn: str, nation: str, units: list[str]) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, _iso2(nation))]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, u) for u in units]
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Kizuna {nation}"))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


# X.509 C= takes the ISO 3166 alpha-2 code; the alpha-3 stays in an OU to be exact.
def _iso2(nation: str) -> str:
    return iso3166.countries_by_alpha3[nation].alpha2


def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def create_ca(node_id: str, nation: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    name = _name(f"Kizuna CA {node_id}", nation, [f"NATION={nation}"])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue_cert(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    common_name: str,
    nation: str,
    clearance: str = "UNCLASSIFIED",
    groups: list[str] | None = None,
    server: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Issue a leaf certificate (client, or client+server for a node)."""
    key = _key()
    units = [f"NATION={nation}", f"CLEARANCE={clearance}"]
    units += [f"GROUP={g}" for g in groups or []]
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, nation, units))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName(common_name),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def identity_of(cert: x509.Certificate) -> CertIdentity:
    """Read nation, clearance and groups back from a certificate we issued."""
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    units = [
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    ]
    nation, clearance, groups = "", "UNCLASSIFIED", []
    for unit in units:
        key, _, value = unit.partition("=")
        if key == "NATION":
            nation = value
        elif key == "CLEARANCE":
            clearance = value
        elif key == "GROUP":
            groups.append(value)
    return CertIdentity(str(cn[0].value) if cn else "", nation, clearance, groups)


def identity_from_peercert(peercert: dict[str, object]) -> CertIdentity:
    """Same as :func:`identity_of`, from ``ssl.SSLSocket.getpeercert()``'s dict."""
    nation, clearance, groups, cn = "", "UNCLASSIFIED", [], ""
    subject = peercert.get("subject", ())
    assert isinstance(subject, tuple)
    for rdn in subject:
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationalUnitName":
                k, _, v = value.partition("=")
                if k == "NATION":
                    nation = v
                elif k == "CLEARANCE":
                    clearance = v
                elif k == "GROUP":
                    groups.append(v)
    return CertIdentity(cn, nation, clearance, groups)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


# -- signatures with a node's key (audit heads, witness receipts) ------------------------------


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """An ECDSA-SHA256 signature (DER) over ``data`` with a node's key."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_signature(cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``data`` was made with the key of ``cert`` (never raises)."""
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return False
    try:
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signature_check(cert: x509.Certificate) -> Callable[[bytes, bytes], bool]:
    """``check(data, signature)`` against ``cert``: what the audit verifier takes."""
    return lambda data, signature: verify_signature(cert, data, signature)
