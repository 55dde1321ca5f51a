"""MWAL: the AgenticMemory MCP server's transport capture, `transport.wal` (AMEM-WAL.md Part 1).

File = 64-byte header, then entries back to back until the end of the file: no padding, no footer.
An entry is a fixed 45-byte head, `data_len` bytes of `data` (the raw JSON-RPC message), then the
bytes upstream skips when `data_len < total_len - 45` (`slack`, covered by no checksum).  All
integers little-endian; CRC-32/ISO-HDLC (= `zlib.crc32`) over `data` only.
"""

from __future__ import annotations

from construct import Bytes, Const, Default, Enum, Int8ul, Int16ul, Int32ul, Int64sl, Int64ul, Rebuild, Struct, this

from ...layout import EOF, Layout, Section

MAGIC = b"MWAL"
VERSION = 1                             # the only version upstream reads or writes
MAX_ENTRY_BYTES = 16 * 1024 * 1024      # MAX_ENTRY_BYTES: readers reject a larger total_len

direction = Enum(Int8ul, inbound=0, outbound=1)

mwal_header = Struct(
    "magic" / Const(MAGIC) * "4D 57 41 4C ('MWAL'); upstream refuses anything else ('invalid transport WAL magic')",
    "version" / Default(Int16ul, VERSION) * "1; upstream refuses any other ('unsupported transport WAL version')",
    "session_id" / Bytes(16) * "UUID v4 made when the file was created (RFC 4122 byte order); every entry of every "
                                "process carries it",
    "created_unix_secs" / Int64sl * "wall clock at creation, seconds since the Unix epoch (0 before 1970); ignored",
    "flags" / Default(Int32ul, 0) * "0; ignored by upstream",
    "reserved" / Default(Bytes(30), bytes(30)) * "zero; ignored by upstream",
)

def _entry_size(ctx) -> int:
    """total_len as the writer computes it: the head, the data and (never written by upstream) slack."""
    return ENTRY_HEAD_SIZE + len(ctx.data) + len(ctx.slack)


# The fixed head of an entry (also a numpy table over all entries, and the offsets of its fields).
mwal_entry_head = Struct(
    "total_len" / Rebuild(Int32ul, _entry_size) * "45 + data_len: the whole entry including this field; readers "
                                                  "accept 45..16 MiB",
    "crc32" / Int32ul * "CRC-32/ISO-HDLC (zlib.crc32) of data only, not of the fixed fields",
    "timestamp_ns" / Int64sl * "wall clock at capture, ns since the Unix epoch (0 before 1970)",
    "sequence" / Int64ul * "per-process counter: last good entry's sequence + 1 at server start, then +1 per entry",
    "direction" / direction * "0 = inbound (client -> server), 1 = outbound (server -> client); readers stop at any "
                              "other value",
    "session_id" / Bytes(16) * "the header's session_id (always, by upstream); 16 zero bytes read as the header's",
    "data_len" / Int32ul * "length of data",
)
ENTRY_HEAD_SIZE = mwal_entry_head.sizeof()
HEADER_SIZE = mwal_header.sizeof()

mwal_entry = Struct(
    *mwal_entry_head.subcons,
    "data" / Bytes(this.data_len) * "the raw message: an inbound line (trailing CR/LF removed) or Content-Length "
                                    "body, or an outbound response's compact JSON without the trailing newline",
    "slack" / Bytes(this.total_len - this.data_len - ENTRY_HEAD_SIZE) * "bytes after data up to total_len: never "
                                    "written by upstream, skipped by its readers, covered by no checksum",
)

mwal_layout = Layout(
    "amem_wal", "AgenticMemory MCP transport capture (transport.wal, MWAL)",
    "64-byte header, then entries back to back until the end of the file; bytes after the last entry "
    "that parses are the tail (a torn append, or what upstream's recovery scan cuts off)",
    Section("header", mwal_header, "64 bytes at offset 0", at=0),
    Section("entries", mwal_entry, "entries until the end of the file", count=EOF),
    extension="wal",
)
