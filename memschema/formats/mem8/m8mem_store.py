"""A loaded M8MEM file (MEM8.md Part 3): the sections its layout places (header, memories, the
checksum byte, bytes after it), and the writer (`st --memory-anchor` rewrites the whole file)."""

from __future__ import annotations

import time

import numpy as np
from construct import Container, ListContainer

from ...document import Document
from ...errors import Finding
from ...layout import Parsed
from ...registry import Detection
from ...timestamps import stamp
from .counted_layouts import Rebuilt, counted_fields, parse_counted
from .m8mem import KEYWORD_COUNT, MAGIC, MIN_MEMORY_SIZE, m8mem_keyword, m8mem_layout, m8mem_memory

P = "m8mem."
TEXT_FIELDS = ("anchor_type", "context", "origin")


def xor_checksum(data, end: int) -> int:
    """XOR of `data[:end]`."""
    return int(np.bitwise_xor.reduce(np.frombuffer(data, dtype=np.uint8, count=end))) if end else 0


def context_frequency(context: bytes) -> float:
    """`20 + (sum of the context's bytes mod 200)`, as upstream computes a memory's frequency."""
    return float(20 + sum(context) % 200)


def text(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "replace")


def _limit(length_field) -> int:
    """The largest value an unsigned length or count field holds."""
    return (1 << 8 * length_field.sizeof()) - 1


def _prefix_limit(prefixed) -> int:
    """The largest length a `Prefixed` field's length prefix holds."""
    while not hasattr(prefixed, "lengthfield"):
        prefixed = prefixed.subcon
    return _limit(prefixed.lengthfield)


class M8MemDocument(Rebuilt, Document):
    """`header`, `memories` (raw-byte strings), `checksum` (None when the byte is missing) and
    `trailing` (bytes after the checksum).  `parsed`: the layout of the bytes it was loaded from
    (or of `build()` once changed)."""

    layout = m8mem_layout

    def __init__(self, detection: Detection, data=b"", source: str = "", parsed: Parsed | None = None):
        super().__init__(detection, data, source)
        self.parsed = parsed
        if parsed is not None:
            self.fields = counted_fields(parsed, "memories", "checksum")
        self._changed = parsed is None

    @classmethod
    def new(cls, last_accessed: int | None = None, total_recalls: int = 0) -> M8MemDocument:
        header = Container(magic=MAGIC, version=1, mem_count=0, total_recalls=total_recalls,
                           last_accessed=int(time.time()) if last_accessed is None else last_accessed)
        doc = cls(Detection("m8mem", None, "new memories file"))
        doc.fields = Container(header=header, memories=ListContainer(), checksum=None, trailing=b"")
        doc.seal()
        return doc

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> M8MemDocument:
        parsed = parse_counted(m8mem_layout, data, P, "mem_count", MIN_MEMORY_SIZE)
        return cls(Detection("m8mem", None, detection.description), data, source, parsed)

    # -- access / writing ------------------------------------------------------------------------
    @property
    def header(self):
        return self.fields.header

    @property
    def memories(self):
        return self.fields.memories

    def _values(self, checksum: int | None, trailing: bytes) -> dict:
        return {"header": self.header, "memories": self.memories,
                "trailer": None if checksum is None else {"checksum": checksum}, "trailing": trailing}

    def body(self) -> bytes:
        """Header and memories: the bytes the checksum covers (`mem_count` filled by the layout)."""
        return m8mem_layout.build(self._values(None, b""))

    def seal(self) -> None:
        """Set `mem_count` and the checksum from the memories (what the writer does)."""
        body = self.body()
        self.fields.checksum = xor_checksum(body, len(body))
        self._changed = True

    def add_memory(self, anchor_type: str, keywords: list[str], context: str, origin: str,
                   timestamp: int | None = None) -> Container:
        """Append a memory as `--memory-anchor` does.  Unlike upstream (whose wrapping length casts
        misalign the file) a field too long for its length prefix is refused."""
        enc = {"anchor_type": anchor_type.encode(), "context": context.encode(), "origin": origin.encode()}
        words = [k.encode() for k in keywords]
        for name, raw in enc.items():
            limit = _prefix_limit(getattr(m8mem_memory, name))
            if len(raw) > limit:
                raise ValueError(f"{name} is {len(raw)} bytes; its length prefix holds at most {limit}")
        count_limit, word_limit = _limit(KEYWORD_COUNT), _prefix_limit(m8mem_keyword)
        if len(words) > count_limit or any(len(w) > word_limit for w in words):
            raise ValueError(f"at most {count_limit} keywords of at most {word_limit} bytes each")
        memory = Container(anchor_type=enc["anchor_type"], keywords=ListContainer(words), context=enc["context"],
                           origin=enc["origin"], frequency=context_frequency(enc["context"]),
                           timestamp=int(time.time()) if timestamp is None else timestamp)
        self.memories.append(memory)
        self.seal()
        return memory

    def build(self) -> bytes:
        return m8mem_layout.build(self._values(self.fields.checksum, bytes(self.fields.trailing)))

    def checksum_ok(self) -> bool | None:
        if self.fields.checksum is None:
            return None
        body = self.body()
        return xor_checksum(body, len(body)) == self.fields.checksum

    # -- JSON / summary / checks -------------------------------------------------------------------
    def to_json(self) -> dict:
        from ...jsonify import declared, to_jsonable
        from .m8mem import m8mem_header
        memories = [{"anchor_type": text(m.anchor_type), "keywords": [text(k) for k in m.keywords],
                     "context": text(m.context), "origin": text(m.origin), "frequency": to_jsonable(m.frequency),
                     "timestamp": m.timestamp} for m in self.memories]
        return {"format": "m8mem", "header": declared(m8mem_header, self.header), "memories": memories,
                "trailer": None if self.fields.checksum is None else {"checksum": self.fields.checksum},
                "checksum": self.fields.checksum, "checksum_ok": self.checksum_ok(),
                "trailing_hex": bytes(self.fields.trailing).hex()}

    def summary(self) -> list[str]:
        h = self.header
        lines = [f"M8MEM memories file: {len(self.memories)} memories, {h.total_recalls} recalls, "
                 f"last accessed {stamp(h.last_accessed)}, checksum {'ok' if self.checksum_ok() else 'BAD or missing'}"]
        for m in self.memories[:5]:
            lines.append(f"  [{text(m.anchor_type)}] {', '.join(text(k) for k in m.keywords)}: "
                         f"{text(m.context)[:60]!r} ({text(m.origin)})")
        return lines

    def check(self, strict: bool = False) -> list[Finding]:
        from .m8mem_checks import check_m8mem
        return check_m8mem(self)


def load_m8mem(data, detection: Detection, name: str = "") -> M8MemDocument:
    return M8MemDocument.parse(data, Detection("m8mem", None, detection.description), name)
