"""The layout smart-tree's `m8` tool reads (`src/bin/m8.rs`, MEM8.md Part 4 row 8; `m8tool`).

16-byte header, `section_count` 16-byte entries, then the section bytes the entries point at
(absolute offsets); `crc32` covers the whole file with its own 4 bytes zeroed and `total_size` is
the file's length.  No writer exists upstream.
"""

from __future__ import annotations

from construct import Bytes, GreedyBytes, Int8ul, Int16ul, Int32ul, Struct, this

from ...layout import Layout, Section, View
from .codecs.crc_seal import SEAL

MAGIC = b"MEM8"

m8tool_header = Struct(
    "magic" / Bytes(4) * "'MEM8'",
    "version" / Int8ul * "format version",
    "flags" / Int8ul * "flags",
    "section_count" / Int16ul * "number of 16-byte section entries",
    "total_size" / Int32ul * "file length",
    "crc32" / SEAL * "CRC-32 of the whole file with these 4 bytes zeroed",
)

m8tool_entry = Struct(
    "id" / Bytes(4) * "ASCII section id",
    "offset" / Int32ul * "section start (from the start of the file)",
    "size" / Int32ul * "section length; sections must not overlap and end within total_size",
    "flags" / Int8ul * "section flags",
    "reserved" / Bytes(3) * "reserved",
)

m8tool_layout = Layout(
    "m8tool", "layout read by smart-tree's m8 tool (src/bin/m8.rs)",
    "16-byte header, section_count 16-byte entries, then the bytes the entries place their sections in",
    Section("header", m8tool_header, "16 bytes at offset 0"),
    Section("entries", m8tool_entry, "section_count entries", count=this.header.section_count),
    Section("body", GreedyBytes, "everything after the entry table: where the entries place the sections"),
    View("section_data", GreedyBytes, "one entry's section bytes", table="entries", offset="offset",
         length="size", base=0, region="body"),
    extension="m8",
)
