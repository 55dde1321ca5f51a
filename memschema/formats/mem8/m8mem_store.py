"""A loaded M8MEM file (MEM8.md Part 3): memories, the XOR checksum, checks, and the writer
(`st --memory-anchor` rewrites the whole file)."""

from __future__ import annotations

import time

import numpy as np
from construct import Container, ListContainer

from ...document import Document
from ...errors import Finding, FormatError, error, warning
from ...jsonify import to_jsonable
from ...parsing import build, locate, parse, parse_span
from ...registry import Detection
from ...timestamps import stamp
from .m8mem import (
    HEADER_SIZE,
    KEYWORD_COUNT,
    MAGIC,
    MIN_MEMORY_SIZE,
    m8mem_checksum,
    m8mem_header,
    m8mem_keyword,
    m8mem_memory,
)

P = "m8mem."
TEXT_FIELDS = ("anchor_type", "context", "origin")


def xor_checksum(data, end: int) -> int:
    """XOR of `data[:end]`."""
    return int(np.bitwise_xor.reduce(np.frombuffer(data, dtype=np.uint8, count=end))) if end else 0


def context_frequency(context: bytes) -> float:
    """`20 + (sum of the context's bytes mod 200)`, as upstream computes a memory's frequency."""
    return float(20 + sum(context) % 200)


def _text(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "replace")


class M8MemDocument(Document):
    """`header`, `memories` (raw-byte strings), `checksum` (None when the byte is missing) and
    `trailing` (bytes after the checksum)."""

    def __init__(self, detection: Detection, data=b"", source: str = "", fields=None, offsets=None):
        super().__init__(detection, data, source)
        self.fields = fields
        self.memory_offsets: list[int] = offsets or []

    @classmethod
    def new(cls, last_accessed: int | None = None, total_recalls: int = 0) -> M8MemDocument:
        header = Container(magic=MAGIC, version=1, mem_count=0, total_recalls=total_recalls,
                           last_accessed=int(time.time()) if last_accessed is None else last_accessed)
        doc = cls(Detection("m8mem", None, "new memories file"),
                  fields=Container(header=header, memories=ListContainer(), checksum=None, trailing=b""))
        doc.seal()
        return doc

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> M8MemDocument:
        if len(data) < HEADER_SIZE:
            raise FormatError(f"file is {len(data)} bytes, the M8MEM header needs {HEADER_SIZE}", "header", 0,
                              P + "truncated")
        header = parse(m8mem_header, data, 0, "header")
        room = len(data) - HEADER_SIZE
        if header.mem_count * MIN_MEMORY_SIZE > room:
            raise FormatError(f"mem_count {header.mem_count} memories need at least "
                              f"{header.mem_count * MIN_MEMORY_SIZE} bytes, {room} follow the header",
                              "header.mem_count", locate(m8mem_header, header, "mem_count"), P + "count_past_end")
        memories, offsets, pos = ListContainer(), [], HEADER_SIZE
        for i in range(header.mem_count):
            try:
                memory, size = parse_span(m8mem_memory, data, pos, f"memories[{i}]")
            except FormatError as exc:
                raise FormatError(exc.message, exc.path, exc.offset, P + "length_past_end") from None
            memories.append(memory)
            offsets.append(pos)
            pos += size
        checksum = data[pos] if pos < len(data) else None
        trailing = bytes(data[pos + 1:]) if pos < len(data) else b""
        fields = Container(header=header, memories=memories, checksum=checksum, trailing=trailing)
        return cls(detection, data, source, fields, offsets)

    # -- access / writing ------------------------------------------------------------------------
    @property
    def header(self):
        return self.fields.header

    @property
    def memories(self):
        return self.fields.memories

    def body(self) -> bytes:
        """Header and memories: the bytes the checksum covers."""
        return build(m8mem_header, self.header, "header") + b"".join(
            build(m8mem_memory, m, f"memories[{i}]") for i, m in enumerate(self.memories))

    def seal(self) -> None:
        """Set `mem_count` and the checksum from the memories (what the writer does)."""
        self.header.mem_count = len(self.memories)
        self.fields.checksum = xor_checksum(self.body(), len(self.body()))

    def add_memory(self, anchor_type: str, keywords: list[str], context: str, origin: str,
                   timestamp: int | None = None) -> Container:
        """Append a memory as `--memory-anchor` does.  Unlike upstream (whose wrapping length casts
        misalign the file) a field too long for its length prefix is refused."""
        enc = {"anchor_type": anchor_type.encode(), "context": context.encode(), "origin": origin.encode()}
        words = [k.encode() for k in keywords]
        limits = {"anchor_type": 255, "context": 65535, "origin": 255}
        for name, raw in enc.items():
            if len(raw) > limits[name]:
                raise ValueError(f"{name} is {len(raw)} bytes; its length prefix holds at most {limits[name]}")
        if len(words) > 255 or any(len(w) > 255 for w in words):
            raise ValueError("at most 255 keywords of at most 255 bytes each")
        memory = Container(anchor_type=enc["anchor_type"], keywords=ListContainer(words), context=enc["context"],
                           origin=enc["origin"], frequency=context_frequency(enc["context"]),
                           timestamp=int(time.time()) if timestamp is None else timestamp)
        self.memories.append(memory)
        self.seal()
        return memory

    def build(self) -> bytes:
        checksum = b"" if self.fields.checksum is None else build(
            m8mem_checksum, Container(checksum=self.fields.checksum), "checksum")
        return self.body() + checksum + bytes(self.fields.trailing)

    # -- JSON / summary ------------------------------------------------------------------------------
    def checksum_ok(self) -> bool | None:
        if self.fields.checksum is None:
            return None
        body = self.body()
        return xor_checksum(body, len(body)) == self.fields.checksum

    def to_json(self) -> dict:
        memories = []
        for m in self.memories:
            memories.append({"anchor_type": _text(m.anchor_type), "keywords": [_text(k) for k in m.keywords],
                             "context": _text(m.context), "origin": _text(m.origin),
                             "frequency": to_jsonable(m.frequency), "timestamp": m.timestamp})
        return {"format": "m8mem", "header": to_jsonable(self.header), "memories": memories,
                "checksum": self.fields.checksum, "checksum_ok": self.checksum_ok(),
                "trailing_hex": bytes(self.fields.trailing).hex()}

    def summary(self) -> list[str]:
        h = self.header
        lines = [f"M8MEM memories file: {len(self.memories)} memories, {h.total_recalls} recalls, "
                 f"last accessed {stamp(h.last_accessed)}, checksum {'ok' if self.checksum_ok() else 'BAD or missing'}"]
        for m in self.memories[:5]:
            lines.append(f"  [{_text(m.anchor_type)}] {', '.join(_text(k) for k in m.keywords)}: "
                         f"{_text(m.context)[:60]!r} ({_text(m.origin)})")
        return lines

    # -- checks (MEM8.md Part 3) -------------------------------------------------------------------
    def _end(self) -> int:
        return self.memory_offsets[-1] + len(build(m8mem_memory, self.memories[-1])) if self.memories \
            else HEADER_SIZE

    def check(self, strict: bool = False) -> list[Finding]:
        out: list[Finding] = []
        h = self.header
        if bytes(h.magic) != MAGIC:
            out.append(error(P + "bad_magic", f"magic {bytes(h.magic)!r}, expected {MAGIC!r}", "header.magic", 0))
        if h.version != 1:
            out.append(error(P + "version", f"version {h.version}: upstream rejects anything but 1",
                             "header.version", locate(m8mem_header, h, "version")))
        end = self._end()
        if self.fields.checksum is None:
            out.append(error(P + "checksum_missing", "the file ends without the checksum byte", "checksum", end))
        elif not self.checksum_ok():
            body = self.body()
            out.append(error(P + "checksum_mismatch", f"checksum {self.fields.checksum:#04x}, the XOR of the "
                             f"preceding bytes is {xor_checksum(body, len(body)):#04x}", "checksum", end))
        if self.fields.trailing:
            out.append(warning(P + "trailing_bytes", f"{len(self.fields.trailing)} bytes after the checksum "
                               "(upstream ignores them)", "trailing", end + 1))
        for i, m in enumerate(self.memories):
            base = self.memory_offsets[i] if i < len(self.memory_offsets) else None
            for name in TEXT_FIELDS:
                self._utf8(out, bytes(m[name]), f"memories[{i}].{name}",
                           None if base is None else base + locate(m8mem_memory, m, name))
            if base is not None:
                at = base + locate(m8mem_memory, m, "keywords") + KEYWORD_COUNT.sizeof()
            for j, k in enumerate(m.keywords):
                self._utf8(out, bytes(k), f"memories[{i}].keywords[{j}]", None if base is None else at)
                if base is not None:
                    at += len(build(m8mem_keyword, k))
            if m.frequency != context_frequency(bytes(m.context)):
                out.append(warning(P + "frequency", f"frequency {m.frequency} does not match 20 + (sum of the "
                                   f"context bytes mod 200) = {context_frequency(bytes(m.context))}",
                                   f"memories[{i}].frequency",
                                   None if base is None else base + locate(m8mem_memory, m, "frequency")))
        return out

    @staticmethod
    def _utf8(out: list[Finding], raw: bytes, path: str, at: int | None) -> None:
        """`at`: offset of the field's length prefix."""
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(warning(P + "invalid_utf8", f"not UTF-8 ({exc.reason}); decoded lossily", path, at))


def load_m8mem(data, detection: Detection, name: str = "") -> M8MemDocument:
    return M8MemDocument.parse(data, Detection("m8mem", None, detection.description), name)
