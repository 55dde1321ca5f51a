"""Loaded sectioned `.m8` files (MEM8.md Part 4): `m8sections` (current and legacy magic) and the
`m8tool` layout.  Both decode fully, rebuild byte for byte, validate, and can be written (for
tests and migration; upstream's m8sections writer is gone and the m8 tool layout never had one)."""

from __future__ import annotations

import time

from construct import Container, ListContainer

from ...document import Document
from ...errors import Finding, FormatError, error, warning
from ...jsonify import to_jsonable
from ...parsing import build, field_offset, locate, parse, parse_span
from ...registry import Detection
from .codecs.crc_seal import seal_crc
from .sections import (
    SECTION_TYPES,
    SECTIONS_MAGIC_CURRENT,
    SECTIONS_MAGIC_LEGACY,
    WAVE_SIZE,
    compressed_wave,
    m8sections_header,
    m8sections_section,
    m8sections_trailer,
    m8tool_entry,
    m8tool_header,
)

S = "m8sections."
T = "m8tool."
SECTION_HEAD = field_offset(m8sections_section, "data")          # type + size: 5 bytes
TRAILER = m8sections_trailer.sizeof()
MAGICS = {"current": SECTIONS_MAGIC_CURRENT, "legacy_mem8": SECTIONS_MAGIC_LEGACY}


def buggy_file_size(sections) -> int:
    """What upstream writes in `file_size`: 16 + 8n + Σsize + 4."""
    return 16 + 8 * len(sections) + sum(len(s.data) for s in sections) + m8sections_trailer.sizeof()


def real_file_size(sections) -> int:
    return (m8sections_header.sizeof() + SECTION_HEAD * len(sections) + sum(len(s.data) for s in sections)
            + m8sections_trailer.sizeof())


class M8SectionsDocument(Document):
    """`header`, `sections`, `crc32` (None when missing) and `trailing` bytes."""

    def __init__(self, detection: Detection, data=b"", source: str = "", fields=None, offsets=None):
        super().__init__(detection, data, source)
        self.fields = fields
        self.section_offsets: list[int] = offsets or []

    @classmethod
    def new(cls, variant: str = "current", timestamp: int | None = None) -> M8SectionsDocument:
        header = Container(magic=MAGICS[variant], version=1, section_count=0, file_size=0,
                           timestamp=int(time.time()) if timestamp is None else timestamp)
        doc = cls(Detection("m8sections", variant, "new sectioned file"),
                  fields=Container(header=header, sections=ListContainer(), crc32=0, trailing=b""))
        doc.seal()
        return doc

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> M8SectionsDocument:
        size = m8sections_header.sizeof()
        if len(data) < size:
            raise FormatError(f"file is {len(data)} bytes, the header needs {size}", "header", 0, S + "truncated")
        header = parse(m8sections_header, data, 0, "header")
        variant = detection.variant or ("current" if bytes(header.magic) == SECTIONS_MAGIC_CURRENT else "legacy_mem8")
        if header.section_count * SECTION_HEAD > len(data) - size:
            raise FormatError(f"{header.section_count} sections need at least {header.section_count * SECTION_HEAD} "
                              f"bytes, {len(data) - size} follow the header", "header.section_count",
                              locate(m8sections_header, header, "section_count"), S + "count_past_end")
        sections, offsets, pos = ListContainer(), [], size
        for i in range(header.section_count):
            try:
                section, used = parse_span(m8sections_section, data, pos, f"sections[{i}]")
            except FormatError as exc:
                raise FormatError(exc.message, exc.path, exc.offset, S + "length_past_end") from None
            sections.append(section)
            offsets.append(pos)
            pos += used
        crc32 = parse(m8sections_trailer, data, pos, "crc32").crc32 if len(data) - pos >= TRAILER else None
        rest = bytes(data[pos + TRAILER:]) if crc32 is not None else bytes(data[pos:])
        fields = Container(header=header, sections=sections, crc32=crc32, trailing=rest)
        return cls(Detection("m8sections", variant, detection.description), data, source, fields, offsets)

    # -- writing ---------------------------------------------------------------------------------
    def add_section(self, section_type: int, data: bytes) -> None:
        self.fields.sections.append(Container(section_type=section_type, size=len(data), data=bytes(data)))
        self.seal()

    def add_text(self, text: str) -> None:
        self.add_section(0x09, text.encode("utf-8"))

    def add_waves(self, waves: list[dict]) -> None:
        wave_type = 0x0B if self.variant == "current" else 0x0F
        self.add_section(wave_type, b"".join(build(compressed_wave, w, "wave") for w in waves))

    def seal(self) -> None:
        """Counts and `file_size` as upstream writes them (including the wrong file_size formula)."""
        self.fields.header.section_count = len(self.fields.sections)
        self.fields.header.file_size = buggy_file_size(self.fields.sections)

    def build(self) -> bytes:
        out = [build(m8sections_header, self.fields.header, "header")]
        out += [build(m8sections_section, s, f"sections[{i}]") for i, s in enumerate(self.fields.sections)]
        if self.fields.crc32 is not None:
            out.append(build(m8sections_trailer, Container(crc32=self.fields.crc32), "crc32"))
        out.append(bytes(self.fields.trailing))
        return b"".join(out)

    # -- JSON ------------------------------------------------------------------------------------
    def type_name(self, section_type: int) -> str | None:
        return SECTION_TYPES[self.variant or "current"].get(section_type)

    def section_json(self, i: int) -> dict:
        s = self.fields.sections[i]
        name = self.type_name(s.section_type)
        out = {"offset": self.section_offsets[i] if i < len(self.section_offsets) else None,
               "section_type": s.section_type, "type_name": name, "size": s.size}
        if name == "WaveMemory" and s.size % WAVE_SIZE == 0:
            out["waves"] = [to_jsonable(parse(compressed_wave, s.data, j * WAVE_SIZE, f"sections[{i}].data"))
                            for j in range(s.size // WAVE_SIZE)]
        elif name == "MarkqantText":
            out["text"] = bytes(s.data).decode("utf-8", "replace")
        else:
            out["data_hex"] = bytes(s.data).hex()
        return out

    def to_json(self) -> dict:
        return {"format": "m8sections", "variant": self.variant, "header": to_jsonable(self.fields.header),
                "sections": [self.section_json(i) for i in range(len(self.fields.sections))],
                "crc32": self.fields.crc32, "real_file_size": real_file_size(self.fields.sections),
                "trailing_hex": bytes(self.fields.trailing).hex()}

    def summary(self) -> list[str]:
        lines = [f"sectioned .m8 ({self.variant}): {len(self.fields.sections)} sections"]
        for i, s in enumerate(self.fields.sections):
            lines.append(f"  [{i}] type {s.section_type:#04x} {self.type_name(s.section_type) or '?'}: {s.size} bytes")
        return lines

    # -- checks ----------------------------------------------------------------------------------
    def check(self, strict: bool = False) -> list[Finding]:
        out: list[Finding] = []
        h = self.fields.header
        at = lambda name: locate(m8sections_header, h, name)   # noqa: E731
        if h.version != 1:
            out.append(warning(S + "version", f"version {h.version}, expected 1", "header.version", at("version")))
        real, bug = real_file_size(self.fields.sections), buggy_file_size(self.fields.sections)
        if h.file_size == bug and bug != real:
            out.append(warning(S + "file_size_field", f"file_size {h.file_size} is upstream's wrong formula "
                               f"16 + 8n + sum(size) + 4; the real size is {real} (known upstream bug)",
                               "header.file_size", at("file_size")))
        elif h.file_size != real:
            out.append(warning(S + "file_size_mismatch", f"file_size {h.file_size} matches neither the real size "
                               f"{real} nor upstream's formula {bug}", "header.file_size", at("file_size")))
        end = self.section_offsets[-1] + SECTION_HEAD + self.fields.sections[-1].size if self.fields.sections \
            else m8sections_header.sizeof()
        if self.fields.crc32 is None:
            out.append(error(S + "crc_missing", "the file ends without the 4-byte crc32 trailer", "crc32", end))
        elif self.fields.crc32 != 0:
            out.append(warning(S + "crc32_nonzero", f"crc32 {self.fields.crc32:#010x}; upstream always writes 0",
                               "crc32", end))
        if self.fields.trailing:
            out.append(warning(S + "trailing_bytes", f"{len(self.fields.trailing)} bytes after the crc32 trailer",
                               "trailing", end + (TRAILER if self.fields.crc32 is not None else 0)))
        for i, s in enumerate(self.fields.sections):
            name, base = self.type_name(s.section_type), self.section_offsets[i]
            if name is None:
                out.append(warning(S + "unknown_section", f"section type {s.section_type:#04x} is not defined for "
                                   f"the {self.variant} layout; kept as bytes", f"sections[{i}].section_type", base))
            elif name == "WaveMemory" and s.size % WAVE_SIZE:
                out.append(error(S + "wave_size", f"WaveMemory section of {s.size} bytes is not a multiple of "
                                 f"{WAVE_SIZE}", f"sections[{i}].size", base + locate(m8sections_section, s, "size")))
            elif name == "MarkqantText":
                try:
                    bytes(s.data).decode("utf-8")
                except UnicodeDecodeError as exc:
                    out.append(warning(S + "invalid_utf8", f"text is not UTF-8 ({exc.reason})",
                                       f"sections[{i}].data", base + SECTION_HEAD + exc.start))
        return out


class M8ToolDocument(Document):
    """The m8 tool layout: `header`, `entries` and the raw bytes after the entry table (`body`)."""

    def __init__(self, detection: Detection, data=b"", source: str = "", fields=None):
        super().__init__(detection, data, source)
        self.fields = fields

    @classmethod
    def new(cls, version: int = 1, flags: int = 0) -> M8ToolDocument:
        header = Container(magic=SECTIONS_MAGIC_LEGACY, version=version, flags=flags, section_count=0,
                           total_size=0, crc32=0)
        doc = cls(Detection("m8tool", None, "new m8 tool file"),
                  fields=Container(header=header, entries=ListContainer(), body=b""))
        doc.seal()
        return doc

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> M8ToolDocument:
        hsize, esize = m8tool_header.sizeof(), m8tool_entry.sizeof()
        if len(data) < hsize:
            raise FormatError(f"file is {len(data)} bytes, the header needs {hsize}", "header", 0, T + "truncated")
        header = parse(m8tool_header, data, 0, "header")
        if hsize + header.section_count * esize > len(data):
            raise FormatError(f"{header.section_count} section entries do not fit in the file",
                              "header.section_count", locate(m8tool_header, header, "section_count"),
                              T + "count_past_end")
        entries = ListContainer(parse(m8tool_entry, data, hsize + i * esize, f"entries[{i}]")
                                for i in range(header.section_count))
        body = bytes(data[hsize + header.section_count * esize:])
        return cls(Detection("m8tool", None, detection.description), data, source,
                   Container(header=header, entries=entries, body=body))

    def table_end(self) -> int:
        return m8tool_header.sizeof() + len(self.fields.entries) * m8tool_entry.sizeof()

    def add_section(self, section_id: bytes, data: bytes, flags: int = 0) -> None:
        """Append a section; all sections are laid out again back to back by `seal`."""
        if not hasattr(self, "_payloads"):
            self._payloads = [self.section_data(i) for i in range(len(self.fields.entries))]
        self.fields.entries.append(Container(id=bytes(section_id), offset=0, size=len(data), flags=flags,
                                             reserved=bytes(3)))
        self._payloads.append(bytes(data))
        self.seal()

    def seal(self) -> None:
        """Lay sections out back to back after the entry table; set sizes and the CRC seal."""
        payloads = getattr(self, "_payloads", [])
        self.fields.header.section_count = len(self.fields.entries)
        pos = self.table_end()
        for entry, payload in zip(self.fields.entries, payloads):
            entry.offset, entry.size = pos, len(payload)
            pos += len(payload)
        self.fields.body = b"".join(payloads)
        self.fields.header.total_size = pos
        self.fields.header.crc32 = 0
        self.fields.header.crc32 = seal_crc(self.build(), field_offset(m8tool_header, "crc32"))

    def build(self) -> bytes:
        return (build(m8tool_header, self.fields.header, "header")
                + b"".join(build(m8tool_entry, e, f"entries[{i}]") for i, e in enumerate(self.fields.entries))
                + bytes(self.fields.body))

    def section_data(self, i: int) -> bytes:
        e = self.fields.entries[i]
        start = e.offset - self.table_end()
        return bytes(self.fields.body[max(start, 0):max(start, 0) + e.size]) if start >= 0 else b""

    def crc_ok(self) -> bool:
        return seal_crc(self.build(), field_offset(m8tool_header, "crc32")) == self.fields.header.crc32

    def to_json(self) -> dict:
        entries = []
        for i, e in enumerate(self.fields.entries):
            entry = to_jsonable(e)
            entry["id_text"] = bytes(e.id).decode("ascii", "replace")
            entry["data_hex"] = self.section_data(i).hex()
            entries.append(entry)
        return {"format": "m8tool", "header": to_jsonable(self.fields.header), "entries": entries,
                "crc_ok": self.crc_ok()}

    def summary(self) -> list[str]:
        return [f"m8 tool layout: {len(self.fields.entries)} sections, crc {'ok' if self.crc_ok() else 'BAD'}"] + [
            f"  {bytes(e.id)!r} @{e.offset}: {e.size} bytes" for e in self.fields.entries]

    def check(self, strict: bool = False) -> list[Finding]:
        out: list[Finding] = []
        h = self.fields.header
        size = len(self.build())
        if h.total_size != size:
            out.append(error(T + "total_size", f"total_size {h.total_size}, the file is {size} bytes",
                             "header.total_size", locate(m8tool_header, h, "total_size")))
        if not self.crc_ok():
            out.append(error(T + "crc_mismatch", "CRC-32 of the file (crc32 zeroed) does not match crc32",
                             "header.crc32", locate(m8tool_header, h, "crc32")))
        spans = []
        for i, e in enumerate(self.fields.entries):
            at = m8tool_header.sizeof() + i * m8tool_entry.sizeof()
            if e.offset + e.size > h.total_size or e.offset < self.table_end():
                out.append(error(T + "section_extent", f"section {bytes(e.id)!r} at {e.offset} (+{e.size}) is not "
                                 f"within {self.table_end()} .. total_size {h.total_size}", f"entries[{i}]", at))
            spans.append((e.offset, e.offset + e.size, i, at))
        spans.sort()
        for (s0, e0, i0, _), (s1, _, i1, at1) in zip(spans, spans[1:]):
            if s1 < e0:
                out.append(error(T + "section_overlap", f"section {i1} starts at {s1}, inside section {i0} "
                                 f"({s0} .. {e0})", f"entries[{i1}].offset", at1))
        return out


def load_sections(data, detection: Detection, name: str = "") -> M8SectionsDocument:
    return M8SectionsDocument.parse(data, detection, name)


def load_m8tool(data, detection: Detection, name: str = "") -> M8ToolDocument:
    return M8ToolDocument.parse(data, detection, name)
