"""Split a TAK stream into frames: XML ``<event>…</event>`` or ``0xbf <len> <proto>``.

The encoding is detected per message, so a client may switch to protobuf
after negotiation (or send it straight away, as ``pytak`` with ``TAK_PROTO=1``
does). The buffer never grows much past the size limit: an oversized XML
event is refused as soon as the limit is crossed and the rest of it is
skipped up to its ``</event>`` without being kept; an oversized protobuf
frame is skipped by its declared length.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from kizuna.sources.cot.codec import MAX_EVENT_BYTES, CotError
from kizuna.sources.cot.proto import MAGIC, decode_varint

_END = b"</event>"
_WS = b" \t\r\n\x00"


class Frame(NamedTuple):
    kind: Literal["xml", "proto"]
    data: bytes


class FrameSplitter:
    """Incremental splitter; :meth:`feed` returns frames and errors in order."""

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self.limit = limit
        self.peak = 0  # most bytes ever held, for tests and metrics
        self._buf = bytearray()
        self._skip_xml = False
        self._skip_bytes = 0

    def feed(self, data: bytes) -> list[Frame | CotError]:
        buf = self._buf
        buf += data
        self.peak = max(self.peak, len(buf))
        out: list[Frame | CotError] = []
        while buf:
            if self._skip_bytes:
                n = min(self._skip_bytes, len(buf))
                del buf[:n]
                self._skip_bytes -= n
                continue
            if self._skip_xml:
                idx = buf.find(_END)
                if idx < 0:
                    del buf[: max(0, len(buf) - len(_END))]
                    break
                del buf[: idx + len(_END)]
                self._skip_xml = False
                continue
            start = 0
            while start < len(buf) and buf[start] in _WS:
                start += 1
            if start:
                del buf[:start]
                continue
            first = buf[0]
            if first == 0x3C:  # "<"
                idx = buf.find(_END)
                if idx < 0:
                    if len(buf) > self.limit:
                        out.append(CotError("too_large", f"XML event exceeds {self.limit} bytes"))
                        self._skip_xml = True
                        del buf[: len(buf) - len(_END)]
                    break
                end = idx + len(_END)
                if end > self.limit:
                    out.append(CotError("too_large", f"XML event exceeds {self.limit} bytes"))
                else:
                    out.append(Frame("xml", bytes(buf[:end])))
                del buf[:end]
            elif first == MAGIC:
                try:
                    head = decode_varint(buf, 1)
                except CotError as exc:
                    out.append(exc)
                    self._resync()
                    continue
                if head is None:
                    break
                size, pos = head
                if size == 0x01 and buf[pos : pos + 1] == b"\xbf":
                    out.append(CotError("framing", "mesh (UDP) header on a stream"))
                    del buf[: pos + 1]
                    continue
                if size > self.limit:
                    out.append(CotError("too_large", f"protobuf frame of {size} bytes"))
                    del buf[:pos]
                    self._skip_bytes = size
                    continue
                if len(buf) < pos + size:
                    break
                out.append(Frame("proto", bytes(buf[pos : pos + size])))
                del buf[: pos + size]
            else:
                out.append(CotError("framing", f"unexpected byte 0x{first:02x} between events"))
                self._resync()
        return out

    def _resync(self) -> None:
        """Drop bytes up to the next plausible frame start."""
        buf = self._buf
        cands = [i for i in (buf.find(b"<", 1), buf.find(bytes([MAGIC]), 1)) if i > 0]
        if cands:
            del buf[: min(cands)]
        else:
            buf.clear()
