"""CRC-32 seals (MEM8.md 2.4): IEEE CRC-32 (`zlib.crc32`) of a whole block with the seal's own four
bytes counted as zero.  The native blocks seal at 12..16; the m8 tool layout seals the whole file
the same way.  The seal's offset comes from the caller's declaration, its size from the seal
field's declaration (`SEAL`, the `crc32` field of those headers)."""

from __future__ import annotations

import zlib

from construct import Int32ul

SEAL = Int32ul                     # the `crc32` field of block_header and m8tool_header
_ZERO = bytes(SEAL.sizeof())


def seal_crc(data, at: int) -> int:
    """CRC-32 of `data` with the seal at `data[at:at+4]` replaced by zeros (no copy of `data`)."""
    view = memoryview(data)
    try:
        crc = zlib.crc32(view[:at])
        crc = zlib.crc32(_ZERO, crc)
        return zlib.crc32(view[at + len(_ZERO):], crc)
    finally:
        view.release()
