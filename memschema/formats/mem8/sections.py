"""Sectioned `.m8` layouts (MEM8.md Part 4): `m8sections` (current `M8\\x02\\x09` magic and the
legacy `MEM8` magic of v4.0.0 .. v5.2.1) and the layout the `m8` tool reads (`m8tool`).

m8sections: 24-byte header, `section_count` sections (`section_type` u8, `size` u32, `data`), then a
`crc32` u32 written as 0.  `file_size` is written as `16 + 8n + Σsize + 4` (an upstream bug); the real
size is `24 + 5n + Σsize + 4`.  WaveMemory sections hold 32-byte CompressedWave records.

m8tool: 16-byte header, `section_count` 16-byte entries, then the section bytes the entries point
at; `crc32` covers the whole file with its own 4 bytes zeroed.  No writer exists upstream.
"""

from __future__ import annotations

from construct import Bytes, Int8sl, Int8ul, Int16ul, Int32ul, Int64ul, Struct

SECTIONS_MAGIC_CURRENT = b"M8\x02\x09"
SECTIONS_MAGIC_LEGACY = b"MEM8"

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
    "data" / Bytes(lambda this: this.size) * "section body",
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

m8sections_trailer = Struct(
    "crc32" / Int32ul * "always written as 0",
)

m8tool_header = Struct(
    "magic" / Bytes(4) * "'MEM8'",
    "version" / Int8ul * "format version",
    "flags" / Int8ul * "flags",
    "section_count" / Int16ul * "number of 16-byte section entries",
    "total_size" / Int32ul * "file length",
    "crc32" / Int32ul * "CRC-32 of the whole file with these 4 bytes zeroed",
)

m8tool_entry = Struct(
    "id" / Bytes(4) * "ASCII section id",
    "offset" / Int32ul * "section start",
    "size" / Int32ul * "section length; sections must not overlap and end within total_size",
    "flags" / Int8ul * "section flags",
    "reserved" / Bytes(3) * "reserved",
)

SECTION_TYPES = {
    "current": {0x09: "MarkqantText", 0x0A: "defined_0a", 0x0B: "WaveMemory", 0x0C: "defined_0c",
                0x0D: "defined_0d"},
    "legacy_mem8": {0x09: "MarkqantText", 0x0F: "WaveMemory"},
}
WAVE_SIZE = compressed_wave.sizeof()   # 32
