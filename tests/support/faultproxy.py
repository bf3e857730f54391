"""Link-fault harness: a TCP proxy that can cut, delay, throttle and reset a link.

It forwards raw bytes, so TLS (and mutual TLS) passes through end to end. Use it
in-process (``FaultProxy``) or as a separate process driven over a line-based
control socket (``python tests/support/faultproxy.py``, ``FaultProxyClient``,
``FaultProxyProcess``).

Link model, per direction: bytes are read from one side, paced by a token bucket
shared by all connections in that direction (serialisation), then held for the
configured one-way delay (propagation) and written to the other side in order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import msgspec

Direction = Literal["up", "down"]  # up: client -> target, down: target -> client

_MAX_CHUNK = 65536
_QUEUE_CHUNKS = 256  # per direction and connection; bounds memory under delay
_LINGER_RST = struct.pack("ii", 1, 0)


class ProxyStats(msgspec.Struct, frozen=True):
    """Counters and current fault settings of a proxy."""

    bytes_up: int  # delivered client -> target
    bytes_down: int  # delivered target -> client
    accepted: int  # connections forwarded to the target
    refused: int  # connections accepted and closed at once while cut
    upstream_failed: int  # connections whose target could not be reached
    active: int
    cut: bool
    delay: float
    throttle_bps: int | None


class FaultProxyError(RuntimeError):
    """A control command failed."""


class TokenBucket:
    """Bandwidth limiter in bytes; `consume` may go into debt and then waits it off."""

    def __init__(self, bits_per_second: int | None = None) -> None:
        self._rate: float | None = None
        self._capacity = 0.0
        self._tokens = 0.0
        self._stamp = time.monotonic()
        self._wake: asyncio.Future[None] | None = None
        self.set_rate(bits_per_second)

    @property
    def bits_per_second(self) -> int | None:
        return None if self._rate is None else round(self._rate * 8)

    def chunk_size(self) -> int:
        """Read size that keeps pacing smooth (about 50 ms of traffic)."""
        if self._rate is None:
            return _MAX_CHUNK
        return max(64, min(_MAX_CHUNK, int(self._rate / 20)))

    def set_rate(self, bits_per_second: int | None) -> None:
        if bits_per_second is not None and bits_per_second <= 0:
            raise ValueError("bits_per_second must be positive or None")
        was_unlimited = self._rate is None
        self._refill()
        if bits_per_second is None:
            self._rate = None
        else:
            self._rate = bits_per_second / 8
            self._capacity = max(self._rate / 10, 64.0)  # 100 ms burst
            self._tokens = self._capacity if was_unlimited else min(self._tokens, self._capacity)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)  # sleepers re-evaluate with the new rate
        self._wake = None

    async def consume(self, n: int) -> None:
        if self._rate is None:
            return
        self._refill()
        self._tokens -= n
        while self._rate is not None and self._tokens < 0:
            if self._wake is None:
                self._wake = asyncio.get_running_loop().create_future()
            await asyncio.wait({self._wake}, timeout=-self._tokens / self._rate)
            self._refill()

    def _refill(self) -> None:
        now = time.monotonic()
        if self._rate is not None:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now


def _kill(writer: asyncio.StreamWriter | None) -> None:
    """Close a connection with RST (SO_LINGER 0) rather than FIN."""
    if writer is None or writer.transport.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    writer.transport.abort()


class _Conn:
    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None  # forwarding task, cancelled by kill

    def kill(self) -> None:
        _kill(self.client)
        _kill(self.upstream)
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def close(self) -> None:
        """Graceful close (FIN); a no-op for connections already killed."""
        for writer in (self.client, self.upstream):
            if writer is not None and not writer.transport.is_closing():
                writer.close()


class FaultProxy:
    """Asyncio TCP proxy between two nodes with injectable link faults.

    The fault methods are synchronous and must be called from the proxy's event loop
    thread (or before `start`).
    """

    def __init__(
        self, listen_host: str, listen_port: int, target_host: str, target_port: int
    ) -> None:
        self.listen_host = listen_host
        self.listen_port = listen_port
        self.target_host = target_host
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._conns: set[_Conn] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._cut = False
        self._delay = 0.0
        self._buckets: dict[Direction, TokenBucket] = {"up": TokenBucket(), "down": TokenBucket()}
        self._bytes: dict[Direction, int] = {"up": 0, "down": 0}
        self._accepted = 0
        self._refused = 0
        self._upstream_failed = 0

    # lifecycle

    async def start(self) -> int:
        """Start listening; returns the bound port."""
        if self._server is not None:
            raise RuntimeError("proxy already started")
        self._server = await asyncio.start_server(self._handle, self.listen_host, self.listen_port)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        return self.listen_port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        self._kill_all()
        if self._handlers:
            await asyncio.wait(self._handlers)
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self.listen_port

    # faults

    def cut(self) -> None:
        """Drop all connections and close new ones on accept until `heal`."""
        self._cut = True
        self._kill_all()

    def heal(self) -> None:
        self._cut = False

    def delay(self, seconds: float) -> None:
        """One-way latency added to every chunk, in both directions (order is kept)."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError("delay must be a finite number >= 0")
        self._delay = float(seconds)

    def throttle(self, bits_per_second: int | None) -> None:
        """Limit each direction of the link to `bits_per_second`; None = unlimited."""
        for bucket in self._buckets.values():
            bucket.set_rate(bits_per_second)

    def reset(self) -> None:
        """Reset all current connections once; new ones are still accepted."""
        self._kill_all()

    @property
    def stats(self) -> ProxyStats:
        return ProxyStats(
            bytes_up=self._bytes["up"],
            bytes_down=self._bytes["down"],
            accepted=self._accepted,
            refused=self._refused,
            upstream_failed=self._upstream_failed,
            active=len(self._conns),
            cut=self._cut,
            delay=self._delay,
            throttle_bps=self._buckets["up"].bits_per_second,
        )

    # forwarding

    def _kill_all(self) -> None:
        for conn in list(self._conns):
            conn.kill()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            self._refused += 1
            _kill(writer)
            return
        # Forward in a task of our own: kill() cancels it, never the stream callback task
        # (Python 3.11 logs an error when that one is cancelled).
        handler = asyncio.current_task()
        assert handler is not None
        conn = _Conn(writer)
        conn.task = asyncio.create_task(self._forward(conn, reader))
        self._conns.add(conn)
        self._handlers.add(handler)
        try:
            await asyncio.wait({conn.task})
        finally:
            self._conns.discard(conn)
            self._handlers.discard(handler)
            if not conn.task.done():
                conn.kill()

    async def _forward(self, conn: _Conn, reader: asyncio.StreamReader) -> None:
        try:
            try:
                up_reader, conn.upstream = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                self._upstream_failed += 1
                conn.kill()
                return
            if self._cut:  # cut while connecting
                self._refused += 1
                conn.kill()
                return
            self._accepted += 1
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._pipe(reader, conn.upstream, "up"))
                tg.create_task(self._pipe(up_reader, conn.client, "down"))
        except* (OSError, EOFError):
            conn.kill()  # one side failed: pass the reset on to the other
        finally:
            conn.close()

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, direction: Direction
    ) -> None:
        """Forward one direction: read, pace, hold for the delay, write in order."""
        loop = asyncio.get_running_loop()
        bucket = self._buckets[direction]
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_QUEUE_CHUNKS)

        async def read_side() -> None:
            while data := await src.read(bucket.chunk_size()):
                await bucket.consume(len(data))
                await queue.put((loop.time() + self._delay, data))
            await queue.put((0.0, b""))  # EOF, kept in order behind the data

        async def write_side() -> None:
            while True:
                due, data = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if dst.can_write_eof():
                        dst.write_eof()  # half-close: the other direction keeps going
                    return
                dst.write(data)
                await dst.drain()
                self._bytes[direction] += len(data)

        async with asyncio.TaskGroup() as tg:
            tg.create_task(read_side())
            tg.create_task(write_side())


# process mode: line-based control socket


def _parse_addr(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def execute(proxy: FaultProxy, line: str) -> dict[str, Any]:
    """Run one control command against `proxy`; returns the JSON-able answer."""
    words = line.split()
    match words:
        case ["cut"]:
            proxy.cut()
        case ["heal"]:
            proxy.heal()
        case ["reset"]:
            proxy.reset()
        case ["delay", seconds]:
            proxy.delay(float(seconds))
        case ["throttle", "off" | "none"]:
            proxy.throttle(None)
        case ["throttle", bps]:
            proxy.throttle(int(bps))
        case ["stats"]:
            return {"ok": True, "stats": msgspec.to_builtins(proxy.stats)}
        case _:
            raise ValueError(f"unknown command {line.strip()!r}")
    return {"ok": True}


class ControlServer:
    """Line-based control socket for a proxy: one command per line, one JSON line back.

    Commands: cut, heal, reset, delay SECONDS, throttle BPS|off, stats, shutdown.
    """

    def __init__(self, proxy: FaultProxy, on_shutdown: Callable[[], None] | None = None) -> None:
        self.proxy = proxy
        self.on_shutdown = on_shutdown
        self.port = 0
        self._server: asyncio.Server | None = None
        self._sessions: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in self._sessions.values():
            writer.transport.abort()  # ends their reads; no cancellation needed
        if self._sessions:
            await asyncio.wait(self._sessions)
        await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions[task] = writer
        try:
            while raw := await reader.readline():
                line = raw.decode("utf-8", "replace").strip()
                if not line:
                    continue
                shutdown = line == "shutdown" and self.on_shutdown is not None
                answer = {"ok": True} if shutdown else self._answer(line)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
                if shutdown and self.on_shutdown is not None:
                    self.on_shutdown()
                    break
        except (OSError, ValueError):  # ValueError: line over the stream limit
            pass
        finally:
            del self._sessions[task]
            writer.close()

    def _answer(self, line: str) -> dict[str, Any]:
        try:
            return execute(self.proxy, line)
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}


async def _run(listen: tuple[str, int], target: tuple[str, int], control: tuple[str, int]) -> None:
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, done.set)
    async with FaultProxy(*listen, *target) as proxy:
        ctl = ControlServer(proxy, on_shutdown=done.set)
        ctl_port = await ctl.start(*control)
        hello = {"listen_port": proxy.port, "control_port": ctl_port, "target_port": target[1]}
        print(json.dumps(hello), flush=True)
        try:
            await done.wait()
        finally:
            await ctl.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tests/support/faultproxy.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--listen", type=_parse_addr, default=("127.0.0.1", 0))
    parser.add_argument("--target", type=_parse_addr, required=True)
    parser.add_argument("--control", type=_parse_addr, default=("127.0.0.1", 0))
    args = parser.parse_args(argv)
    if not _is_loopback(args.control[0]):
        parser.error("--control must be a loopback address (the control socket has no auth)")
    asyncio.run(_run(args.listen, args.target, args.control))
    return 0


# clients for the process mode


class FaultProxyClient:
    """Synchronous client for a proxy's control socket; mirrors `FaultProxy`."""

    def __init__(self, control_host: str, control_port: int, timeout: float = 5.0) -> None:
        self.control_host = control_host
        self.control_port = control_port
        self.timeout = timeout

    def command(self, line: str) -> dict[str, Any]:
        """Send one raw command line; raises FaultProxyError unless it succeeds."""
        addr = (self.control_host, self.control_port)
        with socket.create_connection(addr, timeout=self.timeout) as sock:
            sock.sendall(line.encode() + b"\n")
            with sock.makefile("rb") as stream:
                raw = stream.readline()
        if not raw:
            raise FaultProxyError(f"no answer to {line!r}")
        answer: dict[str, Any] = json.loads(raw)
        if not answer.get("ok"):
            raise FaultProxyError(str(answer.get("error")))
        return answer

    def cut(self) -> None:
        self.command("cut")

    def heal(self) -> None:
        self.command("heal")

    def delay(self, seconds: float) -> None:
        self.command(f"delay {float(seconds)!r}")

    def throttle(self, bits_per_second: int | None) -> None:
        self.command("throttle off" if bits_per_second is None else f"throttle {bits_per_second}")

    def reset(self) -> None:
        self.command("reset")

    @property
    def stats(self) -> ProxyStats:
        return msgspec.convert(self.command("stats")["stats"], ProxyStats)

    def shutdown(self) -> None:
        """Ask the proxy process to exit."""
        self.command("shutdown")


class FaultProxyProcess:
    """Run the proxy as a child process (for multi-process tests and benchmarks)."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        control_host: str = "127.0.0.1",
        control_port: int = 0,
        startup_timeout: float = 15.0,
    ) -> None:
        self._argv = [
            sys.executable,
            str(Path(__file__).resolve()),  # by path: runs from any directory
            f"--listen={listen_host}:{listen_port}",
            f"--target={target_host}:{target_port}",
            f"--control={control_host}:{control_port}",
        ]
        self.listen_host = listen_host
        self.control_host = control_host
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.listen_port = 0
        self.client: FaultProxyClient | None = None

    def start(self) -> FaultProxyClient:
        self.proc = subprocess.Popen(self._argv, stdout=subprocess.PIPE)
        stdout = self.proc.stdout
        assert stdout is not None
        lines: list[bytes] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        if not lines or not lines[0]:
            self.stop()
            raise FaultProxyError("fault proxy process did not report its ports")
        hello = json.loads(lines[0])
        self.listen_port = int(hello["listen_port"])
        self.client = FaultProxyClient(self.control_host, int(hello["control_port"]))
        return self.client

    def stop(self, timeout: float = 5.0) -> int | None:
        """Shut the process down (politely, then by force); returns its exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if self.client is not None and proc.poll() is None:
            with contextlib.suppress(OSError, FaultProxyError):
                self.client.shutdown()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
