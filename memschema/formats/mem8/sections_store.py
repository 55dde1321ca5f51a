"""A loaded sectioned `.m8` file (MEM8.md Part 4, `m8sections/current` and `legacy_mem8`): the
sections its layout places, their bodies decoded by type (CompressedWave records, Markqant text),
and a writer for tests and migration (upstream's writer is gone)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from construct import Container, ListContainer

from ...document import Document
from ...errors import Finding, FormatError
from ...layout import Parsed
from ...parsing import parse
from ...registry import Detection
from ...walker import parse_value
from .codecs import CodecError, markqant
from .counted_layouts import Rebuilt, counted_fields, parse_counted
from .sections import (
    MAGICS,
    SECTION_CODES,
    SECTION_TYPES,
    SECTIONS_MAGIC_CURRENT,
    TRAILER_SIZE,
    WAVE_SIZE,
    compressed_wave,
    m8sections_header,
    m8sections_layouts,
    m8sections_section,
    markqant_text,
)

S = "m8sections."


@dataclass
class Body:
    """A section's data decoded by its type (`value`: the waves or the `markqant_text`), the text
    of a Markqant section, the bytes after what the type declares (`slack`), and what stopped it."""

    type_name: str | None
    value: Any = None
    text: str | None = None
    slack: int = 0
    error: FormatError | CodecError | None = None

UPSTREAM_HEADER_GUESS = 16          # format.rs `header_size`: what it believes the header takes
UPSTREAM_SECTION_HEAD_GUESS = 8     # format.rs: "Type + size per section"
MIN_SECTION = len(m8sections_section.build(Container(section_type=0, size=0, data=b"")))


def buggy_file_size(sections) -> int:
    """What upstream writes in `file_size`: 16 + 8n + Σsize + 4."""
    return (UPSTREAM_HEADER_GUESS + UPSTREAM_SECTION_HEAD_GUESS * len(sections) + sum(len(s.data) for s in sections)
            + TRAILER_SIZE)


def variant_of(header) -> str:
    return "current" if bytes(header.magic) == SECTIONS_MAGIC_CURRENT else "legacy_mem8"


class M8SectionsDocument(Rebuilt, Document):
    """`header`, `sections`, `crc32` (None when the trailer is missing) and `trailing` bytes;
    `parsed`: the layout of the loaded bytes (or of `build()` once changed)."""

    def __init__(self, detection: Detection, data=b"", source: str = "", parsed: Parsed | None = None):
        super().__init__(detection, data, source)
        self.layout = m8sections_layouts[detection.variant or "current"]
        self.parsed = parsed
        if parsed is not None:
            self.fields = counted_fields(parsed, "sections", "crc32")
        self._changed = parsed is None

    @classmethod
    def new(cls, variant: str = "current", timestamp: int | None = None) -> M8SectionsDocument:
        header = Container(magic=MAGICS[variant], version=1, section_count=0, file_size=0,
                           timestamp=int(time.time()) if timestamp is None else timestamp)
        doc = cls(Detection("m8sections", variant, "new sectioned file"))
        doc.fields = Container(header=header, sections=ListContainer(), crc32=0, trailing=b"")
        doc.seal()
        return doc

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> M8SectionsDocument:
        if detection.variant is None and len(data) >= m8sections_header.sizeof():
            detection = Detection("m8sections", variant_of(parse(m8sections_header, data, 0, "header")),
                                  detection.description)
        parsed = parse_counted(m8sections_layouts[detection.variant or "current"], data, S, "section_count",
                               MIN_SECTION)
        return cls(Detection("m8sections", detection.variant or "current", detection.description), data, source,
                   parsed)

    # -- writing ---------------------------------------------------------------------------------
    def add_section(self, section_type: int, data: bytes) -> None:
        self.fields.sections.append(Container(section_type=section_type, size=len(data), data=bytes(data)))
        self.seal()

    def add_text(self, text: str, patterns=()) -> None:
        """A MarkqantText section: `patterns` become tokens 0x80, 0x81, ... (none: the plain text)."""
        body = markqant.encode(text, patterns)
        self.add_section(SECTION_CODES[self.variant]["MarkqantText"], _build(markqant_text, body))

    def add_waves(self, waves: list[dict]) -> None:
        self.add_section(SECTION_CODES[self.variant]["WaveMemory"],
                         b"".join(_build(compressed_wave, w) for w in waves))

    def seal(self) -> None:
        """Counts and `file_size` as upstream writes them (including the wrong file_size formula)."""
        self.fields.header.section_count = len(self.fields.sections)
        self.fields.header.file_size = buggy_file_size(self.fields.sections)
        self._changed = True

    def _values(self, crc32, trailing: bytes) -> dict:
        return {"header": self.fields.header, "sections": self.fields.sections,
                "trailer": None if crc32 is None else {"crc32": crc32}, "trailing": trailing}

    def build(self) -> bytes:
        return self.layout.build(self._values(self.fields.crc32, bytes(self.fields.trailing)))

    def real_file_size(self) -> int:
        """24 + 5n + Σsize + 4: where the trailer ends."""
        return len(self.layout.build(self._values(None, b""))) + TRAILER_SIZE

    # -- the section bodies ------------------------------------------------------------------------
    def type_name(self, section_type: int) -> str | None:
        return SECTION_TYPES[self.variant or "current"].get(section_type)

    def body(self, i: int) -> Body:
        """Section i's data decoded by its type: the CompressedWave records of a WaveMemory section,
        the `markqant_text` of a MarkqantText section and its text; nothing for other types."""
        s = self.fields.sections[i]
        name = self.type_name(s.section_type)
        data = bytes(s.data)
        out = Body(name)
        try:
            if name == "WaveMemory":
                whole = len(data) - len(data) % WAVE_SIZE
                out.value = [parse_value(compressed_wave, data, at, f"sections[{i}].data")[0]
                             for at in range(0, whole, WAVE_SIZE)]
                out.slack = len(data) - whole
            elif name == "MarkqantText":
                out.value, end = parse_value(markqant_text, data, 0, f"sections[{i}].data")
                out.slack = len(data) - end
                out.text = markqant.decode(out.value)
        except (FormatError, CodecError) as exc:
            out.error = exc
        return out

    # -- JSON, summary, checks ---------------------------------------------------------------------
    def to_json(self) -> dict:
        from .sections_json import sections_json
        return sections_json(self)

    def summary(self) -> list[str]:
        lines = [f"sectioned .m8 ({self.variant}): {len(self.fields.sections)} sections"]
        for i, s in enumerate(self.fields.sections):
            lines.append(f"  [{i}] type {s.section_type:#04x} {self.type_name(s.section_type) or '?'}: {s.size} bytes")
        return lines

    def check(self, strict: bool = False) -> list[Finding]:
        from .sections_checks import check_sections
        return check_sections(self)


def _build(decl, value) -> bytes:
    from ...parsing import build
    return build(decl, value, "section")


def load_sections(data, detection: Detection, name: str = "") -> M8SectionsDocument:
    return M8SectionsDocument.parse(data, detection, name)
