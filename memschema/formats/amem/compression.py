"""LZ4 with limits: a declared size is checked against what is plausible before anything is allocated.

agentic-memory: per node `u32 size || raw LZ4 block` (lz4_flex `compress_prepend_size`).
spec-v1: one LZ4 frame over all contents and metadata.
"""

from __future__ import annotations

import lz4.block
import lz4.frame
import numpy as np

from ...budget import BudgetExceeded, Meter
from ...errors import FormatError

# LZ4 cannot expand more than ~255:1; anything above is a lie in the size field.
MAX_RATIO = 255
MAX_OUTPUT = 1 << 32        # u32 sizes everywhere
LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"


def plausible(declared: int, compressed: int) -> bool:
    return 0 <= declared <= min(MAX_OUTPUT - 1, MAX_RATIO * compressed + 16)


def plausible_all(declared: np.ndarray, compressed: np.ndarray) -> np.ndarray:
    """`plausible` over int64 columns (a compressed length past MAX_OUTPUT cannot overflow)."""
    room = np.minimum(MAX_OUTPUT - 1, MAX_RATIO * np.minimum(compressed, MAX_OUTPUT) + 16)
    return (declared >= 0) & (declared <= room)


def over_budget(exc: BudgetExceeded) -> FormatError:
    return FormatError(exc.message, exc.path, exc.offset, "amem.budget_exceeded")


def decompress_block(block: bytes, declared: int, path: str, offset: int, meter: Meter | None = None,
                     key=None) -> bytes:
    """Decode one raw LZ4 block that must expand to exactly `declared` bytes; a plausible size is
    charged to `meter` as record `key` before anything is allocated."""
    if declared == 0:
        if block and block != b"\0":
            raise FormatError(f"size prefix 0 but {len(block)} bytes of LZ4 data follow", path, offset,
                              "amem.bad_lz4")
        return b""
    if not plausible(declared, len(block)):
        raise FormatError(f"size prefix {declared} is implausible for a {len(block)}-byte LZ4 block "
                          f"(max ratio {MAX_RATIO}:1)", path, offset, "amem.bad_lz4_size")
    if meter is not None:
        try:
            meter.charge(declared, path, offset, key, what="LZ4 block")
        except BudgetExceeded as exc:
            raise over_budget(exc) from None
    try:
        out = lz4.block.decompress(block, uncompressed_size=declared)
    except (lz4.block.LZ4BlockError, ValueError, MemoryError) as exc:
        raise FormatError(f"LZ4 block does not decode to {declared} bytes: {exc}", path, offset,
                          "amem.bad_lz4") from None
    if len(out) != declared:
        raise FormatError(f"LZ4 block decodes to {len(out)} bytes, the prefix says {declared}", path, offset,
                          "amem.bad_lz4_size")
    return out


def compress_block(data: bytes) -> bytes:
    """`size || LZ4 block`, the framing lz4_flex::compress_prepend_size writes (python-lz4's encoder)."""
    if not data:
        return b"\0\0\0\0\0"   # what lz4_flex writes for empty input
    return lz4.block.compress(data, store_size=True)


def decompress_frame(frame: bytes, declared: int, path: str, offset: int, meter: Meter | None = None) -> bytes:
    """Decode one LZ4 frame, refusing to produce more than `declared` bytes (charged to `meter`
    before anything is allocated)."""
    if not plausible(declared, len(frame)):
        raise FormatError(f"content_uncompressed {declared} is implausible for a {len(frame)}-byte LZ4 frame",
                          path, offset, "amem.bad_lz4_size")
    if meter is not None:
        try:
            meter.charge(declared, path, offset, key=("lz4_frame", offset), what="LZ4 frame")
        except BudgetExceeded as exc:
            raise over_budget(exc) from None
    try:
        dec = lz4.frame.LZ4FrameDecompressor()
        out = dec.decompress(frame, max_length=declared + 1)
        complete = dec.eof
    except (RuntimeError, ValueError, MemoryError, OSError) as exc:
        raise FormatError(f"LZ4 frame does not decode: {exc}", path, offset, "amem.bad_lz4") from None
    if len(out) != declared:
        raise FormatError(f"LZ4 frame decodes to {'more than ' if len(out) > declared else ''}{len(out)} bytes, "
                          f"content_uncompressed says {declared}", path, offset, "amem.bad_lz4_size")
    if not complete:
        raise FormatError("LZ4 frame is incomplete", path, offset, "amem.bad_lz4")
    return out


def compress_frame(data: bytes) -> bytes:
    return lz4.frame.compress(data)


def decompress_frame_prefix(frame: bytes, limit: int, step: int = 1 << 16) -> tuple[bytes, str | None]:
    """What a damaged or truncated LZ4 frame decodes to before the damage (at most `limit`
    bytes, and no more than MAX_RATIO times the input), and why decoding stopped (None: the
    frame is complete)."""
    limit = min(limit, MAX_RATIO * len(frame) + 16)
    dec = lz4.frame.LZ4FrameDecompressor()
    out = bytearray()
    for at in range(0, len(frame), step):
        try:
            out += dec.decompress(frame[at:at + step], max_length=limit + 1 - len(out))
        except (RuntimeError, ValueError, MemoryError, OSError) as exc:
            return bytes(out[:limit]), f"LZ4 frame does not decode past {len(out)} bytes: {exc}"
        if len(out) > limit:
            return bytes(out[:limit]), f"LZ4 frame decodes to more than {limit} bytes"
    return bytes(out), None if dec.eof else f"LZ4 frame is incomplete after {len(out)} bytes"
