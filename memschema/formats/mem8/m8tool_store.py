"""A loaded m8-tool file (MEM8.md Part 4 row 8): the header, the entry table and the section bytes
the entries place (a view of the layout), the whole-file CRC seal, and a writer for tests (no
writer exists upstream)."""

from __future__ import annotations

from construct import Container

from ...document import Document
from ...errors import Finding
from ...jsonify import declared
from ...layout import Parsed
from ...parsing import field_offset
from ...registry import Detection
from .codecs.crc_seal import seal_crc
from .counted_layouts import parse_counted
from .m8tool import MAGIC, m8tool_entry, m8tool_header, m8tool_layout

T = "m8tool."
CRC_AT = field_offset(m8tool_header, "crc32")


def is_sealed(data) -> bool:
    """`total_size` is the file's length and `crc32` its CRC (MEM8.md Part 4 row 8); the cheap test
    first, so that no file of another length is ever read whole."""
    header = m8tool_layout.parse(data, only=("header",)).header
    return header.total_size == len(data) and seal_crc(data, CRC_AT) == header.crc32


class M8ToolDocument(Document):
    """`header`, `entries` (a numpy table) and `sections` (each entry's bytes); `parsed`: the layout
    of the loaded bytes, or of `build()` once changed."""

    layout = m8tool_layout

    def __init__(self, detection: Detection, data=b"", source: str = "", parsed: Parsed | None = None):
        super().__init__(detection, data, source)
        self.parsed = parsed
        self._payloads: list[bytes] | None = None
        if parsed is not None:
            self.fields = parsed

    @classmethod
    def new(cls, version: int = 1, flags: int = 0) -> M8ToolDocument:
        doc = cls(Detection("m8tool", None, "new m8 tool file"))
        doc._header = Container(magic=MAGIC, version=version, flags=flags, section_count=0, total_size=0, crc32=0)
        doc._entries, doc._payloads = [], []
        doc.seal()
        return doc

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> M8ToolDocument:
        parsed = parse_counted(m8tool_layout, data, T, "section_count", m8tool_entry.sizeof())
        return cls(Detection("m8tool", None, detection.description), data, source, parsed)

    # -- access ----------------------------------------------------------------------------------
    @property
    def header(self):
        return self.parsed.header

    @property
    def entries(self):
        return self.parsed.entries

    def section_data(self, i: int) -> bytes:
        """Entry i's bytes (empty when they are not inside the file)."""
        start, length = self.parsed.view_span("section_data", i)
        if start < self.parsed.placed["body"].start or start + length > len(self.parsed.data):
            return b""
        return bytes(self.parsed.data[start:start + length])

    def crc_ok(self) -> bool:
        return seal_crc(self.parsed.data, CRC_AT) == self.header.crc32

    # -- writing ---------------------------------------------------------------------------------
    def _ensure_editable(self) -> None:
        if self._payloads is None:
            self._header = Container(self.header)
            self._entries = [Container(declared(m8tool_entry, e)) for e in self.entries]
            for e in self._entries:
                e.id, e.reserved = bytes.fromhex(e.id), bytes.fromhex(e.reserved)
            self._payloads = [self.section_data(i) for i in range(len(self._entries))]

    def add_section(self, section_id: bytes, data: bytes, flags: int = 0) -> None:
        """Append a section; all sections are laid out again back to back by `seal`."""
        self._ensure_editable()
        self._entries.append(Container(id=bytes(section_id), offset=0, size=len(data), flags=flags,
                                       reserved=bytes(m8tool_entry.reserved.sizeof())))
        self._payloads.append(bytes(data))
        self.seal()

    def _build(self) -> bytes:
        table = m8tool_layout.table("entries", self._entries)
        return m8tool_layout.build({"header": self._header, "entries": table, "body": b"".join(self._payloads)})

    def seal(self) -> None:
        """Sections back to back where the layout puts the body; `total_size` the file's length; the
        CRC seal over the whole file."""
        self._header.crc32 = 0
        body_at = m8tool_layout.parse(self._build()).placed["body"].start
        for entry, payload in zip(self._entries, self._payloads):
            entry.offset, entry.size = body_at, len(payload)
            body_at += len(payload)
        self._header.total_size = len(self._build())
        self._header.crc32 = seal_crc(self._build(), CRC_AT)
        self.data = self._build()
        self.parsed = m8tool_layout.parse(self.data)
        self.fields = self.parsed

    def build(self) -> bytes:
        return self.parsed.build()

    # -- JSON, summary, checks ---------------------------------------------------------------------
    def to_json(self) -> dict:
        entries = []
        for i, e in enumerate(declared(m8tool_entry, self.entries) if len(self.entries) else []):
            e["id_text"] = bytes.fromhex(e["id"]).decode("ascii", "replace")
            e["data_hex"] = self.section_data(i).hex()
            entries.append(e)
        return {"format": "m8tool", "header": declared(m8tool_header, self.header), "entries": entries,
                "crc_ok": self.crc_ok()}

    def summary(self) -> list[str]:
        return [f"m8 tool layout: {len(self.entries)} sections, crc {'ok' if self.crc_ok() else 'BAD'}"] + [
            f"  {bytes(e.id)!r} @{e.offset}: {e.size} bytes" for e in self.entries]

    def check(self, strict: bool = False) -> list[Finding]:
        from .m8tool_checks import check_m8tool
        return check_m8tool(self)


def load_m8tool(data, detection: Detection, name: str = "") -> M8ToolDocument:
    return M8ToolDocument.parse(data, detection, name)
