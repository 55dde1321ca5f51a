"""Naming what is *not* a binary memory file: zlib, zstd, JSON, text (tried after every format and
every format's own look-alike rule, `Format.sniff`).  Reads a bounded prefix of the file."""

from __future__ import annotations

import zlib

from .budget import current
from .registry import NOT_BINARY, UNKNOWN, Detection

ZLIB_HEADERS = (b"\x78\x9c", b"\x78\xda", b"\x78\x01", b"\x78\x5e")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_STEP = 1 << 20


class TooLarge(Exception):
    """The stream inflates to more than the limit (`args[0]`)."""


def is_zlib(data) -> bool:
    return bytes(data[:2]) in ZLIB_HEADERS


def inflate_bounded(data, limit: int | None = None) -> bytes | None:
    """Inflate a whole zlib stream; None if it is not one; TooLarge past `limit` bytes of output
    (or of input; default: the per-record budget in force, `max_record_bytes`: a zlib file is one
    record).  The input is read piece by piece, never copied whole."""
    limit = current().max_record_bytes if limit is None else limit
    d = zlib.decompressobj()
    out = bytearray()
    view = memoryview(data)
    pos = 0
    try:
        while not d.eof:
            if d.unconsumed_tail:
                piece = d.unconsumed_tail
            elif pos < len(view):
                if pos > limit:
                    raise TooLarge(limit)
                piece = view[pos:pos + _STEP]
                pos += len(piece)
            else:
                break
            out += d.decompress(piece, limit + 1 - len(out))
            if len(out) > limit:
                raise TooLarge(limit)
    except zlib.error:
        return None
    finally:
        view.release()
    return bytes(out) if d.eof else None


def sniff(data) -> Detection:
    head = bytes(data[:4])
    if len(data) == 0:
        return Detection(NOT_BINARY, "empty", "empty file")
    if is_zlib(head):
        try:
            inflated = inflate_bounded(data)
        except TooLarge as exc:
            return Detection(NOT_BINARY, "zlib", f"zlib-compressed data (over {exc.args[0]} bytes inflated)")
        if inflated is not None:
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
