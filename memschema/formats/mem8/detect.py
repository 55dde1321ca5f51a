"""Telling the `.m8` layouts apart (MEM8.md Part 4, rows 2-10 and the smart-tree look-alikes of rows
7 and 11; rows 1 and 12-15 are the engine's generic not-binary sniffing).  First match wins.

Every rule reads a bounded part of the file: fixed headers, the section heads of a legacy walk
(at most 65535 of them), and the whole file only for the m8 tool's CRC, once its `total_size`
already equals the file's length.
"""

from __future__ import annotations

import json

import numpy as np

from ...dtypes import struct_dtype
from ...errors import FormatError
from ...parsing import build
from ...registry import NOT_BINARY, Detection
from ...sniff import TooLarge, inflate_bounded, is_zlib
from .m8tool_store import is_sealed
from .native import LANES, block_header
from .sections import SECTIONS_MAGIC_CURRENT, SECTIONS_MAGIC_LEGACY, TRAILER_SIZE, m8sections_layouts
from .seed import MAGIC as SEED_MAGIC
from .t8r import t8r_file_header

BLOCK_HEADER = struct_dtype(block_header)
T8R_FILE_HEADER = build(t8r_file_header, {}, "header")   # 54 38 52 00 01 00 00 00
M8MEM_MAGIC = b"M8MEM"
M8MEGA_MAGIC = b"M8MEGA"
TEXT_CAPSULE = SEED_MAGIC + b","


def _is_native(data) -> bool:
    """Row 2: the MEM8 lane's magic at 8, lane 0 and version 1 in the first block header."""
    if len(data) < BLOCK_HEADER.itemsize:
        return False
    h = np.frombuffer(data, BLOCK_HEADER, count=1)[0]
    mem8 = LANES["mem8"]
    return h["magic"] == mem8["magic"] and h["lane"] == mem8["lane"] and h["version"] == 1


def _is_m8tool(data) -> bool:
    """Row 8: `total_size` = the file's length and the whole-file CRC seal holds."""
    try:
        return is_sealed(data)
    except FormatError:
        return False


def sections_end(data) -> int | None:
    """Offset just past the last declared section (the legacy layout followed by its sizes, lazily:
    up to 65,535 sections in a millisecond), or None if the sections do not parse."""
    try:
        return m8sections_layouts["legacy_mem8"].parse(data, only=("sections",), lazy=True).placed["sections"].end
    except FormatError:
        return None


def _is_legacy_sections(data) -> bool:
    """Row 9: u16 version 1 at 4, and the sections end exactly where the 4-byte crc32 trailer does."""
    try:
        header = m8sections_layouts["legacy_mem8"].parse(data, only=("header",)).header
    except FormatError:
        return False
    return header.version == 1 and sections_end(data) == len(data) - TRAILER_SIZE


def detect_m8(data) -> Detection | None:
    head = bytes(data[:len(T8R_FILE_HEADER)])
    if _is_native(data):
        return Detection("mem8", "native", "native MEM8/RAW8 block pairs")
    if head == T8R_FILE_HEADER:
        return Detection("t8r", None, "T8R record journal")
    if head.startswith(M8MEGA_MAGIC):
        return Detection("m8mega", None, "mega-session file (recognised, not decoded)")
    if head.startswith(M8MEM_MAGIC):
        return Detection("m8mem", None, "st --memory-anchor memories file")
    if head.startswith(SECTIONS_MAGIC_CURRENT):
        return Detection("m8sections", "current", "sectioned .m8 (M8\\x02\\x09)")
    if not head.startswith(SEED_MAGIC):
        return None
    if bytes(data[:len(TEXT_CAPSULE)]) == TEXT_CAPSULE:
        return Detection(NOT_BINARY, "text", "MEM8 text capsule (MEM8,... base64)")
    if _is_m8tool(data):
        return Detection("m8tool", None, "layout read by the m8 tool")
    if head.startswith(SECTIONS_MAGIC_LEGACY) and _is_legacy_sections(data):
        return Detection("m8sections", "legacy_mem8", "sectioned .m8 with the legacy MEM8 magic")
    return Detection("mem8", "seed", "seed MEM8 file (30-byte header + 4096-byte blocks)")


def sniff_m8(data) -> Detection | None:
    """Row 11: smart-tree's context-gatherer files are zlib streams of JSON (`.m8`, `.m8j`, `.m8z`)."""
    if not is_zlib(data):
        return None
    try:
        inflated = inflate_bounded(data)
    except TooLarge:
        return None
    if inflated is None:
        return None
    try:
        json.loads(inflated.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return Detection(NOT_BINARY, "zlib_json", "zlib-compressed JSON")
