"""CRC-32 seals (MEM8.md 2.4): IEEE CRC-32 (`zlib.crc32`) of a whole block with the seal's own four
bytes counted as zero.  The native blocks seal at 12..16; the m8 tool layout seals the whole file
the same way.  The seal's offset comes from the caller's declaration."""

from __future__ import annotations

import zlib

SEAL_SIZE = 4
_ZERO = bytes(SEAL_SIZE)


def seal_crc(data, at: int) -> int:
    """CRC-32 of `data` with `data[at:at+4]` replaced by zeros (no copy of `data`)."""
    view = memoryview(data)
    try:
        crc = zlib.crc32(view[:at])
        crc = zlib.crc32(_ZERO, crc)
        return zlib.crc32(view[at + SEAL_SIZE:], crc)
    finally:
        view.release()
