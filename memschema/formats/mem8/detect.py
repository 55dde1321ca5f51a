"""Telling the `.m8` layouts apart (MEM8.md Part 4, rows 2-10; rows 1 and 11-15 are the engine's
generic not-binary sniffing).  First match wins."""

from __future__ import annotations

import zlib

from ...errors import FormatError
from ...parsing import locate, parse, parse_span
from ...registry import NOT_BINARY, Detection
from .native import MEM8_MAGIC, block_header
from .sections import (
    SECTIONS_MAGIC_CURRENT,
    SECTIONS_MAGIC_LEGACY,
    m8sections_header,
    m8sections_section,
    m8tool_header,
)
from .seed import MAGIC as SEED_MAGIC

T8R_FILE_MAGIC = b"T8R\x00\x01\x00\x00\x00"
M8MEM_MAGIC = b"M8MEM"
M8MEGA_MAGIC = b"M8MEGA"
TEXT_CAPSULE = SEED_MAGIC + b","


def _is_native(data) -> bool:
    if len(data) < block_header.sizeof():
        return False
    h = parse(block_header, data, 0, "", block_header.sizeof())
    return h.magic == MEM8_MAGIC and h.lane == 0 and h.version == 1


def _is_m8tool(data) -> bool:
    try:
        h = parse(m8tool_header, data, 0, "", m8tool_header.sizeof())
    except FormatError:
        return False
    if h.total_size != len(data):
        return False
    at = locate(m8tool_header, h, "crc32")
    end = at + m8tool_header.crc32.sizeof()
    blanked = zlib.crc32(bytes(end - at), zlib.crc32(bytes(data[:at])))
    return zlib.crc32(bytes(data[end:]), blanked) == h.crc32


def sections_end(data) -> int | None:
    """Offset just past the last declared section, or None if the sections do not parse."""
    try:
        h = parse(m8sections_header, data, 0, "", m8sections_header.sizeof())
        pos = m8sections_header.sizeof()
        for _ in range(h.section_count):
            pos += parse_span(m8sections_section, data, pos)[1]
    except FormatError:
        return None
    return pos


def _is_legacy_sections(data) -> bool:
    try:
        h = parse(m8sections_header, data, 0, "", m8sections_header.sizeof())
    except FormatError:
        return False
    return h.version == 1 and sections_end(data) == len(data) - 4


def detect_m8(data) -> Detection | None:
    head = bytes(data[:8])
    if _is_native(data):
        return Detection("mem8", "native", "native MEM8/RAW8 block pairs")
    if head == T8R_FILE_MAGIC:
        return Detection("t8r", None, "T8R record journal")
    if head.startswith(M8MEGA_MAGIC):
        return Detection("m8mega", None, "mega-session file (recognised, not decoded)")
    if head.startswith(M8MEM_MAGIC):
        return Detection("m8mem", None, "st --memory-anchor memories file")
    if head.startswith(SECTIONS_MAGIC_CURRENT):
        return Detection("m8sections", "current", "sectioned .m8 (M8\\x02\\x09)")
    if not head.startswith(SEED_MAGIC):
        return None
    if bytes(data[:5]) == TEXT_CAPSULE:
        return Detection(NOT_BINARY, "text", "MEM8 text capsule (MEM8,... base64)")
    if _is_m8tool(data):
        return Detection("m8tool", None, "layout read by the m8 tool")
    if head.startswith(SECTIONS_MAGIC_LEGACY) and _is_legacy_sections(data):
        return Detection("m8sections", "legacy_mem8", "sectioned .m8 with the legacy MEM8 magic")
    return Detection("mem8", "seed", "seed MEM8 file (30-byte header + 4096-byte blocks)")
