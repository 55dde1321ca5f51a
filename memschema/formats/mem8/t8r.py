"""T8R record journals (`.t8`, smart-tree `RecordStore::open`, MEM8.md 2.8).

An 8-byte file header `54 38 52 00 01 00 00 00` ("T8R\\0", version 1), then bare frames back to
back: the 16-byte `t8r_frame_header` (declared with the native layouts, which embed it in the ST8
envelope) followed by `compressed_len` bytes.  No blocks, no locations.
"""

from __future__ import annotations

from construct import Bytes, Int32ul, Struct, this

from .native import t8r_frame_header

MAGIC = b"T8R\x00"
VERSION = 1

t8r_file_header = Struct(
    "magic" / Bytes(4) * "54 38 52 00 ('T8R\\0')",
    "version" / Int32ul * "1",
)

t8r_frame = Struct(
    "header" / t8r_frame_header * "16-byte frame header (lengths and CRCs)",
    "compressed" / Bytes(this.header.compressed_len) * "zlib stream (level 1) of the token-coded bincode record",
)

FILE_HEADER_SIZE = t8r_file_header.sizeof()
