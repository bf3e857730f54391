"""How the command line ends on a mistake: one line on stderr and a non-zero exit.

A user's mistake (a missing node directory, a bad label, an unknown group, a port in use,
a certificate that does not load) is never a traceback. ``KIZUNA_DEBUG=1`` shows the
traceback of anything unexpected, for a bug report."""

from __future__ import annotations

import errno
import os
import socket
import ssl
import sys
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from kizuna.core.errors import KizunaError
from kizuna.core.labels import LabelError
from kizuna.node.backup import BackupError

# Exit codes: 2 a mistake in what was asked (as click uses for usage errors), 1 anything else.
USER_MISTAKE = 2
FAILED = 1

_USER_ERRORS: tuple[type[BaseException], ...] = (
    KizunaError,
    LabelError,
    BackupError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    ValueError,  # msgspec.ValidationError and bad certificates (cryptography) among them
    msgspec.DecodeError,
    ssl.SSLError,
)


def one_line(exc: BaseException) -> str:
    """The exception as one line: its message with line breaks folded."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    return text


def say(message: str) -> None:
    """Print ``error: message`` as one line on stderr (no wrapping, no markup)."""
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.stderr.flush()


def run(command: Callable[[], Any]) -> int:
    """Run the click/typer ``command`` (standalone: it exits itself on success and on usage
    errors); turn what escapes it into one line and an exit code."""
    try:
        command()
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            say(f"address already in use: {one_line(exc)}")
            return USER_MISTAKE
        if os.environ.get("KIZUNA_DEBUG") and not isinstance(exc, _USER_ERRORS):
            raise
        say(one_line(exc))
        return USER_MISTAKE if isinstance(exc, _USER_ERRORS) else FAILED
    except _USER_ERRORS as exc:
        say(one_line(exc))
        return USER_MISTAKE
    except Exception as exc:
        if os.environ.get("KIZUNA_DEBUG"):
            raise
        say(f"{type(exc).__name__}: {one_line(exc)} (KIZUNA_DEBUG=1 shows the traceback)")
        return FAILED
    return 0


def listening_ports(
    host: str, api_port: int, federation_port: int, plugins: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, str, int]]:
    """(what, "tcp" | "udp", port) for each port a node would listen on: the API, the
    federation, and every ``*_port`` setting of its plugins' tables (``udp_*`` is UDP)."""
    yield "API port", "tcp", api_port
    yield "federation port", "tcp", federation_port
    for table, values in sorted(plugins.items()):
        if values.get("enabled") is False:
            continue
        for key, value in sorted(values.items()):
            if key.endswith("port") and isinstance(value, int) and value > 0:
                yield f"[{table}] {key}", "udp" if key.startswith("udp") else "tcp", value


def port_in_use(host: str, kind: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as s:
        if kind == "tcp":  # as the servers bind: a port in TIME_WAIT is free
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False
