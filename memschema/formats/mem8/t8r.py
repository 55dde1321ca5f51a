"""T8R record journals (`.t8`, smart-tree `RecordStore::open`, MEM8.md 2.8).

An 8-byte file header `54 38 52 00 01 00 00 00` ("T8R\\0", version 1), then bare frames back to
back until the end of the file: the 16-byte `t8r_frame_header` (declared with the native layouts,
which embed it in the ST8 envelope) followed by `compressed_len` bytes.  No blocks, no locations.
Bytes after the last complete frame are a torn append.
"""

from __future__ import annotations

from construct import Bytes, Default, Int32ul, Struct, this

from ...layout import EOF, Layout, Section
from .native import t8r_frame_header

MAGIC = b"T8R\x00"
VERSION = 1

t8r_file_header = Struct(
    "magic" / Default(Bytes(4), MAGIC) * "54 38 52 00 ('T8R\\0'); upstream refuses anything else",
    "version" / Default(Int32ul, VERSION) * "1; upstream refuses anything else",
)

t8r_frame = Struct(
    "header" / t8r_frame_header * "16-byte frame header (lengths and CRCs)",
    "compressed" / Bytes(this.header.compressed_len) * "zlib stream (level 1) of the token-coded bincode record",
)

t8r_layout = Layout(
    "t8r", "T8R record journal (smart-tree RecordStore::open)",
    "8-byte file header, then frames (16-byte header + compressed_len bytes) back to back until the end "
    "of the file; bytes that do not form a complete frame are a torn append",
    Section("header", t8r_file_header, "8 bytes at offset 0"),
    Section("frames", t8r_frame, "frames until the end of the file", count=EOF),
    extension="t8",
)

FILE_HEADER_SIZE = t8r_file_header.sizeof()
