"""Sectioned `.m8` files (`src/mem8/format.rs`, MEM8.md Part 4): the current `M8\\x02\\x09` magic
and the legacy `MEM8` magic of v4.0.0 .. v5.2.1 (`m8sections/current`, `m8sections/legacy_mem8`).

24-byte header, `section_count` sections (`section_type` u8, `size` u32, `data`), then a `crc32`
u32 written as 0.  `file_size` is written as `16 + 8n + Σsize + 4` (an upstream bug); the real size
is `24 + 5n + Σsize + 4`.  WaveMemory sections hold 32-byte CompressedWave records; a MarkqantText
section holds a token table and the text encoded with it.
"""

from __future__ import annotations

from construct import (
    Array,
    Bytes,
    GreedyBytes,
    Int8sl,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Optional,
    Struct,
    this,
)

from ...layout import Layout, Section

SECTIONS_MAGIC_CURRENT = b"M8\x02\x09"
SECTIONS_MAGIC_LEGACY = b"MEM8"
MAGICS = {"current": SECTIONS_MAGIC_CURRENT, "legacy_mem8": SECTIONS_MAGIC_LEGACY}

m8sections_header = Struct(
    "magic" / Bytes(4) * "'M8\\x02\\x09' (current) or 'MEM8' (legacy)",
    "version" / Int16ul * "1",
    "section_count" / Int16ul * "number of sections that follow",
    "file_size" / Int64ul * "written as 16 + 8n + sum(size) + 4 (upstream bug); real size 24 + 5n + sum(size) + 4",
    "timestamp" / Int64ul * "Unix seconds",
)

m8sections_section = Struct(
    "section_type" / Int8ul * "0x09 MarkqantText, 0x0B WaveMemory (legacy 0x0F), 0x0A/0x0C/0x0D unused",
    "size" / Int32ul * "length of data",
    "data" / Bytes(this.size) * "section body",
)

compressed_wave = Struct(
    "id" / Int64ul * "wave id",
    "amplitude" / Int8ul * "quantised amplitude",
    "frequency" / Int16ul * "frequency",
    "phase" / Int8ul * "quantised phase",
    "valence" / Int8sl * "emotional valence",
    "arousal" / Int8ul * "arousal",
    "decay_tau" / Int16ul * "decay time constant",
    "timestamp" / Int64ul * "Unix seconds",
    "interference" / Int64ul * "interference pattern bits",
)

markqant_token = Struct(
    "token" / Int8ul * "the byte (0x80 .. 0xFF) that stands for the pattern in `encoded`",
    "pattern_len" / Int16ul * "length of pattern",
    "pattern" / Bytes(this.pattern_len) * "the UTF-8 text the token stands for",
)

markqant_text = Struct(
    "token_count" / Int16ul * "number of token definitions",
    "tokens" / Array(this.token_count, markqant_token) * "token definitions, in the writer's map order (not sorted)",
    "encoded_len" / Int32ul * "length of encoded",
    "encoded" / Bytes(this.encoded_len) * "the text: bytes below 0x80 as they are, a token byte for its pattern",
)

m8sections_trailer = Struct(
    "crc32" / Int32ul * "always written as 0",
)


def _layout(variant: str) -> Layout:
    return Layout(
        f"m8sections_{variant}", f"sectioned .m8 ({MAGICS[variant]!r} magic, smart-tree mem8/format.rs)",
        "24-byte header, section_count sections back to back (type, size, data), the crc32 trailer",
        Section("header", m8sections_header, "24 bytes at offset 0"),
        Section("sections", m8sections_section, "section_count sections back to back", count=this.header.section_count),
        Section("trailer", Optional(m8sections_trailer), "crc32 (absent when the file ends after the sections)"),
        Section("trailing", GreedyBytes, "bytes after the trailer"),
        extension="m8",
    )


m8sections_layouts = {variant: _layout(variant) for variant in MAGICS}

SECTION_TYPES = {   # section_type -> name (`SectionType` of format.rs; the legacy writer's codes)
    "current": {0x09: "MarkqantText", 0x0A: "QuantumDirectory", 0x0B: "WaveMemory", 0x0C: "Metadata",
                0x0D: "Index"},
    "legacy_mem8": {0x09: "MarkqantText", 0x0F: "WaveMemory"},
}
SECTION_CODES = {variant: {name: code for code, name in types.items()} for variant, types in SECTION_TYPES.items()}
WAVE_SIZE = compressed_wave.sizeof()   # 32
TRAILER_SIZE = m8sections_trailer.sizeof()
