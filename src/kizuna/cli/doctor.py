"""``kizuna doctor``: check a node's configuration, keys, store and peers, and say plainly
what is wrong. Exit 0 when nothing failed (warnings allowed), 1 otherwise.

It reads and connects; it never writes: an embedded store that does not exist yet is
reported, not created, and a database server is opened as the node would open it (which
applies pending migrations, as the node's next start would).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from kizuna.kernel import pki
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.plugins import PluginError, backend_factory, transport_factory

CONNECT_TIMEOUT = 3.0  # seconds per TCP probe
EXPIRY_WARNING_DAYS = 30


@dataclass
class Report:
    """What each check found: ``ok``, ``warn`` or ``fail`` lines, in order."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.lines.append(("ok", text))

    def warn(self, text: str) -> None:
        self.lines.append(("warn", text))

    def fail(self, text: str) -> None:
        self.lines.append(("fail", text))

    @property
    def failed(self) -> bool:
        return any(kind == "fail" for kind, _ in self.lines)

    @contextmanager
    def check(self, what: str) -> Iterator[None]:
        """Run a check; an unexpected exception is its failure, with its message."""
        try:
            yield
        except Exception as exc:  # a diagnosis reports every failure, never raises
            self.fail(f"{what}: {type(exc).__name__}: {str(exc).strip()[:300]}")


def diagnose(root: Path, probe: Callable[[str, int], str | None] | None = None) -> Report:
    """Every check on the node directory ``root``; ``probe(host, port)`` tells why a TCP
    connection fails (None: it opened)."""
    probe = probe or tcp_probe
    report = Report()
    nd = NodeDir(root)
    try:
        config = nd.load()
    except (FileNotFoundError, ValueError) as exc:
        report.fail(f"configuration: {exc}")
        return report
    report.ok(f"configuration: node {config.node_id} ({config.nation}) in {nd.config}")
    _keys(report, nd)
    _store(report, nd, config)
    _peers(report, nd, config, probe)
    return report


def _keys(report: Report, nd: NodeDir) -> None:
    for what, cert, key in (
        ("node certificate", nd.node_cert, nd.node_key),
        ("CA certificate", nd.ca_cert, nd.ca_key),
    ):
        if not cert.is_file() or not key.is_file():
            report.fail(f"{what}: {cert.name} or {key.name} missing in {nd.root}")
            continue
        with report.check(what):
            _expiry(report, what, cert)


def _expiry(report: Report, what: str, path: Path) -> None:
    not_after = pki.load_cert(path).not_valid_after_utc
    days = (not_after - datetime.now(UTC)).total_seconds() / 86400
    if days < 0:
        report.fail(f"{what}: {path.name} expired on {not_after:%Y-%m-%d}")
    elif days < EXPIRY_WARNING_DAYS:
        report.warn(f"{what}: {path.name} expires in {days:.0f} days ({not_after:%Y-%m-%d})")
    else:
        report.ok(f"{what}: {path.name} valid until {not_after:%Y-%m-%d}")


def _store(report: Report, nd: NodeDir, config: NodeConfig) -> None:
    setting = config.store
    scheme = setting.split(":", 1)[0] if ":" in setting else setting
    shown = _redact(setting)
    try:
        factory = backend_factory(setting)
    except PluginError as exc:
        report.fail(f"store {shown}: {exc}")
        return
    if scheme == "sqlite":
        from kizuna.store.sqlite_backend import db_path

        path = db_path(setting, nd.root)
        if not path.exists():
            report.warn(f"store {shown}: no database at {path} yet (created when the node starts)")
            return
    started = time.perf_counter()
    with report.check(f"store {shown}"):
        backend = factory(setting, nd.root, config.node_id)
        try:
            backend.meta.meta_get("audit_head")
        finally:
            backend.close()
        took = (time.perf_counter() - started) * 1000
        report.ok(f"store {shown}: opened and read in {took:.0f} ms")


def _redact(url: str) -> str:
    """A store URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def _peers(
    report: Report, nd: NodeDir, config: NodeConfig, probe: Callable[[str, int], str | None]
) -> None:
    if not config.peers:
        report.ok("peers: none configured (this node works alone)")
    for peer in config.peers:
        name = f"peer {peer.peer_id} ({peer.nation}, {peer.transport})"
        try:
            transport_factory(peer.transport)
        except PluginError as exc:
            report.fail(f"{name}: {exc}")
            continue
        cert = nd.root / peer.cert
        if not cert.is_file():
            report.fail(f"{name}: pinned certificate {cert} missing")
        else:
            with report.check(f"{name} certificate"):
                _expiry(report, f"{name} certificate", cert)
        url = urlsplit(peer.url)
        port = url.port or {"https": 443, "nats": 4222, "tls": 4222}.get(url.scheme)
        if not url.hostname or port is None:
            report.fail(f"{name}: cannot read host and port from {peer.url!r}")
            continue
        why = probe(url.hostname, port)
        if why is None:
            report.ok(f"{name}: {url.hostname}:{port} reachable")
        else:
            report.warn(f"{name}: {url.hostname}:{port} not reachable ({why}); records queue")


def tcp_probe(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__
