"""Naming what is *not* a binary memory file: zlib JSON, zstd, JSON, text (tried after every format)."""

from __future__ import annotations

import json
import zlib

from .budget import current
from .registry import NOT_BINARY, UNKNOWN, Detection

ZLIB_HEADERS = (b"\x78\x9c", b"\x78\xda", b"\x78\x01", b"\x78\x5e")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class TooLarge(Exception):
    """The stream inflates to more than the limit (`args[0]`)."""


def inflate_bounded(data: bytes, limit: int | None = None) -> bytes | None:
    """Inflate a whole zlib stream; None if it is not one; TooLarge past `limit` bytes (default:
    the per-record budget in force, `max_record_bytes`: a zlib file is one record)."""
    limit = current().max_record_bytes if limit is None else limit
    d = zlib.decompressobj()
    try:
        out = d.decompress(bytes(data), limit)
    except zlib.error:
        return None
    if d.unconsumed_tail:
        raise TooLarge(limit)
    return out if d.eof else None


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return True


def sniff(data) -> Detection:
    head = bytes(data[:4])
    if len(data) == 0:
        return Detection(NOT_BINARY, "empty", "empty file")
    if head[:2] in ZLIB_HEADERS:
        try:
            inflated = inflate_bounded(data)
        except TooLarge as exc:
            return Detection(NOT_BINARY, "zlib", f"zlib-compressed data (over {exc.args[0]} bytes inflated)")
        if inflated is not None:
            if _is_json(inflated):
                return Detection(NOT_BINARY, "zlib_json", "zlib-compressed JSON")
            return Detection(NOT_BINARY, "zlib", "zlib-compressed data")
    if head == ZSTD_MAGIC:
        return Detection(NOT_BINARY, "zstd", "zstd-compressed data")
    start = bytes(data[:64]).lstrip(b"\xef\xbb\xbf").lstrip()
    if start[:1] in (b"{", b"["):
        return Detection(NOT_BINARY, "json", "JSON text")
    sample = bytes(data[: 1 << 20])
    if b"\x00" not in sample:
        try:
            sample.decode("utf-8")
            return Detection(NOT_BINARY, "text", "UTF-8 text")
        except UnicodeDecodeError as exc:
            if len(data) > len(sample) and exc.start >= len(sample) - 4:
                return Detection(NOT_BINARY, "text", "UTF-8 text")
    return Detection(UNKNOWN, None, "no known memory-file layout matched")
