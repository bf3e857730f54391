"""The text of a PDF, for tests: ``pdftotext`` when installed, else a small reader of the
PDFs typst writes (Flate streams, Type0 fonts with ToUnicode maps, Tj/TJ strings)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_REF = rb"(\d+) 0 R"


def pdf_text(pdf: bytes) -> str:
    """All text of the document, page by page (one line per text object)."""
    tool = shutil.which("pdftotext")
    if tool:
        done = subprocess.run(
            [tool, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")
    return _PdfReader(pdf).text()


def _stream(body: bytes) -> bytes:
    head, _, rest = body.partition(b"stream")
    data = rest[1:] if rest.startswith(b"\n") else rest[2:] if rest.startswith(b"\r\n") else rest
    data = data[: data.rindex(b"endstream")]
    return zlib.decompress(data) if b"FlateDecode" in head else data


def _utf16(hexdigits: bytes) -> str:
    return bytes.fromhex(hexdigits.decode()).decode("utf-16-be", errors="replace")


def _cmap(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = _utf16(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            base = int(dst, 16)
            for n, cid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[cid] = chr(base + n)
    return out


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literal(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        ch = raw[i : i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            assert digits is not None
            out.append(int(digits.group(), 8) & 0xFF)
            i += 1 + len(digits.group())
        else:
            out += nxt
            i += 2
    return bytes(out)


def _tokens(data: bytes) -> list[tuple[str, bytes]]:
    """Content-stream tokens: ("str", bytes) for strings, ("name", …), ("op", …); literal
    strings may hold balanced unescaped parentheses, so this scans rather than matches."""
    out: list[tuple[str, bytes]] = []
    i, n = 0, len(data)
    while i < n:
        ch = data[i : i + 1]
        if ch == b"(":
            depth, j = 1, i + 1
            while j < n and depth:
                c = data[j : j + 1]
                if c == b"\\":
                    j += 2
                    continue
                depth += 1 if c == b"(" else -1 if c == b")" else 0
                j += 1
            out.append(("str", _literal(data[i + 1 : j - 1])))
            i = j
        elif data[i : i + 2] in (b"<<", b">>"):
            i += 2
        elif ch == b"<":
            j = data.index(b">", i)
            out.append(("str", bytes.fromhex(re.sub(rb"\s", b"", data[i + 1 : j]).decode())))
            i = j + 1
        elif ch == b"/":
            m = re.match(rb"/[^\s/\[\]()<>]+", data[i:])
            assert m is not None
            out.append(("name", m.group()[1:]))
            i += len(m.group())
        elif ch.isalpha() or ch in (b"'", b'"'):
            m = re.match(rb"[A-Za-z'\"*]+", data[i:])
            assert m is not None
            out.append(("op", m.group()))
            i += len(m.group())
        else:
            i += 1
    return out


class _PdfReader:
    def __init__(self, pdf: bytes) -> None:
        self.objects = {int(n): body for n, body in _OBJ.findall(pdf)}

    def _dict_refs(self, body: bytes, key: bytes) -> dict[str, int]:
        found = re.search(rb"/" + key + rb"\s*<<(.*?)>>", body, re.S)
        return (
            {}
            if not found
            else {k.decode(): int(v) for k, v in re.findall(rb"/(\w+)\s+" + _REF, found.group(1))}
        )

    def _ref(self, body: bytes, key: bytes) -> int | None:
        found = re.search(rb"/" + key + rb"\s+" + _REF, body)
        return int(found.group(1)) if found else None

    def text(self) -> str:
        pages = [b for b in self.objects.values() if re.search(rb"/Type\s*/Page\b", b)]
        return "\f".join(self._page(p) for p in pages)

    def _page(self, page: bytes) -> str:
        resources = self._ref(page, b"Resources")
        fonts = self._dict_refs(self.objects[resources] if resources else page, b"Font")
        maps = {}
        for name, ref in fonts.items():
            unicode = self._ref(self.objects[ref], b"ToUnicode")
            maps[name] = _cmap(_stream(self.objects[unicode])) if unicode else {}
        content = self._ref(page, b"Contents")
        if content is None:
            return ""
        data = _stream(self.objects[content])
        lines: list[str] = []
        current: list[str] = []
        pending: list[bytes] = []
        cmap: dict[int, str] = {}
        last_name = b""
        for kind, value in _tokens(data):
            if kind == "name":
                last_name = value
            elif kind == "str":
                pending.append(value)
            elif value == b"Tf":
                cmap = maps.get(last_name.decode(), {})
            elif value in (b"Tj", b"TJ", b"'", b'"'):
                for raw in pending:
                    codes = (
                        int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)
                    )
                    current.append("".join(cmap.get(c, "") for c in codes))
                pending = []
            elif value == b"ET":
                lines.append("".join(current))
                current, pending = [], []
            else:
                pending = []
        return "\n".join(lines)
